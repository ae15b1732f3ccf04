import ArgumentParser
import Foundation
import ServerProcess
import HTTPCore
import Sockets
import Stages

/// `httpkit bench`: a small load generator, and a side-by-side comparison of the stages.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a server and print requests/s and latency percentiles; or compare the stages, or draw scripts/bench's results.",
        discussion: """
        A teaching tool, not a replacement for wrk: one thread, epoll, nonblocking connects.

        Examples:
          # 100 requests one after another, then the same 100 all at once
          httpkit bench http://127.0.0.1:8080/ -n 100 -c 1
          httpkit bench http://127.0.0.1:8080/ -n 100 -c 100
          # five seconds, 50 connections, each reused (keep-alive)
          httpkit bench http://127.0.0.1:8080/ -d 5 -c 50 --keep-alive
          # start each stage on a free port and compare them side by side
          httpkit bench --compare static,fork,threads,eventloop
          # ... while 5 slowloris clients trickle one byte every 100 ms
          httpkit bench --compare static,eventloop --slow 5
          # draw the last scripts/bench run (httpkit against nginx, h2o and nghttpd) as bars
          httpkit bench --compare docs/benchmarks.json
          httpkit bench --compare docs/benchmarks.json --workload h2-

        --compare with stages starts each stage itself and loads it with this generator. The comparison with
        nginx, h2o and nghttpd needs those servers, wrk and h2load, interleaved rounds and their CPU time
        from /proc: scripts/bench does that and writes docs/benchmarks.json, and --compare FILE.json draws
        it: per workload, one line per server with req/s and server CPU µs per request as bars (each
        scaled to the workload's largest), p50/p99 latency, and for httpkit the ratios to the best peer.

        The wrk equivalent of a duration run (wrk always keeps connections alive):
          wrk -t1 -c50 -d5s http://127.0.0.1:8080/
          wrk -t1 -c50 -d5s -H 'Connection: close' http://127.0.0.1:8080/
        """
    )

    @Argument(help: "The URL to load (http://HOST:PORT/PATH). Not needed with --compare.")
    var url: String?

    @Option(name: [.customShort("n"), .customLong("requests")], help: "How many requests to send (ignored with --duration).")
    var requests = 1000

    @Option(name: [.customShort("d"), .customLong("duration")], help: ArgumentHelp("Run for this many seconds instead of a count.", valueName: "seconds"))
    var duration: Double?

    @Option(name: [.customShort("c"), .customLong("concurrency")], help: "How many connections send requests at once.")
    var concurrency = 10

    @Flag(inversion: .prefixedNo, help: "Reuse connections (keep-alive) or open one per request.")
    var keepAlive = false

    @Option(help: ArgumentHelp("Comma-separated stages to start and compare, e.g. static,fork,threads,eventloop; or a JSON file written by scripts/bench (docs/benchmarks.json) to draw as bars.", valueName: "stages|file.json"))
    var compare: String?

    @Option(help: ArgumentHelp("With --compare FILE.json: only the workloads whose id or label contains this text (e.g. h1-, h2-, c100, pipelined).", valueName: "text"))
    var workload: String?

    @Option(help: ArgumentHelp("The path to request in --compare mode.", valueName: "path"))
    var path = "/hello.txt"

    @Option(help: ArgumentHelp("The document root for --compare servers (default: the bundled www/).", valueName: "dir"))
    var root: String?

    @Option(help: ArgumentHelp("Also open N slow clients that send a request head one byte every 100 ms (runs 5 s unless --duration).", valueName: "n"))
    var slow = 0

    @Option(help: ArgumentHelp("Seconds before a request counts as an error.", valueName: "seconds"))
    var timeout = 10.0

    func validate() throws {
        guard requests > 0 else { throw ValidationError("--requests must be at least 1") }
        guard concurrency > 0 && concurrency <= 10_000 else { throw ValidationError("--concurrency must be between 1 and 10000") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be more than 0 seconds") }
        guard slow >= 0 else { throw ValidationError("--slow must be 0 or more") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
        if compare == nil && url == nil { throw ValidationError("give a URL to load, or --compare STAGES (see the examples in --help)") }
        if compare != nil && url != nil { throw ValidationError("give either a URL or --compare, not both") }
        if workload != nil && !(compare.map(Self.isResultsFile) ?? false) { throw ValidationError("--workload goes with --compare FILE.json") }
    }

    /// --compare's value names a results file rather than stages: a .json name or a path.
    static func isResultsFile(_ value: String) -> Bool {
        value.hasSuffix(".json") || value.contains("/")
    }

    func run() throws {
        StopSignal.install()
        if let compare, Self.isResultsFile(compare) {
            let lines = try BenchResults.load(compare).render(only: workload)
            print(lines.joined(separator: "\n"))
            return
        }
        if let compare {
            try runComparison(compare)
            return
        }
        let target = try BenchURL(url!)
        var settings = LoadSettings(host: target.host, port: target.port, path: target.path)
        configure(&settings)
        print("httpkit bench: \(describe(settings)) → \(url!)")
        let result = try LoadGenerator(settings).run(tick: Progress.show)
        Progress.clear()
        Table.print(rows: [Row(label: "result", result: result, stats: nil)])
        printErrors(result)
    }

    func configure(_ settings: inout LoadSettings) {
        settings.requests = requests
        // A server stalled by slow clients may never finish a count: run for a fixed time instead.
        settings.duration = duration ?? (slow > 0 ? 5 : nil)
        settings.concurrency = concurrency
        settings.keepAlive = keepAlive
        settings.slowClients = slow
        settings.timeout = timeout
    }

    func describe(_ settings: LoadSettings) -> String {
        let amount = settings.duration.map { "for \($0.formatted(1)) s" } ?? "\(settings.requests) requests"
        let slowNote = settings.slowClients > 0 ? ", \(settings.slowClients) slow clients" : ""
        return "\(amount), \(settings.concurrency) concurrent, keep-alive \(settings.keepAlive ? "on" : "off")\(slowNote)"
    }

    func printErrors(_ result: LoadResult) {
        for (reason, count) in result.errors.sorted(by: { $0.value > $1.value }) {
            print("  error: \(reason) × \(count)")
        }
    }

    // MARK: - --compare

    func runComparison(_ list: String) throws {
        var stages: [StageName] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let stage = StageName(rawValue: name), stage.info.servesFiles else {
                let choices = StageName.allCases.filter(\.info.servesFiles).map(\.rawValue).joined(separator: ", ")
                throw CLIError(message: "--compare: '\(name)' is not a stage that serves files; choose from \(choices)", exitCode: 64)
            }
            stages.append(stage)
        }
        var settings = LoadSettings(host: "127.0.0.1", port: 0, path: path)
        configure(&settings)
        print("httpkit bench --compare: GET \(path), \(describe(settings))")
        var rows: [Row] = []
        for stage in stages {
            let server = try StageServer(stage: stage, root: root)
            defer { server.stop() }
            settings.port = server.port
            var peak = ServerStats()
            let result = try LoadGenerator(settings).run { progress, elapsed in
                peak = peak.merged(with: ServerStats.sample(pid: server.pid))
                Progress.show(progress, elapsed, label: stage.rawValue)
            }
            Progress.clear()
            peak = peak.merged(with: ServerStats.sample(pid: server.pid))
            rows.append(Row(label: stage.rawValue, result: result, stats: peak))
            if StopSignal.isRequested { break }
        }
        Table.print(rows: rows)
        if rows.count > 1 {
            print("")
            print(BarChart.render(
                heading: "GET \(path), \(describe(settings))",
                metrics: [BarChart.Metric(title: "req/s (more is better)", format: { $0.formatted(0) }),
                          BarChart.Metric(title: "p99 ms (less is better)", format: { $0.formatted(2) })],
                rows: rows.map { BarChart.Row(label: $0.label, values: [$0.result.requestsPerSecond, $0.result.percentile(0.99)]) }
            ).joined(separator: "\n"))
        }
        for row in rows where row.result.errorCount > 0 {
            print("\(row.label):")
            printErrors(row.result)
        }
    }
}

