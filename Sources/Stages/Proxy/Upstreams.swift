import HTTPCore
import Sockets

/// One upstream server as one event loop sees it: its pool of idle connections, how many requests are in
/// flight to it, and its health (passive: judged from the requests that fail, with no probe of its own).
final class UpstreamServer {
    let address: ProxyConfiguration.Address
    /// Idle keep-alive connections, the most recently used last (taken first: its TCP state is warmest).
    var idle: [UpstreamConnection] = []
    /// Requests in flight (what least-connections compares).
    var active = 0 { didSet { metrics?.active.store(active, ordering: .relaxed) } }
    var failuresInARow = 0
    /// Left out of the choice until then (after `failuresBeforeDown` failures in a row).
    var downUntil: Double?
    let metrics: UpstreamMetrics?

    init(_ address: ProxyConfiguration.Address, metrics: UpstreamMetrics?) {
        self.address = address
        self.metrics = metrics
    }

    func isUp(at now: Double) -> Bool { downUntil.map { now >= $0 } ?? true }
}

/// The proxy's part of one event loop: the upstreams, the connections to them by descriptor (they sit in
/// the loop's poller beside the clients), the choice of upstream, and the cache.
final class ProxyState {
    let configuration: ProxyConfiguration
    let servers: [UpstreamServer]
    /// Every open upstream connection (connecting, busy or idle in a pool), by descriptor: looked up on
    /// every readiness event the loop's table of clients does not answer.
    var upstreams = DescriptorTable<UpstreamConnection>()
    private var nextRoundRobin = 0
    /// One read buffer for every upstream connection, as the loop has one for its clients.
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// GET responses kept in memory (--cache-size), nil without a cache.
    var cache: ResponseCache?
    let metrics: LoopMetrics?

    init(_ configuration: ProxyConfiguration, metrics: LoopMetrics?) {
        self.configuration = configuration
        self.metrics = metrics
        servers = configuration.upstreams.enumerated().map { index, address in
            UpstreamServer(address, metrics: metrics?.upstreams[safe: index])
        }
        cache = configuration.cacheBytes > 0 ? ResponseCache(capacityBytes: configuration.cacheBytes) : nil
    }

    /// The upstream for the next request: among those up, the next in turn (round-robin) or the one with
    /// the fewest requests in flight (least-connections, ties in turn). When every upstream is down, all
    /// are candidates again (as nginx does): refusing everything would hide an upstream that came back.
    func choose(now: Double, avoiding avoided: UpstreamServer? = nil) -> UpstreamServer {
        let turn = nextRoundRobin
        nextRoundRobin &+= 1
        // The candidates: those up and not just failed; else those up; else all. Counted and walked in place
        // (asked for every request: lists filtered and rotated per call cost three arrays, ~1,800 instructions).
        for rule in 0..<3 {
            func isCandidate(_ server: UpstreamServer) -> Bool {
                rule == 2 || (server.isUp(at: now) && (rule == 1 || server !== avoided))
            }
            var count = 0
            for server in servers where isCandidate(server) { count += 1 }
            guard count > 0 else { continue }
            // In turn: the candidates from the `turn % count`-th one on, then the ones before it.
            let start = turn % count
            var chosen: UpstreamServer?, chosenRank = 0, position = 0
            for server in servers where isCandidate(server) {
                let rank = (position - start + count) % count // 0: the one whose turn it is
                position += 1
                switch configuration.balance {
                case .roundRobin:
                    if rank == 0 { return server }
                case .leastConnections:
                    // The fewest requests in flight; a tie goes to the one earlier in turn.
                    if let best = chosen, (best.active, chosenRank) < (server.active, rank) { continue }
                    chosen = server
                    chosenRank = rank
                }
            }
            if let chosen { return chosen }
        }
        return servers[0]
    }

    /// A request failed on `server`: one more failure in a row; at the threshold it is left out for a while.
    func recordFailure(_ server: UpstreamServer, now: Double) {
        server.failuresInARow += 1
        server.metrics?.failures.wrappingAdd(1, ordering: .relaxed)
        if server.failuresInARow >= configuration.failuresBeforeDown {
            server.downUntil = now + configuration.downSeconds
            server.metrics?.up.store(0, ordering: .relaxed)
            Console.error("proxy: upstream \(server.address) failed \(server.failuresInARow) times in a row; left out for \(Seconds.text(configuration.downSeconds))")
        }
    }

    /// A response head arrived from `server`: it is healthy.
    func recordSuccess(_ server: UpstreamServer) {
        if server.downUntil != nil { Console.error("proxy: upstream \(server.address) answers again") }
        server.failuresInARow = 0
        server.downUntil = nil
        server.metrics?.up.store(1, ordering: .relaxed)
    }

    /// Closes every upstream connection (the loop is stopping).
    func closeAll(_ poller: any Poller) {
        for connection in upstreams.values {
            poller.forgetBeforeClose(connection.fd)
            connection.socket.close()
        }
        upstreams.removeAll()
        for server in servers { server.idle.removeAll() }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
