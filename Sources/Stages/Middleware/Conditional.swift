import HTTPCore

/// Conditional and range requests (RFC 9110 §13, §14) for every response that carries validators:
/// 304 Not Modified, 412 Precondition Failed, 206 Partial Content, 416 Range Not Satisfiable.
///
/// It sits outside gzip on purpose: it judges the representation that is actually sent, so a client
/// holding the gzip variant's ETag gets 304 for it, and the identity variant's ETag never validates the
/// gzip bytes. A request with Range is not compressed (see `GzipEncoding`), so ranges count the file's bytes.
///
/// GET and HEAD only: for a method that changes something (POST /files/…), a precondition must be
/// checked before the handler acts, not on its answer; the router's handlers have no validators to
/// check it against, so those requests are served as if the conditions were absent.
public struct ConditionalRequests: Middleware {
    public init() {}

    public func respond(to routed: RoutedRequest, next: some Responder) -> HTTPResponse {
        let response = next.respond(to: routed)
        guard routed.request.method.isGetOrHead else { return response }
        return ConditionalResponse.apply(to: response, for: routed.request)
    }
}
