/// A request on its way through the router: the request, and the values the route pattern captured.
public struct RoutedRequest: Sendable {
    public var request: HTTPRequest
    /// `:name` segments by name (percent-decoded), and `*` as the rest of the path.
    public var parameters: [String: String]

    public init(_ request: HTTPRequest, parameters: [String: String] = Dictionary()) { // (`[:]` made one through a call)
        self.request = request
        self.parameters = parameters
    }

    public subscript(parameter name: String) -> String? { parameters[name] }
}

public typealias RouteHandler = @Sendable (RoutedRequest) -> HTTPResponse

/// Whatever answers a routed request: the router, a middleware around it, a handler.
public protocol Responder: Sendable {
    func respond(to routed: RoutedRequest) -> HTTPResponse
}

/// Something wrapped around a responder: it may change the request, answer on its own, or change the
/// response that `next` returns (Express-style middleware).
///
/// A protocol with `next` as a generic parameter, not a closure: the chain is a type (`Layer` in `Layer`, see
/// below) that the compiler knows whole where it is built, so each layer is compiled for the `next` it has and
/// calls it directly, or inlines it. Kept as closures around closures, each layer cost two indirect calls and a
/// stack frame per request before any test of its own (callgrind, docs/performance.md §23).
public protocol Middleware: Sendable {
    func respond(to routed: RoutedRequest, next: some Responder) -> HTTPResponse
}

/// `outer` wrapped around `inner`: a request goes through `outer` first, and the response comes back out
/// through it last. `Layer(log, around: Layer(gzip, around: router))` runs log, then gzip, then the router.
public struct Layer<Outer: Middleware, Inner: Responder>: Responder {
    @usableFromInline let outer: Outer
    @usableFromInline let inner: Inner

    @inlinable public init(_ outer: Outer, around inner: Inner) {
        self.outer = outer
        self.inner = inner
    }

    @inlinable public func respond(to routed: RoutedRequest) -> HTTPResponse {
        outer.respond(to: routed, next: inner)
    }
}

/// A function as a responder: a fixed answer (`Answering { _ in response }`) or a test's handler.
public struct Answering: Responder {
    @usableFromInline let handler: RouteHandler

    @inlinable public init(_ handler: @escaping RouteHandler) { self.handler = handler }

    @inlinable public func respond(to routed: RoutedRequest) -> HTTPResponse { handler(routed) }
}

extension Middleware {
    /// A layer called on its own, with a function as `next`: `gzip(routed) { _ in response }`.
    public func callAsFunction(_ routed: RoutedRequest, _ next: @escaping RouteHandler) -> HTTPResponse {
        respond(to: routed, next: Answering(next))
    }
}

/// A route pattern: `/users/:id` (a named segment), `/static/*` (the rest of the path), literal segments.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
        case rest
    }

    let segments: [Segment]
    public let description: String

    public init(_ pattern: String) {
        description = pattern
        let parts = pattern.split(separator: "/").map(String.init)
        segments = parts.enumerated().map { index, part in
            if part == "*" {
                precondition(index == parts.count - 1, "'*' must be the last segment of \(pattern)")
                return .rest
            }
            return part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(part)
        }
    }

    /// The captured parameters if `path` (decoded segments) matches.
    func match(_ path: [String]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .rest:
                parameters["*"] = path[index...].joined(separator: "/")
                return parameters
            case .literal(let text):
                guard index < path.count, path[index] == text else { return nil }
            case .parameter(let name):
                guard index < path.count else { return nil }
                parameters[name] = path[index]
            }
        }
        return path.count == segments.count ? parameters : nil
    }
}

/// Maps (method, path) to a handler. No path matches: 404. The path matches but not the method: 405 with
/// `Allow`. HEAD is served by the GET handler; the serializer then drops the body.
public struct Router: Responder {
    struct Route: Sendable {
        let method: HTTPMethod
        let pattern: RoutePattern
        let handler: RouteHandler
    }

    public enum Match {
        case found(RouteHandler, RoutedRequest)
        case methodNotAllowed(allow: [String])
        case notFound
    }

