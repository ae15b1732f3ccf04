import Foundation
import Testing

/// The http2 stage with real HTTP/2 clients: curl, nghttp, h2load, and Chromium over TLS.
@Suite("the http2 stage", .serialized)
final class HTTP2LiveTests {
    let server: ServerProcess

    init() throws {
        server = try ServerProcess(["http2"])
    }

    deinit { server.stop() }

    var base: String { "http://127.0.0.1:\(server.port)" }

    @Test func curlWithPriorKnowledgeAndHTTP11OnTheSamePort() throws {
        let h2 = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{http_version} %{size_download}", base + "/hello.txt"])
        let size = try FileManager.default.attributesOfItem(atPath: HTTPKitBinary.repository.appendingPathComponent("www/hello.txt").path)[.size] as? Int
        #expect(h2.stdout == "200 2 \(size ?? -1)")
        #expect(try curl(["-s", "--http2-prior-knowledge", base + "/echo/over-h2"]).stdout == "over-h2")
        let http11 = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", base + "/hello.txt"])
        #expect(http11.stdout == "200 1.1")
        // Conditional and range requests go through the same middleware over HTTP/2.
        let range = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-r", "0-3", base + "/style.css"])
        #expect(range.stdout == "206 4")
        let missing = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", base + "/no/such"])
        #expect(missing.stdout == "404")
        // A POST body across DATA frames reaches the handler.
        let json = try curl(["-s", "--http2-prior-knowledge", "-H", "Content-Type: application/json", "--data", "{\"a\": [1, 2, 3]}", base + "/api/echo"])
        #expect(json.stdout == "{\"a\": [1, 2, 3]}")
    }

    @Test func nghttpSeesFramesAndManyStreams() throws {
        guard let nghttp = which("nghttp") else { Issue.record("nghttp is not installed (scripts/setup installs nghttp2-client)"); return }
        let result = try run(nghttp, ["-nv", base + "/hello.txt"], timeout: 20)
        #expect(result.stdout.contains("recv SETTINGS frame"), "\(result.stdout.prefix(500))")
        #expect(result.stdout.contains(":status: 200"))
        #expect(result.stdout.contains("recv DATA frame"))
        #expect(!result.stdout.contains("RST_STREAM") && !result.stdout.contains("error_code=PROTOCOL_ERROR"))
        // The page and its assets as concurrent streams on one connection.
        let assets = try run(nghttp, ["-nva", base + "/"], timeout: 20)
        #expect(assets.status == 0)
        #expect(assets.stdout.components(separatedBy: ":status: 200").count - 1 >= 4, "\(assets.stdout.suffix(400))")
    }

    @Test func h2loadManyRequestsMultiplexed() throws {
        guard let h2load = which("h2load") else { Issue.record("h2load is not installed (scripts/setup installs nghttp2-client)"); return }
        let result = try run(h2load, ["-n", "2000", "-c", "10", "-m", "10", base + "/hello.txt"], timeout: 60)
        #expect(result.stdout.contains("2000 succeeded, 0 failed, 0 errored"), "\(result.stdout.suffix(600))")
        #expect(result.stdout.contains("status codes: 2000 2xx"))
    }

    @Test func curlHTTP2UpgradesFromHTTP11WithH2C() throws {
        // curl --http2 on http:// asks with Upgrade: h2c (RFC 7540 §3.2): 101, then the answer on stream 1.
        let upgraded = try curl(["-sv", "--http2", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", base + "/hello.txt"])
        #expect(upgraded.stdout == "200 2", "\(upgraded.stderr.suffix(800))")
        #expect(upgraded.stderr.contains("< HTTP/1.1 101 Switching Protocols") && upgraded.stderr.contains("< Upgrade: h2c"))
        // The connection goes on in HTTP/2: a second URL reuses it for stream 3.
        let two = try curl(["-sv", "--http2", "-o", "/dev/null", "-o", "/dev/null", base + "/hello.txt", base + "/style.css"])
        #expect(two.stderr.components(separatedBy: "< HTTP/2 200").count - 1 == 2, "\(two.stderr.suffix(800))")
        #expect(two.stderr.contains("Re-using existing connection") || two.stderr.contains("Reusing existing"))
        // A request with a body is not upgraded (the server may decline): HTTP/1.1 answers it.
        let post = try curl(["-s", "--http2", "--data", "{}", "-H", "Content-Type: application/json", "-o", "/dev/null",
                             "-w", "%{http_code} %{http_version}", base + "/api/echo"])
        #expect(post.stdout == "200 1.1")
    }

    @Test func aLargeFileLeavesFromDiskAsTheWindowsAllow() throws {
        // 256 MiB (sparse, so the disk is spared): read whole, it would take the server's memory with it.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("httpkit-h2-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let size = 256 << 20
        #expect(FileManager.default.createFile(atPath: root.appendingPathComponent("big.bin").path, contents: nil))
        let handle = try FileHandle(forWritingTo: root.appendingPathComponent("big.bin"))
        try handle.truncate(atOffset: UInt64(size))
        try handle.write(contentsOf: Data("the end".utf8))
        try handle.close()
        let big = try ServerProcess(["http2", "--root", root.path])
        defer { big.stop() }
        let before = big.memoryKB("VmRSS") ?? 0
        let result = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                               "http://127.0.0.1:\(big.port)/big.bin"], timeout: 60)
        #expect(result.stdout == "200 \(size + 7)")
        let tail = try curl(["-s", "--http2-prior-knowledge", "-r", "\(size)-", "http://127.0.0.1:\(big.port)/big.bin"])
        #expect(tail.stdout == "the end")
        let peak = big.memoryKB("VmHWM") ?? .max
        #expect(peak - before < 32 * 1024, "peak RSS grew by \(peak - before) kB for a 256 MiB file")
    }

