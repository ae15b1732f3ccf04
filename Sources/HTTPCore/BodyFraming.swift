/// How the end of a message body is marked (RFC 9112 §6.3). The one framing type of the project: the
/// serializer chooses one for what the server sends; the response parser and the wire dump read one off
/// what they receive.
public enum BodyFraming: Sendable, Hashable, CustomStringConvertible {
    /// No body at all: HEAD, 1xx, 204 and 304 responses, a request with neither header.
    case none
    /// `Content-Length: N`: the reader knows where the body ends, and the connection stays usable.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`: a body of unknown length on a connection that stays usable.
    case chunked
    /// No length; the body ends when the server closes the connection (HTTP/1.0 style). Only where a stage
    /// chooses it, because the client cannot tell a complete body from a cut one.
    case untilClose

    /// The framing for `body` answering a client of `version`: Content-Length when the length is known,
    /// otherwise chunked for HTTP/1.1 and until-close for HTTP/1.0 (which has no chunked encoding).
    public static func choose(for body: ResponseBody, version: HTTPVersion) -> BodyFraming {
        if let length = body.length { return .contentLength(length) }
        return version == .http1_1 ? .chunked : .untilClose
    }

    public var description: String {
        switch self {
        case .none: return "no body"
        case .contentLength(let length): return "Content-Length \(length)"
        case .chunked: return "chunked"
        case .untilClose: return "read until close"
        }
    }
}
