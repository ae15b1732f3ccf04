/// One HTTP/2 frame (RFC 9113 §4.1):
///
///     +-----------------------------------------------+
///     |                 Length (24)                   |
///     +---------------+---------------+---------------+
///     |   Type (8)    |   Flags (8)   |
///     +-+-------------+---------------+-------------------------------+
///     |R|                 Stream Identifier (31)                      |
///     +=+=============================================================+
///     |                   Frame Payload (Length octets)             ...
///     +---------------------------------------------------------------+
///
/// The length counts the payload only, not the 9 octets of the header. R is reserved: sent as 0, ignored on
/// receipt. Stream 0 is the connection itself (SETTINGS, PING, GOAWAY, connection-level WINDOW_UPDATE).
///
/// `payload` holds the type and the flags that mean something for it, already checked (§6); the padding of
/// DATA, HEADERS and PUSH_PROMISE is removed and only its length kept, since flow control counts it.
public struct HTTP2Frame: Sendable, Hashable {
    public var streamID: UInt32
    public var payload: HTTP2FramePayload

    public init(streamID: UInt32, payload: HTTP2FramePayload) {
        self.streamID = streamID & 0x7FFF_FFFF
        self.payload = payload
    }

    /// The length of the frame header, before the payload.
    public static let headerLength = 9

    public var type: HTTP2FrameType { payload.type }

    /// The frame's bytes on the wire: the header, then the payload.
    public func encoded() -> [UInt8] {
        let (flags, body) = payload.flagsAndBody()
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerLength + body.count)
        Self.appendHeader(length: body.count, type: type, flags: flags, streamID: streamID, to: &out)
        out += body
        return out
    }

    /// Appends the 9-octet header of a frame whose payload the caller appends (or sends from a file) itself:
    /// the hot paths (HEADERS of a response, DATA) write frames straight into their output this way, with no
    /// `HTTP2Frame` value and no payload array in between.
    public static func appendHeader(length: Int, type: HTTP2FrameType, flags: UInt8, streamID: UInt32, to out: inout [UInt8]) {
        let start = out.count
        out += headerRoom
        writeHeader(length: length, type: type, flags: flags, streamID: streamID, into: &out, at: start)
    }

    /// Nine zero octets: room for a frame header, written over by `writeHeader`.
    public static let headerRoom = [UInt8](repeating: 0, count: headerLength)

    /// Writes a frame header over the 9 octets at `out[start...]`: room kept before a payload whose length
    /// was not known until it was written (a header block encoded in place).
    public static func writeHeader(length: Int, type: HTTP2FrameType, flags: UInt8, streamID: UInt32, into out: inout [UInt8], at start: Int) {
        out[start] = UInt8(truncatingIfNeeded: length >> 16)
        out[start + 1] = UInt8(truncatingIfNeeded: length >> 8)
        out[start + 2] = UInt8(truncatingIfNeeded: length)
        out[start + 3] = type.rawValue
        out[start + 4] = flags
        let id = streamID & 0x7FFF_FFFF // the reserved bit is sent as 0 (§4.1)
        out[start + 5] = UInt8(truncatingIfNeeded: id >> 24)
        out[start + 6] = UInt8(truncatingIfNeeded: id >> 16)
        out[start + 7] = UInt8(truncatingIfNeeded: id >> 8)
        out[start + 8] = UInt8(truncatingIfNeeded: id)
    }
}

