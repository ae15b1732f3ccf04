import HTTPCore
import Sockets
import Synchronization

/// One event loop's counters, for `GET /metrics` (the Prometheus text format, version 0.0.4).
///
/// Each loop owns its counters and is the only one that adds to them (from its own thread), so an add is a
/// relaxed load and a relaxed store: plain moves, no lock on the hot path however many `--workers` run. The
/// `/metrics` request, on whichever loop it lands, sums every loop's counters when it reads them
/// (`MetricsRegistry.exposition`).
public final class LoopMetrics: Sendable {
    /// Where each counter lives in `slots`.
    enum Slot {
        static let methods: [HTTPMethod] = [.get, .head, .post, .put, .delete]
        /// The index of `method` in `methods`, 5 for any other (a switch: no search through the array).
        @inline(__always) static func methodIndex(_ method: HTTPMethod) -> Int {
            switch method {
            case .get: 0
            case .head: 1
            case .post: 2
            case .put: 3
            case .delete: 4
            default: 5
            }
        }
        /// requests[method][status class]: 6 methods (the five above and "other") × 5 classes (1xx–5xx).
        static func requests(method: Int, statusClass: Int) -> Int { method * 5 + statusClass }
        static let durationBuckets = 30 // 14 buckets (the last one +Inf)
        static let durationMicroseconds = 44
        static let connectionsOpened = 45
        static let connectionsClosed = 46
        static let bytesIn = 47
        static let bytesOut = 48
        static let webSocketIn = 49
        static let webSocketOut = 50
        static let http2Streams = 51
        static let cacheHits = 52
        static let cacheMisses = 53
        static let cacheRevalidated = 54
    }

    /// Upper bounds of the request-duration histogram, in seconds (then +Inf).
    static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private let slots: InlineArray<64, Atomic<Int>> = InlineArray { _ in Atomic(0) }
    /// The proxy's upstreams, in the order they were given (empty on the other stages).
    let upstreams: [UpstreamMetrics]

    init(upstreams: [String] = []) {
        self.upstreams = upstreams.map(UpstreamMetrics.init)
    }

    /// A read-modify-write (`wrappingAdd`) would be a locked instruction, about 20 cycles even on a line no
    /// other thread writes, three or four times a request; with one writer, load-then-store loses nothing.
    /// Readers on other loops see each counter's latest store.
    @inline(__always) func add(_ slot: Int, _ amount: Int = 1) {
        slots[slot].store(slots[slot].load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    func value(_ slot: Int) -> Int { slots[slot].load(ordering: .relaxed) }

    /// One answered request: its method, status, and seconds from its head's arrival to its answer.
    @inline(__always) func record(_ method: HTTPMethod?, status: Int, seconds: Double) {
        let methodIndex = method.map(Slot.methodIndex) ?? 5
        let statusClass = min(max(status / 100, 1), 5) - 1
        add(Slot.requests(method: methodIndex, statusClass: statusClass))
        var bucket = 0
        while bucket < Self.bucketBounds.count && seconds > Self.bucketBounds[bucket] { bucket += 1 }
        add(Slot.durationBuckets + bucket)
        add(Slot.durationMicroseconds, Int(seconds * 1_000_000))
    }
}

/// What the proxy counts for one upstream on one loop.
public final class UpstreamMetrics: Sendable {
    let name: String
    let requests = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    /// Gauges: 1 while the passive health check lets requests through; pooled idle connections; requests in flight.
    let up = Atomic<Int>(1)
    let idle = Atomic<Int>(0)
    let active = Atomic<Int>(0)

    init(_ name: String) { self.name = name }
}

/// Every loop's counters in one server process, and their sum in the Prometheus text format.
public final class MetricsRegistry: Sendable {
    private let loops = Locked<[LoopMetrics]>([])
    let upstreams: [String]

    public init(upstreams: [String] = []) {
        self.upstreams = upstreams
    }

    /// A new loop's counters (called once per loop, at its start: the only time the lock is taken on a loop).
    func register() -> LoopMetrics {
        let metrics = LoopMetrics(upstreams: upstreams)
        loops.withLock { $0.append(metrics) }
        return metrics
    }

    /// The router's extra routes with `GET path` answered by `registry` first (nothing added when either is nil).
    static func route(_ registry: MetricsRegistry?, at path: String?,
                      before extraRoutes: @escaping @Sendable (inout Router) -> Void) -> @Sendable (inout Router) -> Void {
        guard let registry, let path else { return extraRoutes }
        return { router in
            router.get(path) { _ in registry.response() }
            extraRoutes(&router)
        }
    }

    /// `GET /metrics`: the text format's content type names its version (Prometheus's exposition formats doc).
    public func response() -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                     body: .bytes(Array(exposition().utf8)))
    }

