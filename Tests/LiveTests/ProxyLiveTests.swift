import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The proxy stage with real parts: httpkit's router and small Python servers as upstreams, curl, Python's
/// http.client and wrk as clients. Every process is started on port 0 and stopped by its pid.
@Suite("proxy: a reverse proxy in front of real upstreams", .serialized)
struct ProxyLiveTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/proxy_upstream.py").path
    static var python: String { which("python3") ?? "/usr/bin/python3" }

    /// A Python upstream from Fixtures/proxy_upstream.py. Stop it with SIGKILL: the test runner's children
    /// may inherit SIGTERM ignored, and Python keeps an inherited SIG_IGN.
    static func upstream(_ mode: String, _ name: String) throws -> ServerProcess {
        do {
            return try ServerProcess(executable: python, arguments: ["-u", fixture, mode, name], timeout: 10, name: "upstream")
        } catch {
            throw TestFailure("\(error): \(error.output)")
        }
    }

    static func proxy(_ upstreams: [ServerProcess], _ extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(["proxy"] + upstreams.flatMap { ["--upstream", "127.0.0.1:\($0.port)"] } + extra)
    }

    /// One request on a fresh connection that the test closes after reading the response (keep-alive
    /// responses do not end with a close, so this reads by the response's framing).
    static func request(_ port: UInt16, _ raw: String) throws -> ParsedResponse {
        try RawClient.exchange(port: port, raw.contains("Connection: close") ? raw : raw.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n"))
    }

    static func metrics(_ port: UInt16) throws -> String {
        try request(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text
    }

    /// The value of one sample in a /metrics text, such as `httpkit_proxy_upstream_requests_total{upstream="…"}`.
    static func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test(.timeLimit(.minutes(1))) func forwardsToTheRouterForCurlAndPython() throws {
        let router = try ServerProcess(["router", "--access-log", "off"])
        defer { router.stop() }
        let proxy = try Self.proxy([router])
        defer { proxy.stop() }
        let result = try curl(["-sv", "http://127.0.0.1:\(proxy.port)/users/1"])
        #expect(result.stdout == "{\"id\": \"1\", \"name\": \"Ada Lovelace\"}\n")
        #expect(result.stderr.contains("< Via: 1.1 httpkit"))
        let script = """
        import http.client, sys
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
        for path in ["/echo/one", "/chunked/3", "/hello.txt"]:
            c.request("GET", path)
            r = c.getresponse()
            print(r.status, len(r.read()))
        c.request("POST", "/api/echo", body='{"a": [1, 2]}', headers={"Content-Type": "application/json"})
        r = c.getresponse()
        print(r.status, r.read().decode())
        """
        let python = try run(Self.python, ["-c", script, String(proxy.port)], timeout: 20)
        #expect(python.stdout == "200 3\n200 36\n200 48\n200 {\"a\": [1, 2]}\n", "\(python.stderr)")
        // An HTTP/1.0 client without Host: the HTTP/1.1 hop gets a Host, the chunked answer ends with the close.
        let old = try RawClient.exchange(port: proxy.port, "GET /chunked/2 HTTP/1.0\r\n\r\n")
        #expect(old.status == 200 && old.text == "line 1 of 2\nline 2 of 2\n" && old.header("Connection") == "close")
        // Four requests on one client connection went over pooled upstream connections.
        let metrics = try Self.metrics(proxy.port)
        #expect(Self.sample(metrics, "httpkit_proxy_upstream_requests_total{upstream=\"127.0.0.1:\(router.port)\"}") == 6)
        #expect(Self.sample(metrics, "httpkit_proxy_upstream_idle_connections{upstream=\"127.0.0.1:\(router.port)\"}").map { $0 >= 1 } == true)
    }

    @Test(.timeLimit(.minutes(1))) func hopByHopHeadersStopAtTheProxy() throws {
        let echo = try Self.upstream("echo", "a")
        defer { echo.stop(signal: SIGKILL) }
        let proxy = try Self.proxy([echo])
        defer { proxy.stop() }
        let response = try Self.request(proxy.port, "GET /look?x=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\nAccept: */*\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("X-Upstream") == "a")
        #expect(response.header("Via") == "1.1 httpkit")
        let seen = response.text.lowercased()
        #expect(seen.hasPrefix("get /look?x=1 http/1.1\r\nhost: shop.example\r\n"), "Host is kept: \(seen)")
        for field in ["x-secret", "keep-alive", "te:", "upgrade", "proxy-connection", "connection"] {
            #expect(!seen.contains(field), "\(field) reached the upstream: \(seen)")
        }
        #expect(seen.contains("x-forwarded-for: 192.0.2.1, 127.0.0.1\r\n"))
        #expect(seen.contains("x-forwarded-proto: http\r\n"))
        #expect(seen.contains("via: 1.1 httpkit\r\n"))
    }

    @Test(.timeLimit(.minutes(1))) func pipelinedRequestsAreAnsweredInOrder() throws {
        let router = try ServerProcess(["router", "--access-log", "off"])
        defer { router.stop() }
        let proxy = try Self.proxy([router])
        defer { proxy.stop() }
        let client = try RawClient(port: proxy.port)
        defer { client.close() }
        try client.send("GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\nGET /chunked/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let text = String(decoding: try client.readToEnd(), as: UTF8.self)
        let one = try #require(text.range(of: "\r\n\r\none")), chunked = try #require(text.range(of: "line 2 of 2"))
        let three = try #require(text.range(of: "\r\n\r\nthree"))
        #expect(one.lowerBound < chunked.lowerBound && chunked.lowerBound < three.lowerBound)
        #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
    }

    @Test(.timeLimit(.minutes(1))) func twoUpstreamsShareTheRequests() throws {
        let a = try Self.upstream("echo", "a"), b = try Self.upstream("echo", "b")
        defer { a.stop(signal: SIGKILL); b.stop(signal: SIGKILL) }
        for balance in ["round-robin", "least-connections"] {
            let proxy = try Self.proxy([a, b], ["--balance", balance])
            defer { proxy.stop() }
            var counts: [String: Int] = [:]
            for _ in 0..<10 {
                let response = try Self.request(proxy.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                counts[response.header("X-Upstream") ?? "?", default: 0] += 1
            }
            if balance == "round-robin" { #expect(counts == ["a": 5, "b": 5]) }
            else { #expect(counts["a", default: 0] > 0 && counts["b", default: 0] > 0, "\(counts)") }
        }
    }

    @Test(.timeLimit(.minutes(1))) func aDeadUpstreamIs502AndASilentOneIs504() throws {
        // A port that nobody listens on: taken from a server that has stopped.
        let gone = try Self.upstream("echo", "gone")
        let deadPort = gone.port
        gone.stop(signal: SIGKILL)
        let proxy = try ServerProcess(["proxy", "--upstream", "127.0.0.1:\(deadPort)"])
        defer { proxy.stop() }
        let dead = try Self.request(proxy.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(dead.status == 502)
        #expect(dead.text.contains("could not connect to the upstream 127.0.0.1:\(deadPort)") && dead.text.contains("ECONNREFUSED"), "\(dead.text)")

        let silent = try Self.upstream("silent", "s")
        defer { silent.stop(signal: SIGKILL) }
        let slowProxy = try Self.proxy([silent], ["--upstream-timeout", "0.5"])
        defer { slowProxy.stop() }
        let started = Date()
        let timedOut = try Self.request(slowProxy.port, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        #expect(timedOut.status == 504)
        #expect(timedOut.text == "504 Gateway Timeout: the upstream 127.0.0.1:\(silent.port) sent nothing for 0.5 s\n")
        #expect(Date().timeIntervalSince(started) < 3) // POST is not retried: one timeout
        let metrics = try Self.metrics(slowProxy.port)
        #expect(Self.sample(metrics, "httpkit_proxy_upstream_failures_total{upstream=\"127.0.0.1:\(silent.port)\"}") == 1)
    }

    /// A GET whose upstream refuses the connection is sent to the other one; a POST is not sent twice.
    @Test(.timeLimit(.minutes(1))) func aRefusedGetGoesToTheOtherUpstream() throws {
        let gone = try Self.upstream("echo", "gone")
        let deadPort = gone.port
        gone.stop(signal: SIGKILL)
        let live = try Self.upstream("echo", "live")
        defer { live.stop(signal: SIGKILL) }
        // --max-fails 100 keeps the dead one in the turn, so every request meets it first.
        let proxy = try ServerProcess(["proxy", "--upstream", "127.0.0.1:\(deadPort)", "--upstream", "127.0.0.1:\(live.port)", "--max-fails", "100"])
        defer { proxy.stop() }
        for _ in 0..<4 {
            let response = try Self.request(proxy.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response.status == 200 && response.header("X-Upstream") == "live", "\(response.status) \(response.text)")
        }
        let posts = try (0..<2).map { _ in try Self.request(proxy.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi").status }
        #expect(posts.sorted() == [200, 502], "\(posts)")
    }

    /// Requests the parser finds ambiguous never reach the upstream (the parser fixtures' smuggling cases).
    @Test(.timeLimit(.minutes(1))) func ambiguousRequestsAreRefusedBeforeForwarding() throws {
        let echo = try Self.upstream("echo", "a")
        defer { echo.stop(signal: SIGKILL) }
        let proxy = try Self.proxy([echo])
        defer { proxy.stop() }
        let smuggling = [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!",
            "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n",
        ]
        for raw in smuggling {
            let client = try RawClient(port: proxy.port, timeout: 5)
            defer { client.close() }
            try client.send(raw)
            let response = try ParsedResponse(client.readToEnd())
            #expect(response.status == 400, "\(raw.debugDescription): \(response.status)")
            #expect(response.header("Connection") == "close")
        }
        let metrics = try Self.metrics(proxy.port)
        #expect(Self.sample(metrics, "httpkit_proxy_upstream_requests_total{upstream=\"127.0.0.1:\(echo.port)\"}") == 0)
        // A body that breaks the chunked rules halfway: its head went upstream, the cut request does not
        // leave a connection the upstream could read a next request from, and the client gets 400.
        let cut = try RawClient.exchange(port: proxy.port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n")
        #expect(cut.status == 400)
        let after = try Self.metrics(proxy.port)
        #expect(Self.sample(after, "httpkit_proxy_upstream_idle_connections{upstream=\"127.0.0.1:\(echo.port)\"}") == 0)
        #expect(try Self.request(proxy.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == 200)
    }

    /// A load through the proxy; halfway, one of two upstreams is killed. No client hangs, the requests
    /// after the kill are served by the other one (idempotent GETs that failed are retried there).
    @Test(.timeLimit(.minutes(2))) func anUpstreamKilledDuringALoad() throws {
        let a = try ServerProcess(["router", "--access-log", "off"]), b = try ServerProcess(["router", "--access-log", "off"])
        defer { a.stop(); b.stop() }
        let proxy = try Self.proxy([a, b], ["--max-fails", "1", "--down-time", "30"])
        defer { proxy.stop() }
        let script = """
        import http.client, sys, threading, time
        port, seconds = int(sys.argv[1]), float(sys.argv[2])
        results, lock = {}, threading.Lock()
        def worker():
            end = time.time() + seconds
            c = None
            while time.time() < end:
                try:
                    if c is None:
                        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/echo/hi")
                    r = c.getresponse()
                    body = r.read()
                    key = str(r.status) if body == b"hi" or r.status != 200 else "bad-body"
                    if r.getheader("Connection") == "close":
                        c.close(); c = None
                except TimeoutError:
                    key = "timeout"; c = None
                except Exception as e:
                    key = type(e).__name__; c = None
                with lock:
                    results[key] = results.get(key, 0) + 1
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(" ".join(f"{k}={v}" for k, v in sorted(results.items())))
        """
        let load = Process()
        load.executableURL = URL(fileURLWithPath: Self.python)
        load.arguments = ["-c", script, String(proxy.port), "3"]
        let output = Pipe()
        load.standardOutput = output
        try load.run()
        usleep(1_200_000)
        kill(a.pid, SIGKILL)
        let deadline = Date().addingTimeInterval(30)
        while load.isRunning && Date() < deadline { usleep(50_000) }
        if load.isRunning { load.terminate() }
        let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let counts = Dictionary(uniqueKeysWithValues: summary.split(separator: " ").compactMap { pair -> (String, Int)? in
            let parts = pair.split(separator: "=")
            return parts.count == 2 ? (String(parts[0]), Int(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) : nil
        })
        #expect(counts["timeout"] == nil, "a client hung: \(summary)")
        #expect(counts["bad-body"] == nil, "\(summary)")
        #expect(counts["200", default: 0] > 100, "\(summary)")
        // Failures the retry could not hide are allowed, but few: 502s, or a connection cut mid-response.
        let failed = counts.filter { $0.key != "200" }.values.reduce(0, +)
        #expect(failed <= 16, "\(summary)")
        // Afterwards every request goes to the survivor.
        for _ in 0..<4 { #expect(try Self.request(proxy.port, "GET /echo/ok HTTP/1.1\r\nHost: x\r\n\r\n").text == "ok") }
        let metrics = try Self.metrics(proxy.port)
        #expect(Self.sample(metrics, "httpkit_proxy_upstream_up{upstream=\"127.0.0.1:\(a.port)\"}") == 0)
        #expect(Self.sample(metrics, "httpkit_proxy_upstream_up{upstream=\"127.0.0.1:\(b.port)\"}") == 1)
    }

    @Test(.timeLimit(.minutes(1))) func wrkThroughTheProxy() throws {
        guard let wrk = which("wrk") else { return } // optional: the Python load above always runs
        let router = try ServerProcess(["router", "--access-log", "off"])
        defer { router.stop() }
        let proxy = try Self.proxy([router])
        defer { proxy.stop() }
        let result = try run(wrk, ["-t2", "-c20", "-d2s", "http://127.0.0.1:\(proxy.port)/hello.txt"], timeout: 30)
        #expect(result.status == 0)
        #expect(!result.stdout.contains("Non-2xx"), "\(result.stdout)")
        #expect(!result.stdout.contains("Socket errors"), "\(result.stdout)")
        let requests = result.stdout.split(separator: "\n").first { $0.contains("requests in") }
        #expect(requests.flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) }.map { $0 > 500 } == true, "\(result.stdout)")
    }

    /// 256 MB down and up through the proxy: the proxy's memory stays flat (backpressure both ways).
    @Test(.timeLimit(.minutes(2))) func largeBodiesStreamBothWaysWithoutMemoryGrowth() throws {
        let directory = TemporaryDirectory()
        let size = 256 << 20
        _ = FileManager.default.createFile(atPath: directory.path + "/big.bin", contents: nil)
        truncate(directory.path + "/big.bin", off_t(size))
        let router = try ServerProcess(["router", "--access-log", "off", "--directory", directory.path, "--max-body", "1000000000"])
        defer { router.stop() }
        let proxy = try Self.proxy([router], ["--max-body", "1000000000"])
        defer { proxy.stop() }
        _ = try curl(["-s", "http://127.0.0.1:\(proxy.port)/hello.txt"])
        let before = proxy.memoryKB("VmRSS") ?? 0
        let down = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "http://127.0.0.1:\(proxy.port)/files/big.bin"], timeout: 60)
        #expect(down.stdout == "200 \(size)")
        let up = try curl(["-s", "-X", "POST", "-T", directory.path + "/big.bin", "http://127.0.0.1:\(proxy.port)/files/copy.bin"], timeout: 60)
        #expect(up.stdout.hasPrefix("201 Created: \(size) bytes written"), "\(up.stdout)")
        let peak = proxy.memoryKB("VmHWM") ?? 0
        #expect(peak - before < 16 * 1024, "the proxy grew from \(before) kB to a peak of \(peak) kB")
    }

    /// The cache: a fresh copy is served without the upstream (with Age), a stale one revalidated with
    /// its ETag (304 upstream, 200 with the stored body to the client); authorised requests and POSTs pass by.
    @Test(.timeLimit(.minutes(1))) func theCacheServesRevalidatesAndStaysOutOfTheWay() throws {
        let router = try ServerProcess(["router", "--access-log", "off", "--cache-max-age", "1"])
        defer { router.stop() }
        let proxy = try Self.proxy([router], ["--cache-size", "1m"])
        defer { proxy.stop() }
        let upstreamRequests = "httpkit_proxy_upstream_requests_total{upstream=\"127.0.0.1:\(router.port)\"}"
        let first = try Self.request(proxy.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let second = try Self.request(proxy.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(first.status == 200 && second.status == 200 && first.body == second.body)
        #expect(first.header("Age") == nil && second.header("Age") == "0")
        var metrics = try Self.metrics(proxy.port)
        #expect(Self.sample(metrics, upstreamRequests) == 1)
        #expect(Self.sample(metrics, "httpkit_proxy_cache_requests_total{result=\"hit\"}") == 1)
        usleep(2_100_000) // max-age=1: stale now
        let third = try Self.request(proxy.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(third.status == 200 && third.body == first.body)
        metrics = try Self.metrics(proxy.port)
        #expect(Self.sample(metrics, "httpkit_proxy_cache_requests_total{result=\"revalidated\"}") == 1)
        #expect(Self.sample(metrics, upstreamRequests) == 2)
        // Credentials and other methods always go to the upstream.
        _ = try Self.request(proxy.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic bGVhcm5lcjpodHRwa2l0\r\n\r\n")
        _ = try Self.request(proxy.port, "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        #expect(Self.sample(try Self.metrics(proxy.port), upstreamRequests) == 4)
    }

    /// A WebSocket through the proxy: the upgrade goes upstream, the 101 comes back, then bytes both ways
    /// (Python's websockets as the client, the websocket stage's /ws echo as the upstream).
    @Test(.timeLimit(.minutes(1))) func webSocketsAreTunnelled() throws {
        guard (try? run(Self.python, ["-c", "import websockets.asyncio.client"]))?.status == 0 else {
            Issue.record("Python's websockets package is not installed (scripts/setup installs it)")
            return
        }
        let upstream = try ServerProcess(["websocket", "--access-log", "off"])
        defer { upstream.stop() }
        let proxy = try Self.proxy([upstream])
        defer { proxy.stop() }
        let script = """
        import asyncio, sys
        from websockets.asyncio.client import connect
        async def main():
            async with connect(sys.argv[1]) as ws:
                for message in ["hello", "x" * 300000, bytes(range(256))]:
                    await ws.send(message)
                    print(await ws.recv() == message)
                await (await ws.ping(b"p"))
                print("pong")
        asyncio.run(main())
        """
        let result = try run(Self.python, ["-c", script, "ws://127.0.0.1:\(proxy.port)/ws"], timeout: 30)
        #expect(result.stdout == "True\nTrue\nTrue\npong\n", "\(result.stderr)")
        // A plain GET with Upgrade to something else is forwarded without it (Upgrade is hop-by-hop).
        let plain = try Self.request(proxy.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        #expect(plain.status == 200)
    }

    /// /metrics on every event-loop stage that keeps counters, checked by promtool and Python's
    /// prometheus_client parser. promtool is required in CI (scripts/setup installs it).
    @Test(.timeLimit(.minutes(2))) func metricsAreValidPrometheusText() throws {
        let router = try ServerProcess(["router", "--access-log", "off"])
        defer { router.stop() }
        let proxy = try Self.proxy([router])
        defer { proxy.stop() }
        let webSocket = try ServerProcess(["websocket", "--access-log", "off"])
        defer { webSocket.stop() }
        let http2 = try ServerProcess(["http2", "--access-log", "off"])
        defer { http2.stop() }
        _ = try curl(["-s", "http://127.0.0.1:\(proxy.port)/hello.txt", "http://127.0.0.1:\(proxy.port)/nope"])
        _ = try curl(["-s", "--http2-prior-knowledge", "http://127.0.0.1:\(http2.port)/hello.txt"])
        var texts: [String: String] = [:]
        for (name, server) in [("router", router), ("proxy", proxy), ("websocket", webSocket), ("http2", http2)] {
            let response = try Self.request(server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            texts[name] = response.text
        }
        let proxyText = texts["proxy"] ?? ""
        #expect(Self.sample(proxyText, "httpkit_http_requests_total{method=\"GET\",status=\"2xx\"}") == 1)
        #expect(Self.sample(proxyText, "httpkit_http_requests_total{method=\"GET\",status=\"4xx\"}") == 1)
        #expect(Self.sample(proxyText, "httpkit_http_request_duration_seconds_count") == 2)
        #expect(Self.sample(texts["router"] ?? "", "httpkit_http_requests_total{method=\"GET\",status=\"2xx\"}") == 1)
        #expect(Self.sample(texts["http2"] ?? "", "httpkit_http2_streams_total") == 1)

        if let promtool = which("promtool") {
            for (name, text) in texts {
                let file = NSTemporaryDirectory() + "httpkit-metrics-\(UUID().uuidString).txt"
                defer { try? FileManager.default.removeItem(atPath: file) }
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let checked = try run("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"], timeout: 20)
                #expect(checked.status == 0, "promtool on \(name): \(checked.stdout) \(checked.stderr)")
            }
        } else if BrowserLiveTests.required {
            Issue.record("promtool is not installed, and CI (HTTPKIT_REQUIRE_BROWSER=1) requires it (scripts/setup installs Debian's prometheus)")
        }
        let parse = """
        import sys
        from prometheus_client.parser import text_string_to_metric_families
        names = [f.name for f in text_string_to_metric_families(sys.stdin.read())]
        print(len(names))
        """
        if (try? run(Self.python, ["-c", "import prometheus_client"]))?.status == 0 {
            for (name, text) in texts {
                let file = NSTemporaryDirectory() + "httpkit-metrics-\(UUID().uuidString).txt"
                defer { try? FileManager.default.removeItem(atPath: file) }
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let parsed = try run("/bin/sh", ["-c", "\(Self.python) -c '\(parse)' < \(file)"], timeout: 20)
                #expect(parsed.status == 0 && (Int(parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 7,
                        "prometheus_client on \(name): \(parsed.stdout) \(parsed.stderr)")
            }
        } else if BrowserLiveTests.required {
            Issue.record("Python's prometheus_client is not installed, and CI requires it (scripts/setup installs it)")
        }

        let off = try ServerProcess(["router", "--access-log", "off", "--metrics", "off"])
        defer { off.stop() }
        #expect(try Self.request(off.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").status == 404)
    }
}