/// What a frame carries, by type (§6). `padding` is nil for an unpadded frame, else the number of padding
/// octets (the PADDED flag with a Pad Length of 0 is `padding: 0`, one octet longer than no padding).
public enum HTTP2FramePayload: Sendable, Hashable {
    /// §6.1. The data counts against flow control with its padding: see `flowControlledLength`.
    case data([UInt8], endStream: Bool, padding: Int? = nil)
    /// §6.2. A field block fragment; `endHeaders` false means CONTINUATION frames follow. The priority fields
    /// (deprecated by RFC 9113 §5.3.2) are read and kept but mean nothing here.
    ///
    /// The fragment is a slice: a parsed frame's is a slice of the bytes received, not a copy (a request's
    /// block was copied into its own array, allocated and freed per request: ~300 instructions, callgrind).
    case headers(fieldBlock: ArraySlice<UInt8>, endStream: Bool, endHeaders: Bool, priority: HTTP2Priority? = nil, padding: Int? = nil)
    /// §6.3. Deprecated; read and ignored.
    case priority(HTTP2Priority)
    /// §6.4. Ends one stream at once.
    case rstStream(HTTP2ErrorCode)
    /// §6.5. The parameters in order (later ones override earlier ones), or an acknowledgement (no parameters).
    case settings([HTTP2Setting], ack: Bool = false)
    /// §6.6. A server reserves `promisedStreamID` for a response it will push.
    case pushPromise(promisedStreamID: UInt32, fieldBlock: [UInt8], endHeaders: Bool, padding: Int? = nil)
    /// §6.7. Eight octets the peer echoes back with ACK.
    case ping([UInt8], ack: Bool = false)
    /// §6.8. The connection is closing; streams above `lastStreamID` were not processed and may be retried.
    case goAway(lastStreamID: UInt32, errorCode: HTTP2ErrorCode, debugData: [UInt8] = [])
    /// §6.9. Adds to a flow-control window (of the stream, or of the connection on stream 0).
    case windowUpdate(increment: UInt32)
    /// §6.10. The rest of a field block.
    case continuation(fieldBlock: ArraySlice<UInt8>, endHeaders: Bool)
    /// A type this endpoint does not know: "Implementations MUST ignore and discard frames of unknown types" (§4.1).
    case unknown(type: UInt8, flags: UInt8, payload: [UInt8])

    public var type: HTTP2FrameType {
        switch self {
        case .data: return .data
        case .headers: return .headers
        case .priority: return .priority
        case .rstStream: return .rstStream
        case .settings: return .settings
        case .pushPromise: return .pushPromise
        case .ping: return .ping
        case .goAway: return .goAway
        case .windowUpdate: return .windowUpdate
        case .continuation: return .continuation
        case .unknown(let type, _, _): return HTTP2FrameType(rawValue: type)
        }
    }

    /// The octets of a DATA frame that count against the flow-control windows: all of its payload, Pad Length
    /// and padding included (§6.1). Zero for other frames.
    public var flowControlledLength: Int {
        guard case .data(let data, _, let padding) = self else { return 0 }
        return data.count + (padding.map { $0 + 1 } ?? 0)
    }

    /// The flags octet and the payload as sent.
    func flagsAndBody() -> (UInt8, [UInt8]) {
        switch self {
        case .data(let data, let endStream, let padding):
            return padded(data, padding, flags: endStream ? HTTP2Flags.endStream : 0)
        case .headers(let block, let endStream, let endHeaders, let priority, let padding):
            var flags = (endStream ? HTTP2Flags.endStream : 0) | (endHeaders ? HTTP2Flags.endHeaders : 0)
            var body: [UInt8] = []
            if let priority {
                flags |= HTTP2Flags.priority
                body += priority.encoded()
            }
            body += block
            return padded(body, padding, flags: flags)
        case .priority(let priority):
            return (0, priority.encoded())
        case .rstStream(let code):
            var body: [UInt8] = []
            appendUInt32(code.rawValue, to: &body)
            return (0, body)
        case .settings(let settings, let ack):
            var body: [UInt8] = []
            for setting in settings {
                body += [UInt8(setting.identifier.rawValue >> 8), UInt8(setting.identifier.rawValue & 0xFF)]
                appendUInt32(setting.value, to: &body)
            }
            return (ack ? HTTP2Flags.ack : 0, body)
        case .pushPromise(let promised, let block, let endHeaders, let padding):
            var body: [UInt8] = []
            appendUInt32(promised & 0x7FFF_FFFF, to: &body)
            return padded(body + block, padding, flags: endHeaders ? HTTP2Flags.endHeaders : 0)
        case .ping(let data, let ack):
            return (ack ? HTTP2Flags.ack : 0, data)
        case .goAway(let lastStreamID, let code, let debugData):
            var body: [UInt8] = []
            appendUInt32(lastStreamID & 0x7FFF_FFFF, to: &body)
            appendUInt32(code.rawValue, to: &body)
            return (0, body + debugData)
        case .windowUpdate(let increment):
            var body: [UInt8] = []
            appendUInt32(increment & 0x7FFF_FFFF, to: &body)
            return (0, body)
        case .continuation(let block, let endHeaders):
            return (endHeaders ? HTTP2Flags.endHeaders : 0, Array(block))
        case .unknown(_, let flags, let payload):
            return (flags, payload)
        }
    }

