/// Reads an upstream's response as it streams in, for a proxy that must pass the body on piece by piece
/// (a 1 GB download may not sit in memory): the head as one event, then body pieces, then the end.
/// The client side of `RequestParser`, without I/O: bytes in, events out, tested on bytes.
///
/// The framing rules are RFC 9112 §6.3's, in its order: no body for HEAD, 1xx, 204 and 304; chunked
/// when Transfer-Encoding ends in chunked (and then Content-Length is ignored — and the connection is not
/// reused, because a response with both is how a desynchronised upstream looks); Content-Length; or the
/// body runs until the upstream closes. Interim 1xx responses (other than 101) are read and skipped.
public struct UpstreamResponseReader: Sendable {
    public enum Event: Sendable, Hashable {
        /// The final response's status line and header fields.
        case head(status: HTTPStatus, version: HTTPVersion, headers: HTTPHeaders)
        case body([UInt8])
        /// The response is complete; `reusable` says whether the connection may carry another request.
        case end(reusable: Bool)
    }

    enum State: Sendable {
        case statusLine, headers, body(remaining: Int), chunked(ChunkedDecoder), untilClose, done, failed(RequestError)
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.statusLine
    private var status = HTTPStatus.ok
    private var version = HTTPVersion.http1_1
    private var headers = HTTPHeaders()
    /// What the header lines said that decides the framing and the connection's reuse, noted as each line is
    /// parsed (`HeaderFieldParser.FramingField`), so the end of the head looks fields up only when they came.
    private var sawContentLength = false, sawTransferEncoding = false, sawConnection = false
    /// The first Content-Length field's value, and whether there were more (then all are compared).
    private var firstContentLength = "", moreContentLengths = false
    /// The last response's Strings, given back for the same octets at the same place (`RepeatedStrings`): a pooled
    /// upstream answers with the same names, and mostly the same values, every time.
    private var strings = RepeatedStrings()
    private var headerBytes = 0
    private var reusable = true
    private var peerClosed = false
    private var requestMethod: HTTPMethod
    /// The framing of the final response's body, once its head has been read.
    public private(set) var framing = BodyFraming.none
    /// True once any byte of a response arrived (a retry is only safe before that).
    public private(set) var receivedAnything = false
    /// The largest response head accepted (a hostile upstream cannot make the proxy buffer without end).
    public static let maxHeadBytes = 64 * 1024
    private static let limits = RequestLimits(maxRequestLineBytes: 8192, maxHeaderBytes: maxHeadBytes,
                                              maxHeaderCount: 1000, maxBodyBytes: Int.max / 2)

    public init(requestMethod: HTTPMethod) {
        self.requestMethod = requestMethod
    }

    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
        if !bytes.isEmpty { receivedAnything = true }
    }

