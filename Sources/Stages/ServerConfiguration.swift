import HTTPCore
import Sockets

/// Everything a stage needs to start: where to listen, what to serve, and the limits it enforces.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 asks the kernel for a free port; the startup line tells which one it picked.
    public var port: UInt16
    /// The document root, for the stages that serve files.
    public var root: DocumentRoot?
    public var limits: RequestLimits
    /// How long a connection may take to send its request head before it is answered 408 and closed.
    public var headerTimeout: Double
    /// Upper bound on concurrent connection threads (the `threads` stage).
    public var maxThreads: Int
    /// The readiness API the event-loop stages use, or io_uring's completion loop (eventloop, keepalive).
    public var poller: PollerKind
    /// Event loops sharing the port with SO_REUSEPORT (keepalive and router).
    public var workers: Int = 1
    /// TCP_DEFER_ACCEPT on the listening sockets `Workers.run` opens (keepalive, router, websocket, http2, proxy):
    /// a new connection reaches `accept` with its first bytes, or after about this many seconds. 0: off. The
    /// teaching stages open their listener themselves and never set it (`serve --stage eventloop` included).
    public var deferAcceptSeconds = 0
    /// Seconds a kept-alive connection may sit idle between requests.
    public var idleTimeout: Double = 30
    /// Requests served on one connection before it is closed (0: no limit).
    public var maxRequestsPerConnection: Int = 1000
    /// The router's `/files/` directory.
    public var filesDirectory: String?
    /// Where the router's access log goes: `-` for stdout, a path, or nil for none.
    public var accessLog: String? = "-"
    /// The user name and password of the router's protected `/admin` route.
    public var basicAuthUser = "learner"
    public var basicAuthPassword = "httpkit"
    /// TLS for the event-loop stages that speak it (keepalive, router, websocket); nil: plain TCP.
    /// Made once at start from `TLSSettings` (certificate files or a self-signed one).
    public var tls: TLSContext?
    /// The http2 stage's port speaks only HTTP/2 (`--http2-only`): prior knowledge on plain TCP, ALPN `h2`
    /// alone over TLS; no HTTP/1.1, so no `Upgrade: h2c` either.
    public var http2Only = false
    /// `Cache-Control: max-age` for static files, in seconds (nil: none).
    public var cacheMaxAge: Int? = 60
    /// The largest WebSocket message the websocket stage accepts (close 1009 beyond it).
    public var maxWebSocketMessage = 16 << 20
    /// Seconds a quiet WebSocket peer waits before a ping (and then, at most 10 s, for any answer).
    public var webSocketPingInterval = 30.0
    /// Path prefixes the router's Basic auth guards (uploads under them included).
    public var protectedPaths = ["/admin"]
    /// Where the event-loop stages (router, websocket, http2, proxy) answer with their Prometheus
    /// metrics; nil: no metrics at all (and no counting).
    public var metricsPath: String? = "/metrics"

    public init(host: String = "127.0.0.1", port: UInt16 = 8080, root: DocumentRoot? = nil,
                limits: RequestLimits = RequestLimits(), headerTimeout: Double = 10,
                maxThreads: Int = 256, poller: PollerKind = .platformDefault) {
        self.host = host
        self.port = port
        self.root = root
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.maxThreads = maxThreads
        self.poller = poller
    }
}

/// The readiness APIs an event loop can wait with, and io_uring, which runs a completion loop instead
/// (`CompletionLoop`): the eventloop, keepalive, router and http2 stages only, on plain TCP.
public enum PollerKind: String, Sendable, CaseIterable {
    case select, poll, epoll
    case ioUring = "io_uring"

    public static var platformDefault: PollerKind {
        return .epoll
    }
}

/// Seconds for messages: `10 s`, `0.5 s`.
enum Seconds {
    static func text(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
