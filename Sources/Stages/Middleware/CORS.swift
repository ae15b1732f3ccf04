import HTTPCore

/// Lets pages from any origin read the responses (the Fetch standard's CORS protocol), and answers
/// preflight requests (`OPTIONS` with `Access-Control-Request-Method`) itself with 204.
public struct CORS: Middleware {
    public let allowOrigin: String

    public init(allowOrigin: String = "*") { self.allowOrigin = allowOrigin }

    public func respond(to routed: RoutedRequest, next: some Responder) -> HTTPResponse {
        guard routed.request.headers["Origin"] != nil else { return next.respond(to: routed) }
        let request = routed.request
        if request.method == .options, request.headers["Access-Control-Request-Method"] != nil {
            var preflight = HTTPResponse(status: .noContent)
            preflight.headers.set("Access-Control-Allow-Origin", allowOrigin)
            preflight.headers.set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
            preflight.headers.set("Access-Control-Allow-Headers", request.headers["Access-Control-Request-Headers"] ?? "Content-Type")
            preflight.headers.set("Access-Control-Max-Age", "600")
            return preflight
        }
        var response = next.respond(to: routed)
        response.headers.set("Access-Control-Allow-Origin", allowOrigin)
        if allowOrigin != "*" { response.headers.add("Vary", "Origin") }
        return response
    }
}
