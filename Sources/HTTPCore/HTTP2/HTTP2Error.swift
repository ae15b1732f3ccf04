/// Why an HTTP/2 endpoint ends a stream or the whole connection (RFC 9113 §5.4): an error code from §7, whether
/// it is a stream error (RST_STREAM on that stream, the connection goes on) or a connection error (GOAWAY, then
/// close), and a reason for people. The reason may go in GOAWAY's debug data; it never changes what the peer does.
public struct HTTP2Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the error applies (§5.4.1, §5.4.2).
    public enum Scope: Sendable, Hashable {
        /// The whole connection: send GOAWAY with this code, then close.
        case connection
        /// One stream: send RST_STREAM on it with this code; the other streams are not affected.
        case stream(UInt32)
    }

    public var code: HTTP2ErrorCode
    public var scope: Scope
    public var reason: String

    public init(_ code: HTTP2ErrorCode, _ scope: Scope = .connection, _ reason: String) {
        self.code = code
        self.scope = scope
        self.reason = reason
    }

    public static func connection(_ code: HTTP2ErrorCode, _ reason: String) -> HTTP2Error {
        HTTP2Error(code, .connection, reason)
    }

    public static func stream(_ id: UInt32, _ code: HTTP2ErrorCode, _ reason: String) -> HTTP2Error {
        HTTP2Error(code, .stream(id), reason)
    }

    /// HPACK's only error (RFC 7541 §2.4 and RFC 9113 §4.3): the decoder cannot go on, and since its dynamic
    /// table is shared by every stream of the connection, neither can the connection.
    public static func compression(_ reason: String) -> HTTP2Error {
        HTTP2Error(.compressionError, .connection, reason)
    }

    public var description: String {
        switch scope {
        case .connection: return "connection error \(code): \(reason)"
        case .stream(let id): return "stream error on stream \(id), \(code): \(reason)"
        }
    }
}

/// The error codes of RFC 9113 §7, as carried by RST_STREAM and GOAWAY. Codes this table does not know are
/// kept as they are: "Unknown or unsupported error codes MUST NOT trigger any special behavior" (§7).
public struct HTTP2ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Not an error: a graceful GOAWAY, or RST_STREAM when a response no longer needs the request body.
    public static let noError = HTTP2ErrorCode(rawValue: 0x0)
    public static let protocolError = HTTP2ErrorCode(rawValue: 0x1)
    public static let internalError = HTTP2ErrorCode(rawValue: 0x2)
    public static let flowControlError = HTTP2ErrorCode(rawValue: 0x3)
    public static let settingsTimeout = HTTP2ErrorCode(rawValue: 0x4)
    public static let streamClosed = HTTP2ErrorCode(rawValue: 0x5)
    public static let frameSizeError = HTTP2ErrorCode(rawValue: 0x6)
    public static let refusedStream = HTTP2ErrorCode(rawValue: 0x7)
    public static let cancel = HTTP2ErrorCode(rawValue: 0x8)
    public static let compressionError = HTTP2ErrorCode(rawValue: 0x9)
    public static let connectError = HTTP2ErrorCode(rawValue: 0xA)
    public static let enhanceYourCalm = HTTP2ErrorCode(rawValue: 0xB)
    public static let inadequateSecurity = HTTP2ErrorCode(rawValue: 0xC)
    public static let http11Required = HTTP2ErrorCode(rawValue: 0xD)

    public var description: String {
        switch rawValue {
        case 0x0: return "NO_ERROR"
        case 0x1: return "PROTOCOL_ERROR"
        case 0x2: return "INTERNAL_ERROR"
        case 0x3: return "FLOW_CONTROL_ERROR"
        case 0x4: return "SETTINGS_TIMEOUT"
        case 0x5: return "STREAM_CLOSED"
        case 0x6: return "FRAME_SIZE_ERROR"
        case 0x7: return "REFUSED_STREAM"
        case 0x8: return "CANCEL"
        case 0x9: return "COMPRESSION_ERROR"
        case 0xA: return "CONNECT_ERROR"
        case 0xB: return "ENHANCE_YOUR_CALM"
        case 0xC: return "INADEQUATE_SECURITY"
        case 0xD: return "HTTP_1_1_REQUIRED"
        default: return "unknown error code 0x\(String(rawValue, radix: 16))"
        }
    }
}