    private func padded(_ body: [UInt8], _ padding: Int?, flags: UInt8) -> (UInt8, [UInt8]) {
        guard let requested = padding else { return (flags, body) }
        // The Pad Length field is one octet (§6.1): at most 255 octets of padding.
        let padding = min(max(requested, 0), 255)
        return (flags | HTTP2Flags.padded, [UInt8(padding)] + body + [UInt8](repeating: 0, count: padding))
    }
}

/// The stream-dependency fields of PRIORITY and of HEADERS with the PRIORITY flag (RFC 7540 §5.3, deprecated by
/// RFC 9113 §5.3.2 but still on the wire): E, a 31-bit stream dependency, and a weight (wire value 0–255 for
/// weights 1–256).
public struct HTTP2Priority: Sendable, Hashable {
    public var exclusive: Bool
    public var dependency: UInt32
    public var weight: UInt8

    public init(exclusive: Bool = false, dependency: UInt32 = 0, weight: UInt8 = 15) {
        self.exclusive = exclusive
        self.dependency = dependency & 0x7FFF_FFFF
        self.weight = weight
    }

    init(_ bytes: ArraySlice<UInt8>) {
        let word = readUInt32(bytes, at: bytes.startIndex)
        self.init(exclusive: word & 0x8000_0000 != 0, dependency: word, weight: bytes[bytes.startIndex + 4])
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        appendUInt32((exclusive ? 0x8000_0000 : 0) | dependency, to: &out)
        out.append(weight)
        return out
    }
}

/// The frame types of §6 (§11.2). Others exist (ALTSVC, ORIGIN, PRIORITY_UPDATE) and are unknown here.
public struct HTTP2FrameType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let data = HTTP2FrameType(rawValue: 0x0)
    public static let headers = HTTP2FrameType(rawValue: 0x1)
    public static let priority = HTTP2FrameType(rawValue: 0x2)
    public static let rstStream = HTTP2FrameType(rawValue: 0x3)
    public static let settings = HTTP2FrameType(rawValue: 0x4)
    public static let pushPromise = HTTP2FrameType(rawValue: 0x5)
    public static let ping = HTTP2FrameType(rawValue: 0x6)
    public static let goAway = HTTP2FrameType(rawValue: 0x7)
    public static let windowUpdate = HTTP2FrameType(rawValue: 0x8)
    public static let continuation = HTTP2FrameType(rawValue: 0x9)

    public var description: String {
        switch rawValue {
        case 0x0: return "DATA"
        case 0x1: return "HEADERS"
        case 0x2: return "PRIORITY"
        case 0x3: return "RST_STREAM"
        case 0x4: return "SETTINGS"
        case 0x5: return "PUSH_PROMISE"
        case 0x6: return "PING"
        case 0x7: return "GOAWAY"
        case 0x8: return "WINDOW_UPDATE"
        case 0x9: return "CONTINUATION"
        default: return "unknown frame type 0x\(String(rawValue, radix: 16))"
        }
    }
}

/// The flag bits (§6). Their meaning depends on the type; a flag a type does not define is ignored (§4.1).
public enum HTTP2Flags {
    /// DATA, HEADERS: the sender's last frame on this stream.
    public static let endStream: UInt8 = 0x01
    /// SETTINGS, PING: this frame acknowledges the peer's.
    public static let ack: UInt8 = 0x01
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the field block is complete.
    public static let endHeaders: UInt8 = 0x04
    /// DATA, HEADERS, PUSH_PROMISE: a Pad Length octet starts the payload, that many zeros end it.
    public static let padded: UInt8 = 0x08
    /// HEADERS: the priority fields follow (the Pad Length, if any).
    public static let priority: UInt8 = 0x20
}

func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: value >> 24))
    out.append(UInt8(truncatingIfNeeded: value >> 16))
    out.append(UInt8(truncatingIfNeeded: value >> 8))
    out.append(UInt8(truncatingIfNeeded: value))
}

/// The big-endian 32-bit number at `bytes[index...index + 3]` (indices of the slice's base, as slices keep them).
func readUInt32(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
    UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
}
