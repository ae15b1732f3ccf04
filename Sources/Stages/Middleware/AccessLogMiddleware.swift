import HTTPCore

/// Writes one line per request in Common Log Format, after the response is known (so it sees the
/// final status and size). Requests that never reach a handler — refused by the parser, timed out —
/// are logged by the event loop's `onRefusal` with the same `AccessLog.record`. Without a log
/// (`--access-log off`) it only passes the request on.
public struct AccessLogging: Middleware {
    public let log: AccessLog?

    public init(_ log: AccessLog?) { self.log = log }

    public func respond(to routed: RoutedRequest, next: some Responder) -> HTTPResponse {
        let response = next.respond(to: routed)
        log?.record(routed.request, response, remoteAddress: routed.request.remoteAddress)
        return response
    }
}