    private var routes: [Route] = []
    /// The first segment of every route's pattern ("" for `/`), or nil once a pattern starts with `:name`
    /// or `*` (any path may match it). A path whose first segment is none of these cannot match a route:
    /// it goes to the fallback without being split and without trying each pattern (most requests to the
    /// router are for static files).
    private var firstSegments: [[UInt8]]? = []
    /// The lengths of those first segments: most paths are ruled out by their first segment's length alone,
    /// before any octet is compared.
    private var firstSegmentLengths = FirstSegmentLengths()
    /// Answers requests no route matches (for example the static files); nil gives a plain 404.
    public var fallback: RouteHandler?

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping RouteHandler) {
        let compiled = RoutePattern(pattern)
        routes.append(Route(method: method, pattern: compiled, handler: handler))
        switch compiled.segments.first {
        case nil: firstSegments?.append([])
        case .literal(let text): firstSegments?.append(Array(text.utf8))
        case .parameter, .rest: firstSegments = nil
        }
        if let first = firstSegments?.last { firstSegmentLengths.insert(first.count) }
    }

    /// True when the request's path certainly matches no route: it is already normal (so its first segment is
    /// the text up to the next `/`, as it came) and that segment begins no pattern. The segment's length was
    /// found with the target's shape: most paths are ruled out by it before their octets are looked at.
    @inline(__always) private func cannotMatch(_ request: HTTPRequest) -> Bool {
        guard let firstSegments, let length = request.normalPathFirstSegmentLength else { return false }
        if !firstSegmentLengths.contains(length) { return true }
        // The segment is the target's octets after its `/` (an origin-form target starts with its path): read
        // there, with no `path` String made for a target with a query.
        return request.target.withUTF8Octets { bytes in
            guard length < bytes.count else { return false } // not the shape of this target: ask the long way
            let first = UnsafeBufferPointer(rebasing: bytes[1..<(1 + length)])
            return !firstSegments.contains { $0.count == length && $0.elementsEqual(first) }
        }
    }

    public mutating func get(_ pattern: String, _ handler: @escaping RouteHandler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping RouteHandler) { add("POST", pattern, handler) }


    public func match(_ request: HTTPRequest) throws(RequestError) -> Match {
        if cannotMatch(request) { return .notFound }
        return try matchRoutes(request)
    }

    /// `match` past the quick test: splits the path and tries each pattern in order.
    private func matchRoutes(_ request: HTTPRequest) throws(RequestError) -> Match {
        let segments = try request.normalizedPath().segments
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.pattern.match(segments) else { continue }
            if route.method == request.method || (request.method == .head && route.method == .get) {
                return .found(route.handler, RoutedRequest(request, parameters: parameters))
            }
            allowed.append(route.method.rawValue)
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET") { allowed.append("HEAD") }
        return .methodNotAllowed(allow: Array(Set(allowed)).sorted())
    }

    /// The router as a handler (and as the innermost `Responder` of the middleware).
    public func respond(to routed: RoutedRequest) -> HTTPResponse { handle(routed) }

    /// The router as a handler.
    public func handle(_ routed: RoutedRequest) -> HTTPResponse {
        // Most requests are for files: those that certainly match no route go to the fallback at once.
        if cannotMatch(routed.request) { return notFound(routed) }
        do {
            switch try matchRoutes(routed.request) {
            case .found(let handler, var matched):
                // Keep what middleware learned about the request (an authenticated user, say).
                matched.parameters.merge(routed.parameters) { fromPattern, _ in fromPattern }
                return handler(matched)
            case .methodNotAllowed(let allow):
                let request = routed.request
                var response = HTTPResponse.text(.methodNotAllowed,
                    "405 Method Not Allowed: \(request.method) is not allowed on \(request.path); allowed: \(allow.joined(separator: ", "))\n")
                response.headers.set("Allow", allow.joined(separator: ", "))
                return response
            case .notFound:
                return notFound(routed)
            }
        } catch {
            return .error(error)
        }
    }

    /// The fallback's answer, or a plain 404.
    private func notFound(_ routed: RoutedRequest) -> HTTPResponse {
        fallback?(routed) ?? .text(.notFound, "404 Not Found: no route for \(routed.request.path)\n")
    }
}
