/// Turns a response into the bytes of its head (RFC 9112 §4–6):
///
///     HTTP/1.1 200 OK␍␊
///     Date: Sun, 06 Nov 1994 08:49:37 GMT␍␊
///     Content-Type: text/plain; charset=utf-8␍␊
///     Content-Length: 14␍␊
///     Connection: close␍␊
///     ␍␊
///
/// It owns the framing headers (Date, Content-Length, Transfer-Encoding, Connection), so a handler cannot
/// get them wrong, and it decides whether a body goes out at all: never for HEAD, 1xx, 204 or 304.
public struct ResponseSerializer: Sendable {
    public var serverName: String? {
        didSet { serverLine = Self.serverLine(serverName) }
    }
    /// `Server: httpkit␍␊`, made once: every response carries it, and it was written as a name, ": ", a value
    /// and CRLF each time.
    private var serverLine: [UInt8]

    public init(serverName: String? = "httpkit") {
        self.serverName = serverName
        serverLine = Self.serverLine(serverName)
    }

    private static func serverLine(_ name: String?) -> [UInt8] { name.map { Array("Server: \($0)\r\n".utf8) } ?? [] }

    /// The head bytes for `response`, answering a request with `requestMethod`.
    /// - Parameters:
    ///   - keepAlive: whether the connection stays open afterwards (`Connection: close` is sent when not).
    ///   - version: the request's version; an HTTP/1.0 client that keeps the connection gets `Connection: keep-alive`.
    ///   - date: the IMF-fixdate to send, from `HTTPDate`.
    public func head(for response: HTTPResponse, requestMethod: HTTPMethod, version: HTTPVersion = .http1_1,
                     keepAlive: Bool, framing: BodyFraming? = nil, date: String) -> [UInt8] {
        head(for: response, version: version, keepAlive: keepAlive,
             framing: framing ?? BodyFraming.choose(for: response.body, version: version), date: date, followedBy: nil)
    }

    /// The head, and `body` right behind it when given, in one buffer allocated at its final size.
    ///
    /// Every response goes through here, so the head is not grown string by string: the length of each
    /// line is known before any is written (the status line and a cached response's field lines are
    /// ready-made octets; Date, Server and the framing header are a name, a value and CRLF), then one
    /// allocation receives them all, each one copied once. Measured with callgrind, the appends it
    /// replaces cost about 1,000 instructions a response, and a 1 KB body copied behind a 256-octet
    /// reservation moved the whole buffer once more.
    func head(for response: HTTPResponse, version: HTTPVersion, keepAlive: Bool, framing: BodyFraming,
              date: String, followedBy body: [UInt8]?, reusing spare: consuming [UInt8]? = nil) -> [UInt8] {
        // A 101 names the protocol it switches to in `Connection: upgrade` and `Upgrade` (RFC 9110 §7.8);
        // every other response's Connection header is the serializer's to write.
        let switching = response.status.code == 101
        let statusLine = response.status.statusLine
        let wire = switching ? nil : response.headers.wire // a cached response's field lines (HTTPHeaders.prepareWire)
        let length: Int? // the value of Content-Length, when the framing sends one
        var framingLine: StaticString? = nil
        switch framing {
        case .contentLength(let count) where response.status.allowsBody: length = count
        case .none where response.status.allowsBody: length = 0
        case .chunked where response.status.allowsBody: length = nil; framingLine = "Transfer-Encoding: chunked\r\n"
        default: length = nil
        }
        var connectionLine: StaticString? = nil
        if switching {
            // The connection goes on in the new protocol: no Connection: close.
        } else if !keepAlive || framing == .untilClose {
            connectionLine = "Connection: close\r\n"
        } else if version == .http1_0 {
            connectionLine = "Connection: keep-alive\r\n"
        }

        var size = statusLine.count + Self.fieldSize("Date", date) + serverLine.count
        if let wire {
            size += wire.count
        } else {
            for field in response.headers where Self.writes(field, switching: switching) {
                size += Self.fieldSize(field.name, field.value)
            }
        }
        if let length { size += 18 + HeadWriter.decimalDigits(length) } // "Content-Length: " and CRLF
        size += (framingLine?.utf8CodeUnitCount ?? 0) + (connectionLine?.utf8CodeUnitCount ?? 0) + 2 + (body?.count ?? 0)

        var head = HeadWriter.buffer(count: size, reusing: spare.take())
        let written = head.withUnsafeMutableBufferPointer { buffer in
            var out = HeadWriter(buffer)
            out.write(statusLine)
            out.write("Date: " as StaticString) // a literal's octets, not a String's reached through a closure
            out.write(date)
            out.writePair(ASCII.cr, ASCII.lf)
            out.write(serverLine)
            if let wire {
                out.write(wire)
            } else {
                for field in response.headers where Self.writes(field, switching: switching) {
                    out.writeField(field.name, field.value)
                }
            }
            if let length {
                out.write("Content-Length: ")
                out.writeDecimal(length)
                out.writePair(ASCII.cr, ASCII.lf)
            }
            if let framingLine { out.write(framingLine) }
            if let connectionLine { out.write(connectionLine) }
            out.writePair(ASCII.cr, ASCII.lf)
            if let body { out.write(body) }
            return out.position
        }
        assert(written == size, "ResponseSerializer: the head was sized \(size) but holds \(written)")
        if written < size { head.removeLast(size - written) } // never sends zeros, even if a size were wrong
        return head
    }

    /// Whether a handler's field goes into the head: the framing fields are the serializer's own, except a
    /// 101's `Connection: upgrade`.
    private static func writes(_ field: HeaderField, switching: Bool) -> Bool {
        !isFramingHeader(field.name) || (switching && ASCII.caseInsensitiveEquals(field.name, "Connection"))
    }