    /// Every metric family: `# HELP`, `# TYPE`, then its samples, summed over the loops.
    public func exposition() -> String {
        let all = loops.withLock { $0 }
        func sum(_ slot: Int) -> Int { all.reduce(0) { $0 + $1.value(slot) } }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        typealias Slot = LoopMetrics.Slot

        family("httpkit_http_requests_total", "counter", "Requests answered, by method and status class.")
        let methodNames = Slot.methods.map(\.rawValue) + ["other"]
        for (m, method) in methodNames.enumerated() {
            for statusClass in 0..<5 {
                let count = sum(Slot.requests(method: m, statusClass: statusClass))
                if count > 0 { out += "httpkit_http_requests_total{method=\"\(method)\",status=\"\(statusClass + 1)xx\"} \(count)\n" }
            }
        }

        family("httpkit_http_request_duration_seconds", "histogram", "Seconds from a request's head to its answer (to the end of the relayed body on the proxy).")
        var cumulative = 0
        for (index, bound) in LoopMetrics.bucketBounds.enumerated() {
            cumulative += sum(Slot.durationBuckets + index)
            out += "httpkit_http_request_duration_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += sum(Slot.durationBuckets + LoopMetrics.bucketBounds.count)
        out += "httpkit_http_request_duration_seconds_bucket{le=\"+Inf\"} \(cumulative)\n"
        out += "httpkit_http_request_duration_seconds_sum \(Double(sum(Slot.durationMicroseconds)) / 1_000_000)\n"
        out += "httpkit_http_request_duration_seconds_count \(cumulative)\n"

        let opened = sum(Slot.connectionsOpened), closed = sum(Slot.connectionsClosed)
        family("httpkit_connections_total", "counter", "Client connections accepted.")
        out += "httpkit_connections_total \(opened)\n"
        family("httpkit_open_connections", "gauge", "Client connections open now.")
        out += "httpkit_open_connections \(opened - closed)\n"
        family("httpkit_received_bytes_total", "counter", "Bytes read from clients.")
        out += "httpkit_received_bytes_total \(sum(Slot.bytesIn))\n"
        family("httpkit_sent_bytes_total", "counter", "Bytes written to clients.")
        out += "httpkit_sent_bytes_total \(sum(Slot.bytesOut))\n"
        family("httpkit_websocket_messages_total", "counter", "WebSocket messages, by direction.")
        out += "httpkit_websocket_messages_total{direction=\"received\"} \(sum(Slot.webSocketIn))\n"
        out += "httpkit_websocket_messages_total{direction=\"sent\"} \(sum(Slot.webSocketOut))\n"
        family("httpkit_http2_streams_total", "counter", "HTTP/2 streams that carried a request.")
        out += "httpkit_http2_streams_total \(sum(Slot.http2Streams))\n"

        guard !upstreams.isEmpty else { return out }
        func upstreamFamily(_ name: String, _ type: String, _ help: String, _ value: (UpstreamMetrics) -> Int,
                            combine: ([Int]) -> Int = { $0.reduce(0, +) }) {
            family(name, type, help)
            for (index, upstream) in upstreams.enumerated() {
                let total = combine(all.map { value($0.upstreams[index]) })
                out += "\(name){upstream=\"\(upstream)\"} \(total)\n"
            }
        }
        upstreamFamily("httpkit_proxy_upstream_requests_total", "counter", "Requests sent to each upstream (retries included).") { $0.requests.load(ordering: .relaxed) }
        upstreamFamily("httpkit_proxy_upstream_failures_total", "counter", "Attempts that failed: no connection, a timeout, a broken response.") { $0.failures.load(ordering: .relaxed) }
        upstreamFamily("httpkit_proxy_upstream_retries_total", "counter", "Idempotent requests sent again on a fresh connection after a failure.") { $0.retries.load(ordering: .relaxed) }
        // A loop that marked the upstream down makes it down here: the gauge is the minimum over the loops.
        upstreamFamily("httpkit_proxy_upstream_up", "gauge", "1 while the passive health check sends requests to the upstream, 0 while it is left out.",
                       { $0.up.load(ordering: .relaxed) }, combine: { $0.min() ?? 1 })
        upstreamFamily("httpkit_proxy_upstream_idle_connections", "gauge", "Idle keep-alive connections in the pool.") { $0.idle.load(ordering: .relaxed) }
        upstreamFamily("httpkit_proxy_upstream_active_requests", "gauge", "Requests in flight to the upstream.") { $0.active.load(ordering: .relaxed) }
        family("httpkit_proxy_cache_requests_total", "counter", "Cacheable requests, by what the cache did: hit, miss, revalidated.")
        out += "httpkit_proxy_cache_requests_total{result=\"hit\"} \(sum(Slot.cacheHits))\n"
        out += "httpkit_proxy_cache_requests_total{result=\"miss\"} \(sum(Slot.cacheMisses))\n"
        out += "httpkit_proxy_cache_requests_total{result=\"revalidated\"} \(sum(Slot.cacheRevalidated))\n"
        return out
    }
}
