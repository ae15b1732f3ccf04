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
        // One pass over the client's fields (each name's role told by its length and octets, `ProxyFieldName`):
        // hop-by-hop fields stop here, the framing is the proxy's (Content-Length is written again by `head`),
        // Expect was answered here, and the forwarding fields are gathered to be written again at the end.
        // It does what removing the hop-by-hop fields and then `remove`, `values` and `set` for each name did,
        // in the same order, without a scan of every field per name.
        let listed = HopByHop.ListedNames(request.headers)
        var headers: [HeaderField] = []
        headers.reserveCapacity(request.headers.count + 4) // Host, X-Forwarded-For, -Proto and Via may be added
        var hasHost = false, hasTransferEncoding = false, hasUpgrade = false, contentLength: String?
        var previousForwardedFor: [String] = [], previousVia: [String] = []
        for field in request.headers.fields {
            let role = ProxyFieldName(field.name)
            switch role {
            case .transferEncoding: hasTransferEncoding = true
            case .upgrade: hasUpgrade = true
            case .contentLength: contentLength = contentLength ?? field.value
            default: break
            }
            if listed.isHopByHop(field.name, role) { continue }
            switch role {
            case .contentLength, .expect, .forwardedProto: continue
            case .forwardedFor where clientAddress != nil: previousForwardedFor.append(field.value)
            case .via: previousVia.append(field.value)
            case .host: hasHost = true; headers.append(field)
            default: headers.append(field)
            }
        }
        if !hasHost {
            // An HTTP/1.0 client may leave Host out; the upstream hears HTTP/1.1, which requires it (RFC 9112
            // §3.2): the authority of an absolute-form target, or else an empty value, as that section says.
            headers.append(HeaderField("Host", Self.authority(of: request.target) ?? ""))
        }
        if let clientAddress {
            // §7.6.1 says nothing of X-Forwarded-For; it is the de facto list of the hops a request came
            // through, the client first. A client's own value is kept and extended, as nginx does.
            headers.append(HeaderField("X-Forwarded-For", Self.list(previousForwardedFor, extendedWith: clientAddress)))
        }
        headers.append(HeaderField("X-Forwarded-Proto", scheme))
        // Via: the received protocol (1.1 for HTTP/1.1, 1.0 for HTTP/1.0) and who received it (§7.6.3).
        let received = Self.viaEntry(request.version, via)
        headers.append(HeaderField("Via", Self.list(previousVia, extendedWith: received)))
        var fields = HTTPHeaders(headers)
        if hasUpgrade && HopByHop.asksForWebSocket(request) {
            // Tunnelled: the upstream must see the upgrade request to answer 101 (RFC 9110 §7.8).
            fields.add("Connection", "Upgrade")
            fields.add("Upgrade", "websocket")
        }
        self.headers = fields
        if hasTransferEncoding {
            bodyLength = nil
        } else {
            bodyLength = contentLength.flatMap { Int($0) } ?? request.body.count
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
        switch method {
        case .get, .head, .options, .trace, .put, .delete: return true
        default: return false
        }
    }

    /// The earlier hops' values of a list field, joined, with this hop's `entry` after them (no join at all
    /// when there were none: `joined` of an empty array still cost ~180 instructions a message).
    static func list(_ previous: [String], extendedWith entry: String) -> String {
        guard !previous.isEmpty else { return entry }
        let joined = previous.joined(separator: ", ")
        return joined.isEmpty ? entry : joined + ", " + entry
    }

    /// `1.1 httpkit`: the protocol version a message was received with and who received it (§7.6.3).
    static func viaEntry(_ version: HTTPVersion, _ via: String) -> String {
        // The usual two, made once: formatting the numbers and joining cost ~1,300 instructions a message.
        if via == "httpkit" {
            if version == .http1_1 { return Self.via11 }
            if version == .http1_0 { return Self.via10 }
        }
        var entry = String(version.major)
        entry.append(".")
        entry.append(String(version.minor))
        entry.append(" ")
        entry.append(via)
        return entry
    }

    private static let via11 = "1.1 httpkit", via10 = "1.0 httpkit"

    /// The head's bytes, always HTTP/1.1 (the proxy speaks 1.1 upstream, whatever the client spoke).
    public var head: [UInt8] { head(reusing: nil) }

    /// The head written into `spare`, an array already sent (the event loop keeps a few), when it is the
    /// only holder and large enough: no allocation and no `free` for it (`HeadWriter.buffer`).
    public func head(reusing spare: consuming [UInt8]?) -> [UInt8] {
        // Sized first, then each piece copied once (`HeadWriter`, as for a response head): appending each
        // String's octets to a growing array cost ~170 instructions a piece (callgrind).
        var contentLength: Int?
        switch bodyLength {
        case let length? where length > 0 || Self.expectsBody(method): contentLength = length
        default: break
        }
        var size = method.rawValue.utf8.count + 1 + target.utf8.count + 11 // "M T HTTP/1.1" CRLF
        for field in headers { size += ResponseSerializer.fieldSize(field.name, field.value) }
        if bodyLength == nil { size += 28 } // "Transfer-Encoding: chunked" CRLF
        if let contentLength { size += 18 + HeadWriter.decimalDigits(contentLength) } // "Content-Length: " CRLF
        size += 2
        var head = HeadWriter.buffer(count: size, reusing: spare.take())
        head.withUnsafeMutableBufferPointer { buffer in
            var out = HeadWriter(buffer)
            out.write(method.rawValue)
            out.write(" " as StaticString)
            out.write(target)
            out.write(" HTTP/1.1\r\n" as StaticString)
            for field in headers { out.writeField(field.name, field.value) }
            if bodyLength == nil { out.write("Transfer-Encoding: chunked\r\n" as StaticString) }
            if let contentLength {
                out.write("Content-Length: " as StaticString)
                out.writeDecimal(contentLength)
                out.writePair(ASCII.cr, ASCII.lf)
            }
            out.writePair(ASCII.cr, ASCII.lf)
            precondition(out.position == size, "ProxyRequest.head: sized \(size), wrote \(out.position)")
        }
        return head
    }

    /// One piece of the body as it goes upstream: as is after a Content-Length, a chunk when chunked.
    public func frame(_ piece: [UInt8]) -> [UInt8] {
        bodyLength == nil ? ChunkedEncoder.chunk(piece) : piece
    }

    /// What ends the body upstream: the last chunk when chunked, nothing after a Content-Length.
    public var bodyEnd: [UInt8] { bodyLength == nil ? ChunkedEncoder.lastChunk : [] }

    /// POST, PUT and PATCH say `Content-Length: 0` for an empty body (RFC 9110 §8.6: a user agent
    /// SHOULD send it when a body is expected), so an upstream does not answer 411.
    static func expectsBody(_ method: HTTPMethod) -> Bool {
        switch method {
        case .post, .put, .patch: return true
        default: return false
        }
    }
}

