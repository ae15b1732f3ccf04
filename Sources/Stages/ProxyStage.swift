// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 11 · proxy — one server in front of others: a reverse proxy on the event loop          │
// │                                                                                            │
// │ Changed since http2: the handler is gone. A request is parsed exactly as before (the same  │
// │ HTTP1Connection, so an ambiguous request — Content-Length with Transfer-Encoding, two       │
// │ lengths, obs-fold — is refused before a byte goes upstream: no request smuggling), then     │
// │ rewritten (HTTPCore/Proxy/ProxyRequest: hop-by-hop fields out, X-Forwarded-For and Via in)  │
// │ and sent to an upstream over a second nonblocking socket in the same poller                 │
// │ (EventLoop+Proxy.swift). The response streams back piece by piece with backpressure both    │
// │ ways. Upstream connections are pooled and kept alive (Proxy/Upstreams.swift); upstreams are │
// │ chosen round-robin or by least connections, left out after failures in a row, and a failed  │
// │ idempotent request is tried once more on a fresh connection. GET /metrics says how it went. │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// A reverse proxy in front of `--upstream` servers, with a connection pool and /metrics.
public struct ProxyStage: Sendable {
    public let configuration: ServerConfiguration
    public let proxy: ProxyConfiguration

    public init(_ configuration: ServerConfiguration, proxy: ProxyConfiguration) {
        self.configuration = configuration
        self.proxy = proxy
    }

    public func run() throws(SystemError) {
        var proxy = self.proxy
        // The metrics path is the one the proxy answers itself; every other request goes upstream.
        let metricsPath = configuration.metricsPath
        let registry = metricsPath.map { _ in MetricsRegistry(upstreams: proxy.upstreams.map(\.description)) }
        if let metricsPath { proxy.localPaths.insert(metricsPath) }
        var options = EventLoop.Options(configuration, keepAlive: true)
        options.recordsRemoteAddress = true // X-Forwarded-For names the client
        options.proxy = proxy
        options.metrics = registry
        let loopOptions = options, poller = configuration.poller
        let upstreams = proxy.upstreams.map(\.description).joined(separator: ", ")
        Console.out("httpkit proxy: upstreams \(upstreams), \(proxy.balance.rawValue)")
        try Workers.run("proxy", configuration) { listener, wake throws(SystemError) in
            // Bodies stream (a consumer factory that keeps none): each piece goes upstream as it arrives.
            EventLoop(listener: listener, poller: try makePoller(poller), options: loopOptions, wake: wake,
                      bodyConsumers: { _ in nil }) { request in
                if let registry, request.path == metricsPath { return registry.response() }
                return .text(.notFound, "404 Not Found: the proxy answers only \(metricsPath ?? "nothing") itself\n")
            }
        }
    }
}