    @Test func anIdleConnectionIsToldWhyWithGOAWAY() throws {
        let quick = try ServerProcess(["http2", "--idle-timeout", "1"])
        defer { quick.stop() }
        let client = try RawClient(port: quick.port)
        defer { client.close() }
        try client.send(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0])
        let frames = HTTP2OnlyLiveTests.frames(try client.readToEnd())
        let goAway = try #require(frames.first { $0.type == 7 }, "no GOAWAY before the close")
        #expect(Array(goAway.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 0], "NO_ERROR")
        #expect(String(decoding: goAway.payload.dropFirst(8), as: UTF8.self).hasPrefix("idle for 1"))
    }

    @Test func aBrokenPrefaceIsAnsweredWithGOAWAY() throws {
        // "PRI * HTTP/2.0" then garbage: HTTP/2 after all, and a wrong preface is a connection error (§3.4).
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
        // Our SETTINGS (type 4) first, then GOAWAY (type 7) with PROTOCOL_ERROR (1), then the close.
        let frames = HTTP2OnlyLiveTests.frames(try client.readToEnd())
        let goAway = try #require(frames.first { $0.type == 7 })
        #expect(Array(goAway.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 1])
    }

    @Test func aFirstLineWithoutAVersionIsABrokenPrefaceAndOneWithAVersionIsHTTP11() throws {
        // h2spec 3.5/2: no HTTP/1.x client sends a request line without a version, so the mixed port takes it
        // as HTTP/2 with a wrong preface: SETTINGS, GOAWAY PROTOCOL_ERROR saying why, the close (RFC 9113 §3.4).
        let noVersion = try RawClient(port: server.port)
        defer { noVersion.close() }
        try noVersion.send("INVALID CONNECTION PREFACE\r\n\r\n")
        let frames = HTTP2OnlyLiveTests.frames(try noVersion.readToEnd())
        #expect(frames.map(\.type) == [4, 7], "SETTINGS, then GOAWAY, then nothing")
        let goAway = try #require(frames.last)
        #expect(Array(goAway.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 1], "PROTOCOL_ERROR")
        let debug = String(decoding: goAway.payload.dropFirst(8), as: UTF8.self)
        #expect(debug.contains("\"INVALID CONNECTION PREFACE\"") && debug.contains("or an HTTP/1.x request line"), "\(debug)")
        // A wrong request line that ends in a version is HTTP/1.x's to answer, readably, even cut by TCP.
        let wrongVersion = try RawClient(port: server.port)
        defer { wrongVersion.close() }
        try wrongVersion.send("GET / HT")
        usleep(100_000)
        try wrongVersion.send("TP/2.0\r\nHost: x\r\n\r\n")
        let answer = String(decoding: try wrongVersion.readToEnd(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 505 HTTP Version Not Supported\r\n"), "\(answer.prefix(200))")
        let split = try RawClient(port: server.port)
        defer { split.close() }
        try split.send("GET /hello.txt HTTP/1.1\r")
        usleep(100_000)
        try split.send("\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try split.readToEnd(), as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
    }

    @Test func anUnfinishedFirstLineGetsHTTP11s408() throws {
        // The port waits for a whole first line to choose a protocol; one that never ends was HTTP/1.1's to
        // finish, as far as the client saw, so the header timeout answers it as HTTP/1.1 does: 408.
        let quick = try ServerProcess(["http2", "--header-timeout", "1"])
        defer { quick.stop() }
        let client = try RawClient(port: quick.port)
        defer { client.close() }
        try client.send("GET /hello.txt HTTP/1.1")
        let answer = String(decoding: try client.readToEnd(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer.prefix(200))")
    }

    @Test(.timeLimit(.minutes(1))) func aShutdownWaitsForAFirstLineStillArriving() throws {
        // The probe holds "GET /hello.txt HTT" until the line ends: a request arriving, not an idle connection,
        // so SIGTERM lets it finish (answered with Connection: close), as the router stage does.
        let server = try ServerProcess(["http2", "--access-log", "off"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /hello.txt HTT")
        usleep(200_000)
        kill(server.pid, SIGTERM)
        usleep(300_000)
        #expect(server.process.isRunning, "the server waits for the request in flight")
        try client.send("P/1.1\r\nHost: x\r\n\r\n")
        let response = try ParsedResponse(client.readToEnd())
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
    }

    @Test(.timeLimit(.minutes(1)), arguments: HTTP2PythonLiveTests.pollers)
    func aConnectionThatTurnsHTTP2DuringAShutdownHearsGOAWAY(_ poller: String) throws {
        // The preface was still arriving at the stop, so the probe held it (HTTP/1.1 or HTTP/2 was not yet
        // known) and the connections told GOAWAY did not include it. Once it is HTTP/2, its request is answered
        // and GOAWAY names that stream as the last (§6.8); without it the connection stayed open, silent, until
        // the drain timeout (5 s) closed it.
        let server = try ServerProcess(["http2", "--access-log", "off", "--poller", poller])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        let request = HTTP2OnIOURingLiveTests.bigWindowRequest("/hello.txt")
        try client.send(Array(request.prefix(12))) // "PRI * HTTP/2"
        usleep(200_000)
        kill(server.pid, SIGTERM)
        usleep(300_000)
        #expect(server.process.isRunning, "the server waits for the connection still arriving")
        let sent = Date()
        try client.send(Array(request.dropFirst(12)))
        let frames = HTTP2OnlyLiveTests.frames(try client.readToEnd())
        #expect(Date().timeIntervalSince(sent) < 3, "closed by the GOAWAY, not by the drain timeout")
        #expect(frames.contains { $0.type == 1 }, "the answer's HEADERS: \(frames.map(\.type))")
        let goAway = try #require(frames.first { $0.type == 7 }, "no GOAWAY: \(frames.map(\.type))")
        #expect(Array(goAway.payload.prefix(8)) == [0, 0, 0, 1, 0, 0, 0, 0], "last stream 1, NO_ERROR")
        for _ in 0..<50 where server.process.isRunning { usleep(100_000) }
        #expect(!server.process.isRunning, "the server exits once the connection is done")
    }

    @Test func aConnectionErrorReachesAClientThatIsStillSending() throws {
        // GOAWAY, then the close (RFC 9113 §5.4.1). Closing with the client's frames unread makes the kernel
        // reset the connection, and the reset can destroy the GOAWAY before the client reads it: the server
        // half-closes and reads on instead (h2spec 6.9.1/2 failed now and then before this).
        let client = try RawClient(port: server.port)
        defer { client.close() }
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        // WINDOW_UPDATE on the connection by 2^31 - 1: over the largest window (§6.9.1), FLOW_CONTROL_ERROR.
        bytes += [0, 0, 4, 8, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]
        // Then 256 KB of PINGs, more than the server reads at once: still unread when it is done with us.
        for _ in 0..<(256 * 1024 / 17) { bytes += [0, 0, 8, 6, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8) }
        try client.send(bytes)
        let frames = HTTP2OnlyLiveTests.frames(try client.readToEnd()) // a reset would throw here
        let goAway = try #require(frames.first { $0.type == 7 }, "no GOAWAY before the close: \(frames.map(\.type))")
        #expect(Array(goAway.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 3], "FLOW_CONTROL_ERROR")
    }

    @Test(.timeLimit(.minutes(2))) func chromiumUsesH2OverTLS() throws {
        guard let chromium = BrowserLiveTests.chromium else {
            if BrowserLiveTests.required { Issue.record("Chromium is not installed, and HTTPKIT_REQUIRE_BROWSER=1 (CI) requires it") }
            return
        }
        let tls = try ServerProcess(["http2", "--tls-self-signed"])
        defer { tls.stop() }
        let profile = TemporaryDirectory()
        let result = try run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", "--disable-dev-shm-usage",
            "--ignore-certificate-errors", "--user-data-dir=\(profile.path)", "--virtual-time-budget=5000", "--dump-dom",
            "https://localhost:\(tls.port)/",
        ], timeout: 90)
        #expect(result.stdout.contains("data-protocol=\"h2\""), "\(result.stdout.suffix(300))\(result.stderr.suffix(300))")
        #expect(result.stdout.contains("data-script=\"ran\"") && result.stdout.contains("data-image=\"loaded\""))
        // curl negotiates h2 with ALPN too, with the certificate trusted.
        let line = tls.output.split(separator: "\n").first { $0.hasPrefix("TLS: certificate ") } ?? ""
        let certificate = String(line.dropFirst("TLS: certificate ".count).prefix { $0 != " " })
        let viaCurl = try curl(["-s", "--http2", "--cacert", certificate, "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
                                "https://localhost:\(tls.port)/hello.txt"])
        #expect(viaCurl.stdout == "200 2", "\(viaCurl.stderr)")
        let http11 = try curl(["-s", "--http1.1", "--cacert", certificate, "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
                               "https://localhost:\(tls.port)/hello.txt"])
        #expect(http11.stdout == "200 1.1", "a client that offers only http/1.1 gets it")
        usleep(300_000)
        #expect(tls.output.contains("\"GET / HTTP/2.0\" 200"), "\(tls.output.suffix(600))")
        #expect(tls.output.contains("alpn=h2"))
    }

    @Test func onlyTheHTTP2StageOffersH2() throws {
        guard let openssl = which("openssl") else { return }
        let router = try ServerProcess(["router", "--tls-self-signed"])
        defer { router.stop() }
        let answer = try run(openssl, ["s_client", "-connect", "127.0.0.1:\(router.port)", "-alpn", "h2,http/1.1"], timeout: 20)
        #expect(answer.stdout.contains("ALPN protocol: http/1.1"))
    }
}

/// The http2 stage with --http2-only: the port speaks nothing but HTTP/2, like nghttpd.
@Suite("the http2 stage with --http2-only", .serialized)
final class HTTP2OnlyLiveTests {
    let server: ServerProcess

    init() throws {
        server = try ServerProcess(["http2", "--http2-only"])
    }

    deinit { server.stop() }

    /// The frames in `bytes` as (type, payload), whole frames only.
    static func frames(_ bytes: [UInt8]) -> [(type: UInt8, payload: ArraySlice<UInt8>)] {
        var frames: [(type: UInt8, payload: ArraySlice<UInt8>)] = []
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            frames.append((bytes[offset + 3], bytes[(offset + 9)..<min(offset + 9 + length, bytes.count)]))
            offset += 9 + length
        }
        return frames
    }

    @Test func anHTTP11RequestGetsSettingsThenGOAWAYThenTheClose() throws {
        // The mixed port answers this request as HTTP/1.1; here it is an invalid preface (RFC 9113 §3.4, §5.4.1).
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let bytes = try client.readToEnd() // returns at EOF: the server closed
        let frames = Self.frames(bytes)
        #expect(frames.map(\.type) == [4, 7], "SETTINGS (4), then GOAWAY (7), then nothing: \(bytes)")
        let goAway = try #require(frames.last)
        #expect(Array(goAway.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 1], "PROTOCOL_ERROR")
        let debug = String(decoding: goAway.payload.dropFirst(8), as: UTF8.self)
        #expect(debug.contains("\"GET / HTTP/1.1\"") && debug.contains("speaks only HTTP/2"), "\(debug)")
    }

    @Test func curlWithPriorKnowledgeIsServedAndPlainCurlIsNot() throws {
        let base = "http://127.0.0.1:\(server.port)"
        let h2 = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", base + "/hello.txt"])
        #expect(h2.stdout == "200 2", "\(h2.stderr)")
        #expect(try curl(["-s", "--http2-prior-knowledge", base + "/echo/only-h2"]).stdout == "only-h2")
        // No HTTP/1.1, so no `Upgrade: h2c` either: curl reads our SETTINGS frame as a broken HTTP/0.9 answer.
        let http11 = try curl(["-s", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", base + "/hello.txt"])
        #expect(http11.status != 0 && http11.stdout == "000")
        #expect(server.output.contains("HTTP/2 only (--http2-only)"))
    }

    @Test func overTLSOnlyALPNH2IsServed() throws {
        let tls = try ServerProcess(["http2", "--http2-only", "--tls-self-signed"])
        defer { tls.stop() }
        let url = "https://127.0.0.1:\(tls.port)/hello.txt"
        let h2 = try curl(["-sk", "--http2", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", url])
        #expect(h2.stdout == "200 2", "\(h2.stderr)")
        // A client offering only http/1.1 is refused in the handshake (RFC 7301 §3.2: no_application_protocol)…
        let http11 = try curl(["-sk", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", url])
        #expect(http11.status != 0 && http11.stdout == "000")
        // …and one that offers no ALPN at all is closed after the handshake, with a line saying why (RFC 9113 §3.2).
        let noALPN = try curl(["-sk", "--http1.1", "--no-alpn", "-o", "/dev/null", "-w", "%{http_code}", url])
        #expect(noALPN.status != 0 && noALPN.stdout == "000")
        usleep(300_000)
        #expect(tls.output.contains("closed: ALPN none, not h2, and this port speaks only HTTP/2"), "\(tls.output.suffix(600))")
    }
}
