/// A parsed request. `target` is exactly as sent; `path` and `query` are its parts, still percent-encoded.
public struct HTTPRequest: Sendable, Hashable {
    public var method: HTTPMethod
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The client's address, when the server records it (for the access log).
    public var remoteAddress: String?
    /// Over TLS, what the handshake agreed on (`TLSv1.3 TLS_AES_256_GCM_SHA384 sni=localhost alpn=http/1.1`);
    /// nil over plain TCP.
    public var tls: String?

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
                headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The path of the target: origin-form up to `?`; for absolute-form (`http://host/p`) the part after the authority.
    public var path: String {
        // The common case, checked on bytes: origin-form with no query or fragment is the target itself
        // (the String shares its storage; no copy, no search for "://").
        let plain = target.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.first == UInt8(ascii: "/") && !bytes.contains { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
        }
        if plain == true { return target }
        var rest = Substring(target)
        if let schemeEnd = rest.firstRange(of: "://") {
            rest = rest[schemeEnd.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let question = rest.firstIndex(of: "?") { rest = rest[..<question] }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        return String(rest)
    }

    /// The query string without `?`, or nil when there is none.
    public var query: String? {
        guard let question = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: question)...])
    }

    public var host: String? { headers["Host"] }

    /// Whether the client asked to keep the connection open (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        if headers.contains("Connection", token: "close") { return false }
        if version == .http1_1 { return true }
        return headers.contains("Connection", token: "keep-alive")
    }

}
