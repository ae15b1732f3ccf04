import Foundation
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Opens `count` connections at once, then sends a request on each, then reads every response.
func simultaneousRequests(port: UInt16, count: Int, path: String = "/hello.txt") throws -> [Int: Int] {
    Processes.raiseOpenFileLimit()
    var clients: [RawClient] = []
    defer { clients.forEach { $0.close() } }
    for _ in 0..<count { clients.append(try RawClient(port: port, timeout: 30)) }
    for client in clients { try client.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
    var statuses: [Int: Int] = [:]
    for client in clients {
        let response = try ParsedResponse(client.readToEnd())
        statuses[response.status, default: 0] += 1
    }
    return statuses
}

/// How long one ordinary request takes, connect to last byte, in ms.
func timedRequest(port: UInt16, path: String = "/hello.txt") throws -> (ms: Double, status: Int) {
    let start = Date()
    let response = try RawClient.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
    return (Date().timeIntervalSince(start) * 1000, response.status)
}

/// A client that sends a request one byte every 100 ms on a background thread, until told to stop.
final class TricklingClient: @unchecked Sendable {
    private let client: RawClient
    private let stopped = AtomicCounter()
    private let finished = AtomicCounter()

    init(port: UInt16) throws {
        client = try RawClient(port: port)
        let bytes = Array("GET /hello.txt HTTP/1.1\r\nHost: slow\r\nX-Padding: \(String(repeating: "p", count: 200))\r\n\r\n".utf8)
        let client = self.client, stopped = self.stopped, finished = self.finished
        Thread.detachNewThread {
            for byte in bytes where stopped.current == 0 {
                if (try? client.send([byte])) == nil { break }
                usleep(100_000)
            }
            finished.add(1)
        }
    }

    func stop() {
        stopped.add(1)
        while finished.current == 0 { usleep(10_000) }
        client.close()
    }
}

/// Children of `pid` that are zombies (state Z), from /proc.
func zombieChildren(of pid: Int32) -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    var zombies = 0
    for entry in entries where Int32(entry) != nil {
        guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 2, fields[1] == "Z", Int32(fields[2]) == pid { zombies += 1 }
    }
    return zombies
}

/// Whether `pid` exists and is not a zombie waiting for whoever adopted it.
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
}

func childPIDs(of pid: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.flatMap { task in
        ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { Int32($0) }
    }
}

@Suite("fork, threads and eventloop under load", .serialized)
struct ConcurrencyLiveTests {
    static let concurrentStages: [[String]] = [["fork"], ["threads"], ["eventloop"], ["eventloop", "--poller", "poll"]]

    @Test("1,000 simultaneous connections each get a correct response", .timeLimit(.minutes(3)), arguments: concurrentStages)
    func thousandConnections(_ arguments: [String]) throws {
        let server = try ServerProcess(arguments)
        defer { server.stop() }
        let statuses = try simultaneousRequests(port: server.port, count: 1000)
        #expect(statuses == [200: 1000], "\(arguments): \(statuses)")
    }

    @Test("a client trickling one byte every 100 ms does not delay a normal client", .timeLimit(.minutes(2)),
          arguments: concurrentStages)
    func slowClientDoesNotDelayOthers(_ arguments: [String]) throws {
        let server = try ServerProcess(arguments)
        defer { server.stop() }
        _ = try timedRequest(port: server.port) // warm up
        let baseline = try (0..<5).map { _ in try timedRequest(port: server.port).ms }.min()!
        let slow = try TricklingClient(port: server.port)
        defer { slow.stop() }
        usleep(300_000) // the slow client is mid-request now
        let delays = try (0..<5).map { _ -> Double in
            let result = try timedRequest(port: server.port)
            #expect(result.status == 200)
            return result.ms - baseline
        }
        // A stage that waits for the slow client delays every request by up to its header timeout (seconds);
        // a concurrent one delays none. The median keeps one scheduler hiccup of a busy test machine (a
        // 227 ms outlier under the full parallel suite) from failing the test; the maximum still has a bound.
        let median = delays.sorted()[delays.count / 2]
        #expect(median < 50 && delays.max()! < 1000, "\(arguments): normal requests were delayed by \(delays) ms")
    }

    @Test("the iterative static stage is delayed by a slow client", .timeLimit(.minutes(2)))
    func staticIsDelayedBySlowClient() throws {
        let server = try ServerProcess(["static", "--header-timeout", "1"])
        defer { server.stop() }
        let slow = try TricklingClient(port: server.port)
        defer { slow.stop() }
        usleep(200_000)
        let result = try timedRequest(port: server.port)
        // The slow client holds the only "worker" until its header timeout (1 s) ends it.
        #expect(result.ms > 500, "static answered in \(result.ms) ms despite the slow client")
        print("static with one slow client: a normal request took \(Int(result.ms)) ms")
    }