    /// `Name: value␍␊`, in octets.
    static func fieldSize(_ name: String, _ value: String) -> Int { name.utf8.count + value.utf8.count + 4 }

    /// Whether the body bytes follow the head: not for HEAD, and not for statuses that have no body.
    public func sendsBody(_ response: HTTPResponse, requestMethod: HTTPMethod) -> Bool {
        response.sendsBody(answering: requestMethod)
    }

    /// Head and in-memory body in one buffer, for one write. A file body is not included.
    public func serialize(_ response: HTTPResponse, requestMethod: HTTPMethod, version: HTTPVersion = .http1_1,
                          keepAlive: Bool, date: String) -> [UInt8] {
        var body: [UInt8]? = nil
        if sendsBody(response, requestMethod: requestMethod), case .bytes(let bytes) = response.body { body = bytes }
        return head(for: response, version: version, keepAlive: keepAlive,
                    framing: BodyFraming.choose(for: response.body, version: version), date: date, followedBy: body)
    }

    static func isFramingHeader(_ name: String) -> Bool {
        // Checked once per response header on the hot path: by length first, then the one candidate.
        switch name.utf8.count {
        case 4: return ASCII.caseInsensitiveEquals(name, "Date")
        case 6: return ASCII.caseInsensitiveEquals(name, "Server")
        case 10: return ASCII.caseInsensitiveEquals(name, "Connection")
        case 14: return ASCII.caseInsensitiveEquals(name, "Content-Length")
        case 17: return ASCII.caseInsensitiveEquals(name, "Transfer-Encoding")
        default: return false
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy of its contiguous storage (a native String always has
    /// one), instead of iterating the UTF8View byte by byte: the response head is built from a dozen strings.
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}

/// Writes a response head into memory sized for it beforehand (`ResponseSerializer.head`): a cursor over
/// the buffer, each piece copied once, no capacity checks between pieces.
struct HeadWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var position = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// An array of `count` octets to write into, allocated through `reserveCapacity`, which this module
    /// specializes for octets. The initializers that hand out uninitialized memory (`Array(unsafeUninitialized-
    /// Capacity:)`, `Array(repeating:count:)`) went through the runtime's generic allocation, which looks up the
    /// storage type on every call: about 530 instructions a response (callgrind).
    ///
    /// Its octets are copied from a block of zeros (one memcpy per 4 KB); appending `repeatElement(0, …)`
    /// stored them one at a time.
    ///
    /// `spare`: an array already sent (the event loop keeps a few): its storage is written again when it is
    /// the only holder and large enough, so a response costs no allocation and no `free` (~600 instructions
    /// of a 1 KB answer's ~11,000, callgrind). Shared storage is left alone: copy-on-write allocates anew.
    static func buffer(count: Int, reusing spare: consuming [UInt8]? = nil) -> [UInt8] {
        // Taken, not copied: a second reference would make the storage shared, and writing it would copy it.
        var bytes = spare.take() ?? []
        // The spare's own octets (sent already) stand in for the zeros: every one of the `count` is written
        // over, so only what it lacks is filled.
        if bytes.count > count { bytes.removeLast(bytes.count - count) }
        bytes.reserveCapacity(count)
        zeros.withUnsafeBufferPointer { block in
            while bytes.count < count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: block.prefix(count - bytes.count)))
            }
        }
        return bytes
    }

    private static let zeros = [UInt8](repeating: 0, count: 4096)

    @inline(__always)
    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        precondition(position + bytes.count <= buffer.count, "HeadWriter: the head was sized too small")
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        UnsafeMutableRawPointer(buffer.baseAddress! + position).copyMemory(from: source, byteCount: bytes.count)
        position += bytes.count
    }

    @inline(__always)
    mutating func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    @inline(__always)
    mutating func write(_ text: StaticString) {
        write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func write(_ text: String) {
        // A native Swift string is contiguous UTF-8; anything else is written octet by octet.
        if text.utf8.withContiguousStorageIfAvailable({ write(UnsafeRawBufferPointer($0)) }) != nil { return }
        for byte in text.utf8 {
            precondition(position < buffer.count, "HeadWriter: the head was sized too small")
            buffer[position] = byte
            position += 1
        }
    }

    mutating func writeField(_ name: String, _ value: String) {
        write(name)
        writePair(ASCII.colon, ASCII.space)
        write(value)
        writePair(ASCII.cr, ASCII.lf)
    }

    /// Two octets stored directly: a call to memcpy costs more than the copy for ": " and CRLF.
    @inline(__always)
    mutating func writePair(_ first: UInt8, _ second: UInt8) {
        precondition(position + 2 <= buffer.count, "HeadWriter: the head was sized too small")
        buffer[position] = first
        buffer[position + 1] = second
        position += 2
    }

    /// `value` in decimal, written from its last digit back (no String made for it).
    mutating func writeDecimal(_ value: Int) {
        let digits = Self.decimalDigits(value)
        precondition(position + digits <= buffer.count, "HeadWriter: the head was sized too small")
        var rest = value.magnitude, index = position + digits - 1
        repeat {
            buffer[index] = UInt8(truncatingIfNeeded: 48 + rest % 10)
            rest /= 10
            index -= 1
        } while rest > 0
        if value < 0 { buffer[position] = UInt8(ascii: "-") }
        position += digits
    }

    /// How many octets `writeDecimal(value)` writes (a minus sign included).
    static func decimalDigits(_ value: Int) -> Int {
        var count = value < 0 ? 2 : 1, rest = value.magnitude
        while rest >= 10 { rest /= 10; count += 1 }
        return count
    }
}