    public mutating func receive<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        compact()
        let before = buffer.count
        buffer.append(contentsOf: bytes)
        if buffer.count > before { receivedAnything = true }
    }

    /// The upstream closed its side: a body delimited by the close ends here; anything else cut short is an error.
    public mutating func receiveEnd() { peerClosed = true }

    /// True when the response has been read to its end.
    public var isComplete: Bool { if case .done = state { return true } else { return false } }

    /// The next event, nil when more bytes are needed; throws when the upstream broke the protocol or
    /// closed in the middle of a response.
    public mutating func next() throws(RequestError) -> Event? {
        do {
            return try advance()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func advance() throws(RequestError) -> Event? {
        while true {
            if pendingEnd {
                pendingEnd = false
                // Bytes beyond the framed end mean the upstream and the proxy disagree on framing: never reuse.
                return .end(reusable: reusable && framing != .untilClose && !peerClosed && start == buffer.count)
            }
            switch state {
            case .failed(let error):
                throw error
            case .done:
                return nil
            case .statusLine, .headers:
                guard let line = LineScanner.nextLine(in: buffer, start: start, scanFrom: start) else {
                    if buffer.count - start + headerBytes > Self.maxHeadBytes { throw .badRequest("the upstream's response head is over \(Self.maxHeadBytes) bytes") }
                    if peerClosed { throw .badRequest(receivedAnything ? "the upstream closed in the middle of a response head" : "the upstream closed the connection without a response") }
                    return nil
                }
                if line.bareLF { throw LineScanner.bareLF("upstream's response head") }
                headerBytes += line.next - start
                if headerBytes > Self.maxHeadBytes { throw .badRequest("the upstream's response head is over \(Self.maxHeadBytes) bytes") }
                start = line.next
                if case .statusLine = state {
                    try buffer.withUnsafeBufferPointer { bytes throws(RequestError) in
                        try parseStatusLine(UnsafeBufferPointer(rebasing: bytes[line.content]))
                    }
                    state = .headers
                } else if !line.content.isEmpty {
                    guard headers.count < Self.limits.maxHeaderCount else {
                        throw .badRequest("the upstream's response head has more than \(Self.limits.maxHeaderCount) fields")
                    }
                    let (field, framing) = try buffer.withUnsafeBufferPointer { bytes throws(RequestError) in
                        try HeaderFieldParser.parse(UnsafeBufferPointer(rebasing: bytes[line.content]), reusing: &strings)
                    }
                    switch framing {
                    case .contentLength?:
                        if sawContentLength { moreContentLengths = true } else { firstContentLength = field.value }
                        sawContentLength = true
                    case .transferEncoding?: sawTransferEncoding = true
                    default: if !sawConnection, field.name.utf8.count == 10 { sawConnection = ASCII.caseInsensitiveEquals(field.name, "Connection") }
                    }
                    if headers.count == 0 { headers.reserveCapacity(RequestParser.typicalFieldCount) }
                    headers.add(field)
                } else if let event = try endOfHead() {
                    return event
                }
            case .body(let remaining):
                let take = min(buffer.count - start, remaining)
                guard take > 0 else {
                    if peerClosed { throw .badRequest("the upstream closed with \(remaining) bytes of the body still to come") }
                    return nil
                }
                let piece = Array(buffer[start..<(start + take)])
                start += take
                state = take == remaining ? .done : .body(remaining: remaining - take)
                pendingEnd = take == remaining
                return .body(piece)
            case .chunked(var decoder):
                var piece: [UInt8] = []
                let done = try decoder.decode(buffer, start: &start, into: &piece, limits: Self.limits)
                state = done ? .done : .chunked(decoder)
                if done { pendingEnd = true }
                if !piece.isEmpty { return .body(piece) }
                if done { continue }
                if peerClosed { throw .badRequest("the upstream closed in the middle of a chunked body") }
                return nil
            case .untilClose:
                if start < buffer.count {
                    let piece = Array(buffer[start...])
                    start = buffer.count
                    return .body(piece)
                }
                guard peerClosed else { return nil }
                state = .done
                pendingEnd = true
            }
        }
    }

    /// Set when the body's last byte was handed out: the next call reports `.end`.
    private var pendingEnd = false

    /// `HTTP/1.x SP 3DIGIT SP reason-phrase` (RFC 9112 §4), read on the line's octets in place.
    private mutating func parseStatusLine(_ line: UnsafeBufferPointer<UInt8>) throws(RequestError) {
        // "HTTP/1.1 200" is 12 octets; the space and the reason after it may be absent (§4: the reason can be
        // empty, and some servers leave out the space too).
        guard line.count >= 12, ASCII.equals(UnsafeBufferPointer(rebasing: line[..<7]), "HTTP/1."),
              ASCII.isDigit(line[7]), line[8] == ASCII.space,
              ASCII.isDigit(line[9]), ASCII.isDigit(line[10]), ASCII.isDigit(line[11]),
              line.count == 12 || line[12] == ASCII.space else {
            throw .badRequest("the upstream sent a malformed status line \(RequestError.quote(line))")
        }
        version = HTTPVersion(major: 1, minor: Int(line[7]) - 0x30)
        let code = (Int(line[9]) - 0x30) * 100 + (Int(line[10]) - 0x30) * 10 + Int(line[11]) - 0x30
        strings.rewind()
        // Always the first String of a head, even empty, so each field keeps its place for the next response.
        let reason = strings.string(UnsafeBufferPointer(rebasing: line[min(13, line.count)...]))
        status = HTTPStatus(code: code, reason: reason)
    }

    /// The blank line after the header fields: decide the body's framing (RFC 9112 §6.3).
    private mutating func endOfHead() throws(RequestError) -> Event? {
        let head = Event.head(status: status, version: version, headers: headers)
        let code = status.code
        if (100...199).contains(code) && code != 101 {
            // An interim response (100 Continue, 103 Early Hints): read and skipped; the final one follows.
            resetHead()
            return nil
        }
        if sawConnection ? headers.contains("Connection", token: "close") || (version == .http1_0 && !headers.contains("Connection", token: "keep-alive"))
                         : version == .http1_0 {
            reusable = false
        }
        if requestMethod == .head || code == 101 || code == 204 || code == 304 || (100...199).contains(code) {
            framing = .none
            state = .done
            pendingEnd = true
            if code == 101 { reusable = false } // the connection now belongs to another protocol
        } else if sawTransferEncoding {
            if sawContentLength { reusable = false } // both: RFC 9112 §6.3 item 3
            if headers.listElements("Transfer-Encoding").last.map({ ASCII.caseInsensitiveEquals($0, "chunked") }) == true {
                framing = .chunked
                state = .chunked(ChunkedDecoder())
            } else {
                framing = .untilClose
                state = .untilClose
            }
        } else if sawContentLength {
            guard let length = contentLength() else {
                throw .badRequest("the upstream sent an invalid Content-Length \(RequestError.quote(headers.values("Content-Length").joined(separator: ", ")))")
            }
            framing = .contentLength(length)
            state = length == 0 ? .done : .body(remaining: length)
            pendingEnd = length == 0
        } else {
            framing = .untilClose
            state = .untilClose
        }
        return head
    }

    /// The Content-Length's value: one field of digits (nearly every response), or fields and list elements
    /// that all say the same number (RFC 9112 §6.3 item 5); nil when they disagree or one is not a number.
    private func contentLength() -> Int? {
        if !moreContentLengths, !firstContentLength.isEmpty, firstContentLength.utf8.allSatisfy(ASCII.isDigit) {
            return Int(firstContentLength) // nil past Int
        }
        let elements = Set(headers.listElements("Content-Length"))
        guard elements.count == 1, let value = elements.first, value.utf8.allSatisfy(ASCII.isDigit) else { return nil }
        return Int(value)
    }

    private mutating func resetHead() {
        headers = HTTPHeaders()
        headerBytes = 0
        sawContentLength = false
        sawTransferEncoding = false
        sawConnection = false
        firstContentLength = ""
        moreContentLengths = false
        state = .statusLine
    }

    /// Starts reading the next response on the same connection (after `.end(reusable: true)`). The buffer's
    /// room and the last response's Strings are kept: a pooled connection reads one answer after another.
    public mutating func reset(requestMethod: HTTPMethod) {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        resetHead()
        status = .ok
        version = .http1_1
        reusable = true
        peerClosed = false
        pendingEnd = false
        framing = .none
        receivedAnything = false
        self.requestMethod = requestMethod
    }

    private mutating func compact() {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 64 * 1024 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    /// Bytes that arrived after the response's end: after a 101, the first bytes of the new protocol.
    public var leftoverCount: Int { buffer.count - start }

    /// Takes the bytes after the response's end (after a 101: the tunnel's first bytes).
    public mutating func takeLeftover() -> [UInt8] {
        defer { start = buffer.count }
        return Array(buffer[start...])
    }
}
