import HTTPCore

/// What the proxy stage is told at start: where the upstreams are and how to treat them.
public struct ProxyConfiguration: Sendable {
    /// One upstream server, `HOST:PORT` (an IPv4 address; `localhost` is 127.0.0.1).
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: UInt16

        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }

        /// Parses `HOST:PORT`; nil when it is not one.
        public init?(_ text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
            var host = String(text[..<colon])
            if host == "localhost" { host = "127.0.0.1" }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return nil }
            self.init(host: host, port: port)
        }

        public var description: String { "\(host):\(port)" }
    }

    /// How the next upstream is chosen.
    public enum Balance: String, Sendable, CaseIterable {
        /// Each in turn: fair when requests cost about the same.
        case roundRobin = "round-robin"
        /// The one with the fewest requests in flight: a slow upstream gets fewer new ones.
        case leastConnections = "least-connections"
    }

    public var upstreams: [Address]
    public var balance: Balance = .roundRobin
    /// Seconds a connection to an upstream may take to be established (then 504).
    public var connectTimeout = 3.0
    /// Seconds an upstream may stay silent while the proxy waits for its response (then 504).
    public var readTimeout = 30.0
    /// Idle keep-alive connections kept per upstream (and per event loop); 0 opens one per request.
    public var poolSize = 64
    /// Seconds an idle pooled connection is kept: less than the upstream's own idle timeout, so the proxy
    /// closes it first (a request sent on a connection the upstream is closing fails).
    public var poolIdleTimeout = 15.0
    /// Failures in a row that leave an upstream out (passive health check), and for how many seconds.
    public var failuresBeforeDown = 3
    public var downSeconds = 10.0
    /// Bytes of responses the cache may hold (0: no cache).
    public var cacheBytes = 0
    /// Paths the proxy answers itself (GET /metrics) instead of forwarding.
    public var localPaths: Set<String> = []

    public init(upstreams: [Address]) {
        self.upstreams = upstreams
    }
}
