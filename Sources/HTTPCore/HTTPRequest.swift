/// A parsed request. `target` is exactly as sent; `path` and `query` are its parts, still percent-encoded.
public struct HTTPRequest: Sendable, Hashable {
    public var method: HTTPMethod
    public var target: String {
        didSet { shape = TargetShape(target) }
    }
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The client's address, when the server records it (for the access log).
    public var remoteAddress: String?
    /// Over TLS, what the handshake agreed on (`TLSv1.3 TLS_AES_256_GCM_SHA384 sni=localhost alpn=http/1.1`);
    /// nil over plain TCP.
    public var tls: String?
    /// What one look at the target found when it was set: `path` and `hasNormalPath` are asked by the router,
    /// Basic auth and the file cache for every request, and each ask used to scan the target again.
    @usableFromInline private(set) var shape: TargetShape

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
                headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        shape = TargetShape(target)
    }

    /// The same, with the target's shape already found on its bytes (the parser, as it reads the request line).
    init(method: HTTPMethod, target: String, shape: TargetShape, version: HTTPVersion, headers: HTTPHeaders, body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.shape = shape
    }

    /// The path of the target: origin-form up to `?`; for absolute-form (`http://host/p`) the part after the authority.
    public var path: String {
        // The common case, found when the target was set: origin-form with no query or fragment is the
        // target itself (the String shares its storage; no copy, no search for "://").
        if shape.targetIsPath { return target }
        var rest = Substring(target)
        // Absolute-form (RFC 9112 §3.2.2): the path follows the authority. Only there: an origin-form target
        // starts with `/`, and a `://` in its query is part of the query (`/x?u=http://h/admin` is `/x`).
        if !rest.hasPrefix("/"), let schemeEnd = rest.firstRange(of: "://") {
            rest = rest[schemeEnd.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let question = rest.firstIndex(of: "?") { rest = rest[..<question] }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        return String(rest)
    }

    /// Whether `path` is its own normal form (`URLPath.isNormal`): no `%`, `.` or `..` segment, empty segment…
    /// Known from when the target was set for origin-form targets, as nearly all are.
    public var hasNormalPath: Bool { shape.pathIsNormal ?? URLPath.isNormal(path) }

    /// For an origin-form target whose path is normal, the octets of its first segment (`/users/1` → 5,
    /// `/` → 0), found with the rest of the target's shape; nil otherwise. Routes and protected prefixes whose
    /// first segment has another length cannot match, and are ruled out without looking at the path.
    @inlinable public var normalPathFirstSegmentLength: Int? {
        shape.pathIsNormal == true && shape.firstSegmentLength != .max ? Int(shape.firstSegmentLength) : nil
    }

    /// `URLPath.normalize(path)`, without looking again at what `hasNormalPath` already knows: the segments the
    /// router matches and the file handler resolves.
    public func normalizedPath() throws(RequestError) -> URLPath.Normalized {
        try URLPath.normalize(path, isNormal: shape.pathIsNormal)
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

/// The two facts about a target that the hot path asks for, found in one look at its bytes.
@usableFromInline struct TargetShape: Sendable, Hashable {
    /// Origin-form (`/…`) with no `?` or `#`: the path is the whole target.
    var targetIsPath = false
    /// Whether the path is normal, for an origin-form target; nil for the other forms (worked out when asked).
    @usableFromInline var pathIsNormal: Bool?
    /// The octets of the path's first segment (`/users/1` → 5, `/` → 0), for an origin-form target; `.max` for
    /// 65,535 and more. Two bytes, not an `Int`: with them the shape still fits where the request had room, and a
    /// request, moved several times on its way to a handler, costs no more to move (an `Int` added about 25
    /// instructions a request, callgrind).
    @usableFromInline var firstSegmentLength: UInt16 = 0

    init(_ target: String) {
        self = target.utf8.withContiguousStorageIfAvailable(TargetShape.init(bytes:))
            ?? TargetShape() // a bridged, non-contiguous String: `path` then looks for itself
    }

    /// The shape of a target's octets.
    init(bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.first == ASCII.slash else { return }
        let (pathEnd, isNormal, firstSegmentEnd) = URLPath.scanTarget(bytes)
        targetIsPath = pathEnd == bytes.count
        pathIsNormal = isNormal
        firstSegmentLength = UInt16(clamping: firstSegmentEnd - 1)
    }

    init() {}
}