/// How the proxy rewrites an upstream's response head for the client: the hop-by-hop fields are dropped
/// (the client's connection has its own), and `Via` says who relayed it (RFC 9110 §7.6.3).
public enum ProxyResponse {
    public static func clientHeaders(_ upstream: HTTPHeaders, version: HTTPVersion, via: String = "httpkit",
                                     switchingToWebSocket: Bool = false) -> HTTPHeaders {
        // One pass, as for the request: hop-by-hop fields out, Content-Length out (the framing is re-written
        // for the client's connection), earlier Via entries gathered, this hop's added after them at the end.
        let listed = HopByHop.ListedNames(upstream)
        var headers: [HeaderField] = []
        headers.reserveCapacity(upstream.count + 3)
        var previousVia: [String] = []
        for field in upstream.fields {
            let role = ProxyFieldName(field.name)
            if listed.isHopByHop(field.name, role) { continue }
            switch role {
            case .contentLength: continue
            case .via: previousVia.append(field.value)
            default: headers.append(field)
            }
        }
        if switchingToWebSocket {
            headers.append(HeaderField("Connection", "Upgrade"))
            headers.append(HeaderField("Upgrade", "websocket"))
        }
        let received = ProxyRequest.viaEntry(version, via)
        headers.append(HeaderField("Via", ProxyRequest.list(previousVia, extendedWith: received)))
        return HTTPHeaders(headers)
    }
}