/// http://HOST:PORT/PATH, the only URLs the load generator speaks.
struct BenchURL {
    let host: String
    let port: UInt16
    let path: String

    init(_ text: String) throws {
        guard text.hasPrefix("http://") else {
            throw CLIError(message: "bench: '\(text)' is not an http:// URL (https is not supported). Example: http://127.0.0.1:8080/", exitCode: 64)
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
        let parts = authority.split(separator: ":")
        var name = parts.first.map(String.init) ?? ""
        if name == "localhost" { name = "127.0.0.1" }
        guard !name.isEmpty, name.split(separator: ".").count == 4 else {
            throw CLIError(message: "bench: use a numeric IPv4 address in the URL, such as http://127.0.0.1:8080/ (got '\(authority)')", exitCode: 64)
        }
        host = name
        guard parts.count <= 2, let port = parts.count == 2 ? UInt16(parts[1]) : 80 else {
            throw CLIError(message: "bench: invalid port in '\(authority)'", exitCode: 64)
        }
        self.port = port
    }
}

/// A stage started as a child process on a free port, for --compare and for `check` without a target.
final class StageServer {
    let server: ServerProcess

    init(stage: StageName, root: String?) throws {
        do {
            server = try ServerProcess(executable: BundledSite.executablePath() ?? CommandLine.arguments[0],
                                       arguments: [stage.rawValue, "--port", "0"] + (root.map { ["--root", $0] } ?? []),
                                       timeout: 15, name: "\(stage.rawValue) stage")
        } catch {
            let printed = error.output.trimmingCharacters(in: .whitespacesAndNewlines)
            throw CLIError(message: "the \(stage.rawValue) stage did not start: \(error)\(printed.isEmpty ? "" : ": " + printed)")
        }
    }

