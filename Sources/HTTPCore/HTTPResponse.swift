/// A response a handler returns. The body is bytes in memory or a file that the connection layer streams
/// (with sendfile) without reading it whole.
public struct HTTPResponse: Sendable, Hashable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: ResponseBody

    public init(status: HTTPStatus, headers: HTTPHeaders = [:], body: ResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Whether body bytes follow the head: not for HEAD (RFC 9110 §9.3.2), and not for 1xx, 204 and 304,
    /// which have no body (RFC 9112 §6.3).
    public func sendsBody(answering method: HTTPMethod) -> Bool {
        method != .head && status.allowsBody
    }

    /// A `text/plain` response.
    public static func text(_ status: HTTPStatus, _ text: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var all = headers
        all.set("Content-Type", "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: all, body: .bytes(Array(text.utf8)))
    }

    /// A `text/plain` response with no charset parameter, byte for byte what the Codecrafters HTTP-server
    /// course expects from its `/echo` and `/user-agent` routes.
    public static func plainText(_ text: String) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: .bytes(Array(text.utf8)))
    }

    /// An error response: the status, and the reason in the body for a person. When the parser refused the
    /// request, the server closes the connection after it, because the byte stream can no longer be
    /// trusted; a handler's error (a bad path, say) leaves the connection usable.
    public static func error(_ error: RequestError) -> HTTPResponse {
        text(error.status, "\(error.status.code) \(error.status.reason): \(error.reason)\n")
    }
}

/// The body of a response.
public enum ResponseBody: Sendable, Hashable {
    case empty
    case bytes([UInt8])
    /// `length` bytes of the file at `path`, from `offset`.
    case file(path: String, offset: Int = 0, length: Int)
    /// A body whose length is not known up front: chunked for HTTP/1.1, until close for HTTP/1.0.
    case stream(StreamedBody)
    /// Pieces sent one after another (a multipart/byteranges body: part heads in memory, ranges of a
    /// file). Each piece is `.bytes` or `.file`.
    indirect case parts([ResponseBody])

    /// The number of body bytes when known up front (nil for a stream).
    public var length: Int? {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return bytes.count
        case .file(_, _, let length): return length
        case .stream: return nil
        case .parts(let parts):
            var total = 0
            for part in parts {
                guard let length = part.length else { return nil }
                total += length
            }
            return total
        }
    }
}