    @Test(.timeLimit(.minutes(3))) func forkLeavesNoZombiesAndStopsItsChildren() throws {
        let server = try ServerProcess(["fork"])
        defer { server.stop() }
        for _ in 0..<4 {
            let statuses = try simultaneousRequests(port: server.port, count: 250)
            #expect(statuses == [200: 250])
        }
        usleep(300_000)
        #expect(zombieChildren(of: server.pid) == 0)
        #expect(childPIDs(of: server.pid).isEmpty, "children still running: \(childPIDs(of: server.pid))")

        // A child busy with a half-sent request; SIGTERM to the parent ends both.
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET / HTTP/1.1\r\n")
        var children: [Int32] = []
        for _ in 0..<100 where children.isEmpty {
            children = childPIDs(of: server.pid)
            usleep(20_000)
        }
        #expect(children.count == 1)
        #expect(server.stop() == 0)
        usleep(500_000)
        for child in children {
            #expect(isRunning(child) == false, "child \(child) outlived the server")
        }
    }

    @Test(.timeLimit(.minutes(3))) func eventLoopHoldsTenThousandIdleConnections() throws {
        let server = try ServerProcess(["eventloop", "--header-timeout", "120"])
        defer { server.stop() }
        Processes.raiseOpenFileLimit()
        var idle: [Socket] = []
        defer { idle.forEach { $0.close() } }
        for _ in 0..<10_000 { idle.append(try Socket.connect(host: "127.0.0.1", port: server.port)) }
        usleep(500_000)
        let result = try timedRequest(port: server.port)
        #expect(result.status == 200)
        #expect(result.ms < 100, "a new request took \(result.ms) ms next to 10,000 idle connections")
        let rss = server.memoryKB("VmRSS") ?? 0
        print("eventloop with 10,000 idle connections: a new request took \(String(format: "%.1f", result.ms)) ms; server RSS \(rss / 1024) MB")
    }

    @Test(.timeLimit(.minutes(2))) func selectRefusesBeyondFDSetSizeWithoutCrashing() throws {
        let server = try ServerProcess(["eventloop", "--poller", "select", "--header-timeout", "60"])
        defer { server.stop() }
        Processes.raiseOpenFileLimit()
        var clients: [RawClient] = []
        for _ in 0..<1100 { clients.append(try RawClient(port: server.port)) }
        // Some of the last connections got descriptors beyond FD_SETSIZE and a 503.
        let last = try ParsedResponse(clients.last!.readToEnd())
        #expect(last.status == 503)
        #expect(last.text.contains("select"))
        clients.forEach { $0.close() }
        usleep(300_000)
        #expect(server.output.contains("FD_SETSIZE"))
        #expect(server.process.isRunning)
        #expect(try timedRequest(port: server.port).status == 200)
    }