    var pid: Int32 { server.pid }
    var port: UInt16 { server.port }

    func stop() { server.stop() }
}

/// Memory and process/thread counts of a server, including forked children.
struct ServerStats {
    var rssKB = 0
    var processes = 0
    var threads = 0

    func merged(with other: ServerStats) -> ServerStats {
        ServerStats(rssKB: max(rssKB, other.rssKB), processes: max(processes, other.processes), threads: max(threads, other.threads))
    }

    /// The server's memory as PSS (proportional set size: a page shared by n processes counts 1/n to
    /// each), so fork's children are not charged again for the parent's copy-on-write pages.
    static func sample(pid: Int32) -> ServerStats {
        var stats = ServerStats(rssKB: proportionalKB(pid) ?? ProcessStatus.field("VmRSS", pid: pid) ?? 0, processes: 1,
                                threads: ProcessStatus.field("Threads", pid: pid) ?? 0)
        for child in children(of: pid) {
            guard let threads = ProcessStatus.field("Threads", pid: child), let memory = proportionalKB(child) else { continue }
            stats.rssKB += memory
            stats.processes += 1
            stats.threads += threads
        }
        return stats
    }

    static func proportionalKB(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// Children of `pid`, from /proc/PID/task/*/children (Linux).
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0) }
        }
    }
}

struct Row {
    let label: String
    let result: LoadResult
    let stats: ServerStats?
}

enum Table {
    static func print(rows: [Row]) {
        var lines = [["stage", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "non-2xx"]]
        let withStats = rows.contains { $0.stats != nil }
        if withStats { lines[0] += ["peak PSS", "procs", "threads"] }
        for row in rows {
            let r = row.result
            var line = [row.label, String(r.completed), r.requestsPerSecond.formatted(0),
                        r.percentile(0.5).formatted(2), r.percentile(0.9).formatted(2), r.percentile(0.99).formatted(2),
                        r.maxLatency.formatted(2), String(r.errorCount), String(r.non2xx)]
            if let stats = row.stats {
                line += [String(format: "%.1f MB", Double(stats.rssKB) / 1024), String(stats.processes), String(stats.threads)]
            }
            lines.append(line)
        }
        let widths = lines[0].indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        for (index, line) in lines.enumerated() {
            let cells = line.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                            : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            Swift.print(cells.joined(separator: "  "))
            if index == 0 { Swift.print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
    }
}

/// A progress line on stderr while a run goes on, only when stderr is a terminal.
enum Progress {
    static let enabled = isatty(2) != 0

    static func show(_ result: LoadResult, _ elapsed: Double) { show(result, elapsed, label: "bench") }

    static func show(_ result: LoadResult, _ elapsed: Double, label: String) {
        guard enabled else { return }
        let rate = elapsed > 0 ? Double(result.completed) / elapsed : 0
        let line = "\r  \(label): \(result.completed) requests, \(rate.formatted(0)) req/s, \(result.errorCount) errors, \(elapsed.formatted(1)) s "
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

extension Double {
    func formatted(_ decimals: Int) -> String { String(format: "%.\(decimals)f", self) }
}
