import ArgumentParser
import HTTPCore
import Stages

/// The proxy stage's options.
struct ProxyOptions: ParsableArguments {
    @Option(name: .customLong("upstream"), help: ArgumentHelp("An upstream server, HOST:PORT (repeatable; an IPv4 address or localhost).", valueName: "host:port"))
    var upstreams: [String] = []

    @Option(help: ArgumentHelp("How the next upstream is chosen: round-robin or least-connections.", valueName: "policy"))
    var balance: ProxyConfiguration.Balance = .roundRobin

    @Option(help: ArgumentHelp("Seconds to establish a connection to an upstream before a 504.", valueName: "seconds"))
    var connectTimeout = 3.0

    @Option(help: ArgumentHelp("Seconds an upstream may stay silent while a response is awaited, before a 504.", valueName: "seconds"))
    var upstreamTimeout = 30.0

    @Option(help: ArgumentHelp("Idle keep-alive connections kept per upstream (0: a new connection per request).", valueName: "n"))
    var poolSize = 64

    @Option(help: ArgumentHelp("Failures in a row after which an upstream is left out for --down-time seconds.", valueName: "n"))
    var maxFails = 3

    @Option(help: ArgumentHelp("Seconds an upstream that failed --max-fails times in a row is left out.", valueName: "seconds"))
    var downTime = 10.0

    @Option(help: ArgumentHelp("Bytes of GET responses the proxy may cache in memory (0: no cache; 10m and 1g work too).", valueName: "bytes"))
    var cacheSize = "0"

    func validate() throws {
        for upstream in upstreams where ProxyConfiguration.Address(upstream) == nil {
            throw ValidationError("--upstream \(upstream): give HOST:PORT with an IPv4 address or localhost, such as 127.0.0.1:8081")
        }
        guard connectTimeout > 0, upstreamTimeout > 0 else { throw ValidationError("--connect-timeout and --upstream-timeout must be more than 0 seconds") }
        guard poolSize >= 0 else { throw ValidationError("--pool-size must be 0 or more") }
        guard maxFails >= 1 else { throw ValidationError("--max-fails must be 1 or more") }
        guard downTime >= 0 else { throw ValidationError("--down-time must be 0 or more seconds") }
        guard Self.bytes(cacheSize) != nil else { throw ValidationError("--cache-size \(cacheSize): give bytes, such as 0, 65536, 10m or 1g") }
    }

    /// `10m` → 10 485 760.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        var digits = Substring(text)
        var unit = 1
        if let last = text.lowercased().last, let multiplier = units[last] {
            digits = digits.dropLast()
            unit = multiplier
        }
        // Digits only (no sign), and a product that fits: `-1m` and `9999999999g` are refused, not a trap.
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let value = Int(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }

    var configuration: ProxyConfiguration {
        var configuration = ProxyConfiguration(upstreams: upstreams.compactMap(ProxyConfiguration.Address.init))
        configuration.balance = balance
        configuration.connectTimeout = connectTimeout
        configuration.readTimeout = upstreamTimeout
        configuration.poolSize = poolSize
        configuration.failuresBeforeDown = maxFails
        configuration.downSeconds = downTime
        configuration.cacheBytes = Self.bytes(cacheSize) ?? 0
        return configuration
    }
}

extension ProxyConfiguration.Balance: ExpressibleByArgument {}

/// `--metrics off|PATH` on the event-loop stages that keep counters.
struct MetricsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where Prometheus metrics are served (text format 0.0.4), or off.", valueName: "off|path"))
    var metrics = "/metrics"

    func validate() throws {
        guard metrics == "off" || (metrics.hasPrefix("/") && !metrics.contains("?")) else {
            throw ValidationError("--metrics \(metrics): give a path such as /metrics, or off")
        }
    }

    var path: String? { metrics == "off" ? nil : metrics }
}

struct ProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Stage 11: a reverse proxy in front of --upstream servers (a connection pool, hop-by-hop headers, /metrics).",
        discussion: """
        Every request except GET /metrics goes to one of the upstreams, over a pooled keep-alive connection.

        Examples:
          httpkit router --port 8081 & httpkit router --port 8082 &
          httpkit proxy --upstream 127.0.0.1:8081 --upstream 127.0.0.1:8082
          curl -v http://127.0.0.1:8080/users/1       (see Via and X-Forwarded-For on the upstream's side)
          curl http://127.0.0.1:8080/metrics
        """
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    @OptionGroup var keepAlive: KeepAliveOptions
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var metrics: MetricsOptions
    func run() throws {
        try StageRunner.run(.proxy, server, poller: eventLoop, keepAlive: keepAlive, proxy: proxy, metrics: metrics)
    }
}
