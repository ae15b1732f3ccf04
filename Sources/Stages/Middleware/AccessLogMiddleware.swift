import HTTPCore

extension Middlewares {
    /// Writes one line per request in Common Log Format, after the response is known (so it sees the
    /// final status and size). Requests that never reach a handler — refused by the parser, timed out —
    /// are logged by the event loop's `onRefusal` with the same `AccessLog.record`.
    public static func accessLog(_ log: AccessLog) -> Middleware {
        Middleware { routed, next in
            let response = next(routed)
            log.record(routed.request, response, remoteAddress: routed.request.remoteAddress)
            return response
        }
    }
}