    @Test("clients that vanish mid-request or mid-response never stall a stage", .timeLimit(.minutes(2)),
          arguments: [["static"], ["fork"], ["threads"], ["eventloop"]])
    func disconnects(_ arguments: [String]) throws {
        let directory = TemporaryDirectory()
        directory.write("big.bin", String(repeating: "x", count: 8 << 20))
        directory.write("small.txt", "small")
        let server = try ServerProcess(arguments + ["--root", directory.path])
        defer { server.stop() }
        for _ in 0..<5 {
            let midRequest = try RawClient(port: server.port)
            try midRequest.send("GET /small.txt HTTP/1.1\r\nHo")
            midRequest.close()
            let midResponse = try RawClient(port: server.port)
            try midResponse.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try midResponse.read(count: 1000)
            var linger = linger(l_onoff: 1, l_linger: 0) // close with RST
            setsockopt(midResponse.socket.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            midResponse.close()
        }
        let result = try RawClient.exchange(port: server.port, "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(result.status == 200)
        #expect(result.text == "small")
        #expect(server.process.isRunning)
    }
}

@Suite("httpkit bench")
struct BenchLiveTests {
    @Test(.timeLimit(.minutes(2))) func loadsAURL() throws {
        let server = try ServerProcess(["eventloop"])
        defer { server.stop() }
        let result = try run(HTTPKitBinary.path, ["bench", "http://127.0.0.1:\(server.port)/hello.txt", "-n", "200", "-c", "10"])
        #expect(result.status == 0)
        let row = result.stdout.split(separator: "\n").first { $0.hasPrefix("result") }
        let cells = row?.split(separator: " ") ?? []
        #expect(cells.count >= 9, "\(result.stdout)")
        #expect(cells.dropFirst().first == "200")   // requests
        #expect(cells.dropFirst(7).first == "0")    // errors
    }

    @Test(.timeLimit(.minutes(3))) func comparesStages() throws {
        let result = try run(HTTPKitBinary.path, ["bench", "--compare", "static,threads,eventloop", "-n", "300", "-c", "20"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("stage") && $0.contains("peak PSS") && $0.contains("threads") })
        for stage in ["static", "threads", "eventloop"] {
            let row = lines.first { $0.hasPrefix(stage + " ") }?.split(separator: " ")
            #expect(row?.dropFirst().first == "300", "\(stage): \(result.stdout)")
        }
    }

    @Test("bad bench input is one clear line", arguments: [
        (["bench"], "give a URL"),
        (["bench", "https://x/"], "http://"),
        (["bench", "http://127.0.0.1:8080/", "-c", "0"], "--concurrency"),
        (["bench", "--compare", "static,nope"], "'nope'"),
        (["bench", "--compare", "hello"], "'hello'"),
        (["bench", "--compare", "/nonexistent/benchmarks.json"], "cannot read"),
        (["bench", "--compare", "static", "--workload", "h2-"], "--workload"),
    ])
    func badInput(_ arguments: [String], _ mentions: String) throws {
        let result = try run(HTTPKitBinary.path, arguments)
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
    }

    /// scripts/bench's round table, rewritten from a JSON alone: in round 1 httpkit leads both peers on
    /// requests and CPU, in round 2 on neither, so "1/2 · 1/2" — where the medians alone would not say so.
    @Test("scripts/bench --markdown-only counts the rounds httpkit led; a JSON it cannot read, --pin where it cannot pin (two workers, one CPU), or --wrk-threads 0 is one clear line")
    func benchScriptRoundTable() throws {
        guard let python = which("python3") else { throw TestFailure("python3 is needed (scripts/setup installs it)") }
        let script = HTTPKitBinary.repository.appendingPathComponent("scripts/bench").path
        let directory = TemporaryDirectory()
        func result(_ server: String, _ runs: [(Double, Double)]) -> String {
            let rounds = runs.map { "{\"rps\": \($0.0), \"cpu_us\": \($0.1)}" }.joined(separator: ", ")
            return """
                {"workload": "w", "server": "\(server)", "rps": \(runs[0].0), "cpu_us": \(runs[0].1), "p50_ms": 1, "p90_ms": 2, \
                "p99_ms": 3, "errors": 0, "peak_rss_mb": 9, "runs": [\(rounds)]}
                """
        }
        directory.write("b.json", """
            {"http1": {"title": "HTTP/1.1 (wrk)", "date": "2026-12-03", "machine": "Linux", "cores": 2, "command": "scripts/bench",
             "rounds": 2, "duration_s": 3, "workers": 1,
             "servers": [{"name": "nginx", "peer": true}, {"name": "h2o", "peer": true}, {"name": "httpkit keepalive", "peer": false}],
             "workloads": [{"id": "w", "label": "13 B, keep-alive, c100", "command": "wrk -t2 -c100"}],
             "results": [\(result("nginx", [(90, 6), (90, 6)])), \(result("h2o", [(95, 7), (70, 4)])),
                         \(result("httpkit keepalive", [(100, 5), (80, 5)]))]}}
            """)
        let json = directory.path + "/b.json", markdown = directory.path + "/b.md"
        let made = try run(python, [script, "--markdown-only", "--json", json, "--output", markdown])
        #expect(made.status == 0, "\(made.stderr)")
        let text = (try? String(contentsOfFile: markdown, encoding: .utf8)) ?? ""
        #expect(text.contains("| workload | httpkit keepalive |"), "\(text)")
        #expect(text.contains("| 13 B, keep-alive, c100 | 1/2 · 1/2 |"), "\(text)")

        let missing = try run(python, [script, "--markdown-only", "--json", directory.path + "/none.json", "--output", markdown])
        #expect(missing.status != 0)
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("--markdown-only: cannot read"), "\(missing.stderr)")

        // --pin puts the servers on one CPU: with two workers each it would measure the pinning, not the
        // servers. Refused before anything is started or looked for (wrk, nginx…), naming both flags.
        let pinned = try run(python, [script, "--pin", "--workers", "2", "--output", markdown])
        #expect(pinned.status != 0)
        #expect(pinned.stderr.split(separator: "\n").count == 1, "\(pinned.stderr)")
        #expect(pinned.stderr.contains("--pin") && pinned.stderr.contains("--workers 1"), "\(pinned.stderr)")

        // wrk needs a thread: refused in one line naming the flag, before anything is started or looked for.
        let noThreads = try run(python, [script, "--wrk-threads", "0", "--output", markdown])
        #expect(noThreads.status != 0)
        #expect(noThreads.stderr.split(separator: "\n").count == 1, "\(noThreads.stderr)")
        #expect(noThreads.stderr.contains("--wrk-threads 0"), "\(noThreads.stderr)")

        // With one CPU there is no other CPU for the load generator: refused in one line, not run all on one.
        if let taskset = which("taskset") {
            let oneCPU = try run(taskset, ["-c", "0", python, script, "--pin", "--output", markdown])
            #expect(oneCPU.status != 0)
            #expect(oneCPU.stderr.split(separator: "\n").count == 1, "\(oneCPU.stderr)")
            #expect(oneCPU.stderr.contains("--pin needs at least 2 CPUs"), "\(oneCPU.stderr)")
        }
    }
}
