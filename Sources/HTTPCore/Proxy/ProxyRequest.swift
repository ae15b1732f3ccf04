/// How a reverse proxy rewrites a client's request head before it sends it upstream (RFC 9110 §7.6).
///
///     GET /users/1 HTTP/1.1                 GET /users/1 HTTP/1.1
///     Host: shop.example                    Host: shop.example              kept: the upstream may route on it
///     Connection: keep-alive, X-Hop   ──▶   X-Forwarded-For: 10.0.0.7       the client, as the proxy saw it
///     X-Hop: 1                              X-Forwarded-Proto: http
///     Accept: */*                           Via: 1.1 httpkit                §7.6.3: one entry per hop
///                                           Accept: */*
///
/// The body's framing is the proxy's to choose (the parser already decoded it): Content-Length when the
/// client gave one, chunked when it did not. A client's `Expect: 100-continue` was answered by the proxy
/// itself, so it is not forwarded (the upstream would answer it again, and the client would see two).
public struct ProxyRequest: Sendable, Hashable {
    /// The request line and the header fields, without any framing field.
    public var method: HTTPMethod
    public var target: String
    public var headers: HTTPHeaders
    /// The body's length when the client said it (Content-Length); nil with a chunked body; 0 for none.
    public var bodyLength: Int?

    /// The upstream's view of `request` (its head: the body, if any, follows separately).
    /// - Parameters:
    ///   - clientAddress: the peer address of the client's connection, appended to `X-Forwarded-For`.
    ///   - scheme: `http` or `https`, the protocol the client used to reach the proxy.
    ///   - via: this proxy's pseudonym in `Via`.
    public init(_ request: HTTPRequest, clientAddress: String?, scheme: String = "http", via: String = "httpkit") {
        method = request.method
        // An absolute-form target (`GET http://host/p`) becomes origin-form for the upstream (RFC 9112 §3.2.2).
        target = request.target.hasPrefix("/") || request.target == "*" ? request.target : request.path + (request.query.map { "?" + $0 } ?? "")
        var headers = HopByHop.removing(from: request.headers)
        headers.remove("Content-Length")
        headers.remove("Expect")
        if !headers.contains("Host") {
            // An HTTP/1.0 client may leave Host out; the upstream hears HTTP/1.1, which requires it (RFC 9112
            // §3.2): the authority of an absolute-form target, or else an empty value, as that section says.
            headers.add("Host", Self.authority(of: request.target) ?? "")
        }
        if let clientAddress {
            // §7.6.1 says nothing of X-Forwarded-For; it is the de facto list of the hops a request came
            // through, the client first. A client's own value is kept and extended, as nginx does.
            let previous = headers.values("X-Forwarded-For").joined(separator: ", ")
            headers.set("X-Forwarded-For", previous.isEmpty ? clientAddress : previous + ", " + clientAddress)
        }
        headers.set("X-Forwarded-Proto", scheme)
        // Via: the received protocol (1.1 for HTTP/1.1, 1.0 for HTTP/1.0) and who received it (§7.6.3).
        let received = "\(request.version.major).\(request.version.minor) \(via)"
        let previousVia = headers.values("Via").joined(separator: ", ")
        headers.set("Via", previousVia.isEmpty ? received : previousVia + ", " + received)
        if HopByHop.asksForWebSocket(request) {
            // Tunnelled: the upstream must see the upgrade request to answer 101 (RFC 9110 §7.8).
            headers.add("Connection", "Upgrade")
            headers.add("Upgrade", "websocket")
        }
        self.headers = headers
        if request.headers.contains("Transfer-Encoding") {
            bodyLength = nil
        } else {
            bodyLength = request.headers["Content-Length"].flatMap { Int($0) } ?? request.body.count
        }
    }

    /// `host:port` of an absolute-form target (`http://host:port/path`), or nil for origin-form.
    static func authority(of target: String) -> String? {
        guard let schemeEnd = target.firstRange(of: "://") else { return nil }
        let rest = target[schemeEnd.upperBound...]
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }

    /// Whether a body follows the head (a Content-Length above 0, or chunked).
    public var hasBody: Bool { bodyLength != 0 }

    /// True for the methods a failed attempt may be sent again for (RFC 9110 §9.2.2): sending them twice
    /// has the effect of sending them once.
    public var isIdempotent: Bool {
        [.get, .head, .options, .trace, .put, .delete].contains(method)
    }

    /// The head's bytes, always HTTP/1.1 (the proxy speaks 1.1 upstream, whatever the client spoke).
    public var head: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: "\(method.rawValue) \(target) HTTP/1.1\r\n".utf8)
        for field in headers {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ASCII.colonSpace)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: ASCII.crlf)
        }
        switch bodyLength {
        case nil: out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case let length? where length > 0 || Self.expectsBody(method): out.append(contentsOf: "Content-Length: \(length)\r\n".utf8)
        default: break
        }
        out.append(contentsOf: ASCII.crlf)
        return out
    }

    /// One piece of the body as it goes upstream: as is after a Content-Length, a chunk when chunked.
    public func frame(_ piece: [UInt8]) -> [UInt8] {
        bodyLength == nil ? ChunkedEncoder.chunk(piece) : piece
    }

    /// What ends the body upstream: the last chunk when chunked, nothing after a Content-Length.
    public var bodyEnd: [UInt8] { bodyLength == nil ? ChunkedEncoder.lastChunk : [] }

    /// POST, PUT and PATCH say `Content-Length: 0` for an empty body (RFC 9110 §8.6: a user agent
    /// SHOULD send it when a body is expected), so an upstream does not answer 411.
    static func expectsBody(_ method: HTTPMethod) -> Bool { [.post, .put, .patch].contains(method) }
}

/// How the proxy rewrites an upstream's response head for the client: the hop-by-hop fields are dropped
/// (the client's connection has its own), and `Via` says who relayed it (RFC 9110 §7.6.3).
public enum ProxyResponse {
    public static func clientHeaders(_ upstream: HTTPHeaders, version: HTTPVersion, via: String = "httpkit",
                                     switchingToWebSocket: Bool = false) -> HTTPHeaders {
        var headers = HopByHop.removing(from: upstream)
        if switchingToWebSocket {
            headers.add("Connection", "Upgrade")
            headers.add("Upgrade", "websocket")
        }
        headers.remove("Content-Length") // the framing is re-written for the client's connection
        let received = "\(version.major).\(version.minor) \(via)"
        let previous = headers.values("Via").joined(separator: ", ")
        headers.set("Via", previous.isEmpty ? received : previous + ", " + received)
        return headers
    }
}
