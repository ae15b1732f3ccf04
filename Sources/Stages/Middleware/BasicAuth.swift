import HTTPCore

/// HTTP Basic authentication (RFC 7617) for every path under some prefixes: the decision on its own, so
/// that the middleware and the upload path ask the same question — an upload to a protected path is
/// refused before a byte of it touches the disk.
public struct BasicAuth: Sendable {
    public let prefixes: [String]
    /// The prefixes' bytes, made once: compared with a normal path's bytes without building strings.
    private let prefixBytes: [[UInt8]]
    /// The lengths of the prefixes' first segments (`/admin` → 5): a normal path under a prefix has the same
    /// first segment, so a path whose first segment has none of these lengths is not guarded. All lengths when
    /// a prefix is empty (it guards every path, whatever its first segment).
    private let firstSegmentLengths: FirstSegmentLengths
    public let user: String
    private let expected: [UInt8]
    public let realm: String

    public init(protecting prefixes: [String], user: String, password: String, realm: String = "httpkit") {
        self.prefixes = prefixes
        self.prefixBytes = prefixes.map { Array($0.utf8) }
        // A prefix that does not start with `/` is under no normal path, and leaves no length.
        self.firstSegmentLengths = prefixBytes.contains { $0.isEmpty } ? .all
            : prefixBytes.filter { $0.first == ASCII.slash }.reduce(into: FirstSegmentLengths()) { lengths, prefix in
                lengths.insert((prefix.dropFirst().firstIndex(of: ASCII.slash) ?? prefix.endIndex) - 1)
            }
        self.user = user
        self.expected = Array("\(user):\(password)".utf8)
        self.realm = realm
    }

    public enum Decision: Sendable {
        /// The path is not guarded.
        case open
        /// Guarded, and the credentials are right.
        case allowed
        /// Guarded, and the credentials are missing or wrong: the 401 that challenges the client.
        case refused(HTTPResponse)
    }

    public func decide(_ request: HTTPRequest) -> Decision {
        guard guards(request) else { return .open }
        let header = request.headers["Authorization"]
        if let credentials = header.flatMap({ BasicCredentials(authorization: $0) }),
           Self.constantTimeEquals(credentials.pair, expected) {
            return .allowed
        }
        let reason = header == nil ? "this path needs a user name and password" : "wrong user name or password"
        var response = HTTPResponse.text(.unauthorized, "401 Unauthorized: \(reason) (HTTP Basic auth)\n")
        response.headers.set("WWW-Authenticate", "Basic realm=\"\(realm)\", charset=\"UTF-8\"")
        return .refused(response)
    }

    /// Whether the request's path, as the router will serve it, is one of the prefixes or under one. The
    /// middleware asks this first: most requests are not guarded, and need no `Decision` made.
    @inline(__always) public func guards(_ request: HTTPRequest) -> Bool {
        guard !prefixes.isEmpty else { return false }
        // Most paths are ruled out by their first segment's length, here in the caller (the whole test out of
        // line cost a call and a large function's stack frame for each request: about 30 instructions, callgrind).
        if let length = request.normalPathFirstSegmentLength, !firstSegmentLengths.contains(length) { return false }
        return guardsOnItsOctets(request)
    }

    /// `guards` past the length test: the path's octets against each prefix.
    private func guardsOnItsOctets(_ request: HTTPRequest) -> Bool {
        // Decide on the path the router will serve, not the raw one: `//admin`, `/%61dmin` and
        // `/x/../admin` all route to /admin. A path that does not normalise is the router's 400.
        if request.hasNormalPath { return request.path.withUTF8Octets { isGuarded($0) } }
        guard let normal = try? request.normalizedPath().path else { return false } // the router's 400
        return normal.withUTF8Octets { isGuarded($0) }
    }

    /// Whether a normal path is one of the prefixes or under one (`/admin`, `/admin/x`; not `/administrator`).
    private func isGuarded(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        prefixBytes.contains { prefix in
            path.count >= prefix.count && path.starts(with: prefix)
                && (path.count == prefix.count || path[prefix.count] == ASCII.slash)
        }
    }

    /// nil when `request` may pass; otherwise the 401 that challenges the client.
    public func refusal(for request: HTTPRequest) -> HTTPResponse? {
        if case .refused(let response) = decide(request) { return response }
        return nil
    }

    /// Compares without stopping at the first difference, so the time taken does not leak the password.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension BasicAuth: Middleware {
    /// Requires Basic auth for the guarded paths; answers 401 with a `WWW-Authenticate` challenge otherwise.
    /// The user name reaches the handler as the `user` parameter.
    public func respond(to routed: RoutedRequest, next: some Responder) -> HTTPResponse {
        guard guards(routed.request) else { return next.respond(to: routed) } // most requests: one look at the path
        switch decide(routed.request) {
        case .open:
            return next.respond(to: routed)
        case .allowed:
            var authorized = routed
            authorized.parameters["user"] = user
            return next.respond(to: authorized)
        case .refused(let challenge):
            return challenge
        }
    }
}
