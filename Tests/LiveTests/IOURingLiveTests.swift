import Foundation
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Why io_uring cannot be used on this machine (a kernel without it, sysctl kernel.io_uring_disabled, a
/// container's seccomp filter), or nil: the probe sets up a tiny ring, as the stage would.
let ioUringUnavailable: String? = CompletionRing.unavailableReason().map { "\($0)" }

/// `--poller io_uring`: the eventloop, keepalive and router stages on lesson 06's completion loop, against the
/// real binary (the router's extras and the http2 stage: the suites below). Where io_uring is unavailable, every
/// test here is skipped and says why.
@Suite("--poller io_uring: the completion loop", .serialized,
       .enabled(if: ioUringUnavailable == nil, "io_uring is unavailable on this machine (\(ioUringUnavailable ?? ""))"))
struct IOURingLiveTests {
    static let request = "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    @Test(.timeLimit(.minutes(1))) func servesFilesByteForByte() throws {
        let directory = TemporaryDirectory()
        var big = [UInt8](repeating: 0, count: 5 << 20 + 123)
        for index in big.indices { big[index] = UInt8(truncatingIfNeeded: index &* 7 &+ index >> 9) }
        #expect(FileManager.default.createFile(atPath: directory.path + "/big.bin", contents: Data(big)))
        directory.write("hello.txt", "hello, world\n")
        let server = try ServerProcess(["eventloop", "--poller", "io_uring", "--root", directory.path])
        defer { server.stop() }
        let small = try RawClient.exchange(port: server.port, Self.request)
        #expect(small.status == 200)
        #expect(small.text == "hello, world\n")
        #expect(small.header("Connection") == "close") // the eventloop stage: one request per connection
        let large = try RawClient.exchange(port: server.port, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(large.status == 200)
        #expect(large.body == big, "the 5 MB body came back with \(large.body.count) bytes, or different ones")
        #expect(try RawClient.exchange(port: server.port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").status == 404)
    }

    @Test(.timeLimit(.minutes(1))) func keepAliveAndPipelinedRequestsInOrder() throws {
        let directory = TemporaryDirectory()
        directory.write("a.txt", "first\n")
        directory.write("b.txt", "second\n")
        let server = try ServerProcess(["keepalive", "--poller", "io_uring", "--root", directory.path])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // One after another on one connection, then three in one write (pipelined).
        for path in ["/a.txt", "/b.txt"] {
            try client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try readOneResponse(client)
            #expect(response.status == 200)
            #expect(response.header("Connection") == nil)
        }
        try client.send("GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let rest = String(decoding: try client.readToEnd(), as: UTF8.self)
        let bodies = rest.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "H" } }
        #expect(bodies == ["second\n", "first\n", "second\n"], "\(rest)")
        #expect(rest.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
    }

    /// A cached file larger than the merge limit is sent from the cache's array (a sendmsg of the head and
    /// the body): pipelined with small answers, and to a client that reads late, so sends come back short
    /// and resume in the middle of the body.
    @Test(.timeLimit(.minutes(1))) func cachedLargeBodiesArriveWholeAndInOrder() throws {
        let (directory, files, server) = try keepaliveServing(bigBytes: 200_000)
        defer { server.stop(); _ = directory }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // 15 MB asked for: more than the socket buffers hold (4 MB at most each way), so sends complete short
        // and the rest of a body goes in the next one.
        let order = ["/mid.bin", "/a.txt", "/mid.bin", "/mid.bin", "/a.txt"] + Array(repeating: "/mid.bin", count: 250)
        try client.send(order.map { "GET \($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined())
        usleep(300_000)
        try expectAnswers(on: client, to: order, files: files)
    }

    /// A file past the cache (over 64 KB) is the one answer the loop writes itself, with sendfile. A client
    /// that reads late fills its socket: the loop waits for room with a poll request on the ring, then goes
    /// on where sendfile stopped. Cached answers around it leave by sends on the ring, and all keep their order.
    /// The last, with `Connection: close`, ends with the FIN.
    @Test(.timeLimit(.minutes(1))) func filesPastTheCacheWaitForRoomAndResume() throws {
        let (directory, files, server) = try keepaliveServing(bigBytes: 3_000_000)
        defer { server.stop(); _ = directory }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // 12 MB and more: past what the socket buffers take (4 MB at most each way) while the client sleeps.
        let order = Array(repeating: "/mid.bin", count: 6)
            + ["/big.bin", "/a.txt", "/mid.bin", "/big.bin", "/big.bin", "/a.txt", "/mid.bin", "/big.bin", "/big.bin"]
        try client.send(order.enumerated().map { index, path in
            "GET \(path) HTTP/1.1\r\nHost: x\r\n" + (index == order.count - 1 ? "Connection: close\r\n" : "") + "\r\n"
        }.joined())
        usleep(500_000)
        try expectAnswers(on: client, to: order, files: files)
        #expect(try client.readToEnd().isEmpty) // then the FIN
        // A client that leaves while the loop waits for room: the reset ends the wait (the poll completes with
        // POLLERR, or the close cancels it) and the connection is closed; the loop serves on.
        let descriptors = { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count) ?? -1 }
        let before = descriptors()
        let leaving = try RawClient(port: server.port)
        try leaving.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(200_000)
        #expect(descriptors() == before + 1)
        leaving.close()
        let deadline = Date().addingTimeInterval(3)
        while descriptors() > before && Date() < deadline { usleep(20_000) }
        #expect(descriptors() == before, "the connection that left is still open")
        let after = try RawClient.exchange(port: server.port, "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(after.status == 200 && after.body == files["/big.bin"])
    }

    /// The last answer before the server closes goes with MSG_MORE (it leaves with the FIN). With
    /// --max-requests the server ends a connection whose client is still sending: it lingers (shutdown, then
    /// reads and discards), so neither a reset nor the held bytes' loss can destroy that answer (RFC 9112 §9.6).
    @Test(.timeLimit(.minutes(1))) func theLastAllowedAnswerSurvivesRequestsStillArriving() throws {
        let directory = TemporaryDirectory()
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 3 &+ $0 >> 10) }
        #expect(FileManager.default.createFile(atPath: directory.path + "/big.bin", contents: Data(big)))
        let server = try ServerProcess(["keepalive", "--poller", "io_uring", "--max-requests", "2", "--root", directory.path])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        let request = "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
        let start = Date()
        try client.send(String(repeating: request, count: 256 * 1024 / request.utf8.count))
        let first = try readOneResponse(client)
        let last = try readOneResponse(client) // a reset would throw here
        #expect(first.status == 200 && first.body == big && last.status == 200 && last.body == big)
        #expect(last.header("Connection") == "close")
        #expect(try client.readToEnd().isEmpty) // then the FIN
        // At once: the held bytes go with the lingering close's shutdown, not when its 2 s are over.
        #expect(Date().timeIntervalSince(start) < 1, "took \(Date().timeIntervalSince(start)) s")
    }

    /// The keepalive stage on io_uring serving, from a temporary folder, `/big.bin` (`count` bytes, past the
    /// cache when over 64 KB), `/mid.bin` (60,000 bytes: cached, and over the 16 KB merge limit, so sent from
    /// its own array) and `/a.txt`. The folder is to be held as long as the server is used (files past the
    /// cache are read from it).
    func keepaliveServing(bigBytes count: Int) throws -> (directory: TemporaryDirectory, files: [String: [UInt8]], server: ServerProcess) {
        let directory = TemporaryDirectory()
        let files = ["/big.bin": (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 8) },
                     "/mid.bin": (0..<60_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) },
                     "/a.txt": Array("first\n".utf8)]
        for (path, bytes) in files {
            #expect(FileManager.default.createFile(atPath: directory.path + path, contents: Data(bytes)))
        }
        return (directory, files, try ServerProcess(["keepalive", "--poller", "io_uring", "--root", directory.path]))
    }

    /// Reads one answer per path of `order` off `client`, in order, each with that file's bytes.
    func expectAnswers(on client: RawClient, to order: [String], files: [String: [UInt8]]) throws {
        for (index, path) in order.enumerated() {
            let response = try readOneResponse(client)
            let intact = response.status == 200 && response.body == files[path]
            #expect(intact, "answer \(index) (\(path)): status \(response.status), \(response.body.count) bytes, or different ones")
            if !intact { break }
        }
    }

    /// Reads one response with a Content-Length body off a kept-alive connection.
    func readOneResponse(_ client: RawClient) throws -> ParsedResponse {
        var bytes: [UInt8] = []
        while true {
            bytes += try client.read(count: 1)
            if bytes.count >= 4 && Array(bytes.suffix(4)) == [13, 10, 13, 10] { break }
        }
        let head = try ParsedResponse(bytes)
        let length = Int(head.header("Content-Length") ?? "0") ?? 0
        return try ParsedResponse(bytes + (length > 0 ? try client.read(count: length) : []))
    }

    /// The same bytes in, the same bytes out as epoll (the Date field aside): the protocol machine decides.
    @Test("bad input is answered as on epoll", .timeLimit(.minutes(1)), arguments: [
        "GARBAGE\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\n\r\n",                       // no Host
        "GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    ])
    func badInputAsOnEpoll(_ request: String) throws {
        func answer(_ poller: String) throws -> String {
            let server = try ServerProcess(["eventloop", "--poller", poller])
            defer { server.stop() }
            let raw = String(decoding: try RawClient.exchange(port: server.port, request).raw, as: UTF8.self)
            return raw.split(separator: "\r\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("Date:") }.joined(separator: "\r\n")
        }
        let uring = try answer("io_uring")
        #expect(uring == (try answer("epoll")))
        if request.hasPrefix("GARBAGE") { #expect(uring.hasPrefix("HTTP/1.1 400 Bad Request"), "\(uring)") }
    }

    @Test(.timeLimit(.minutes(1))) func hundredConcurrentConnections() throws {
        let server = try ServerProcess(["eventloop", "--poller", "io_uring"])
        defer { server.stop() }
        #expect(try simultaneousRequests(port: server.port, count: 100) == [200: 100])
        #expect(try simultaneousRequests(port: server.port, count: 25) == [200: 25])
    }

    @Test(.timeLimit(.minutes(1))) func slowClientsDoNotBlockOthers() throws {
        let directory = TemporaryDirectory()
        directory.write("hello.txt", "hello\n")
        directory.write("big.bin", String(repeating: "x", count: 32 << 20))
        let server = try ServerProcess(["keepalive", "--poller", "io_uring", "--root", directory.path])
        defer { server.stop() }
        func timedRequest() throws -> (ms: Double, status: Int) {
            let start = Date()
            let response = try RawClient.exchange(port: server.port, Self.request)
            return (Date().timeIntervalSince(start) * 1000, response.status)
        }
        _ = try timedRequest()
        let baseline = try (0..<5).map { _ in try timedRequest().ms }.min()!
        // One client trickles its head a byte every 100 ms; another asks for 32 MB, pipelines more, and
        // never reads: its answer waits for room (a poll request on the ring) and its receiving stops at the
        // output limit (the pipelined answers after it).
        let trickling = try TricklingClient(port: server.port)
        defer { trickling.stop() }
        let reader = try RawClient(port: server.port)
        defer { reader.close() }
        try reader.send(String(repeating: "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", count: 2000))
        usleep(300_000)
        let rss = server.memoryKB("VmRSS") ?? 0
        let delays = try (0..<5).map { _ -> Double in
            let result = try timedRequest()
            #expect(result.status == 200)
            return result.ms - baseline
        }
        #expect(delays.max()! < 50, "a normal request was delayed by \(delays) ms")
        usleep(300_000)
        let grown = (server.memoryKB("VmRSS") ?? 0) - rss
        #expect(grown < 16 * 1024, "the server grew by \(grown) kB while a client did not read")
    }

    @Test(.timeLimit(.minutes(1))) func headerTimeoutClosesASilentConnection() throws {
        let server = try ServerProcess(["eventloop", "--poller", "io_uring", "--header-timeout", "1"])
        defer { server.stop() }
        let start = Date()
        let partial = try RawClient(port: server.port, timeout: 5)
        defer { partial.close() }
        try partial.send("GET /hello.txt HT")
        let silent = try RawClient(port: server.port, timeout: 5)
        defer { silent.close() }
        let answered = try ParsedResponse(partial.readToEnd())
        #expect(answered.status == 408)
        #expect(try silent.readToEnd().isEmpty) // closed without a word: nothing of a request had arrived
        let seconds = Date().timeIntervalSince(start)
        #expect(seconds > 0.9 && seconds < 2.5, "closed after \(seconds) s")
    }

    @Test("httpkit check passes against it", .timeLimit(.minutes(3)), arguments: [
        ("eventloop", " --root {root}"), ("keepalive", ""), ("router", ""),
    ])
    func checkPassesAgainstIt(_ stage: String, _ root: String) throws {
        let command = "\(HTTPKitBinary.path) \(stage) --poller io_uring --port {port}\(root)"
        let result = try run(HTTPKitBinary.path, ["check", "--stage", stage, "--exec", command], timeout: 150,
                             environment: ["NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
        #expect(result.stdout.contains(" checks passed"))
    }

    @Test(.timeLimit(.minutes(1))) func usageErrorsNameIOURing() throws {
        let unknown = try run(HTTPKitBinary.path, ["eventloop", "--poller", "kqueue"], timeout: 20)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("'select', 'poll', 'epoll' or 'io_uring'"), "\(unknown.stderr)")
        let help = try run(HTTPKitBinary.path, ["eventloop", "--help"], timeout: 20)
        #expect(help.stdout.contains("io_uring"))
        for arguments in [["websocket"], ["static"], ["proxy", "--upstream", "127.0.0.1:1"]] {
            let stage = arguments[0]
            let refused = try run(HTTPKitBinary.path, arguments + ["--poller", "io_uring", "--port", "0"], timeout: 20)
            #expect(refused.status != 0)
            // The static stage has no --poller at all; the others name the stages that take io_uring.
            #expect(refused.stderr.contains("eventloop, keepalive, router and http2 stages only")
                    || refused.stderr.contains("Unknown option '--poller'"), "\(stage): \(refused.stderr)")
        }
        for stage in ["router", "http2"] {
            let tls = try run(HTTPKitBinary.path, [stage, "--poller", "io_uring", "--tls-self-signed", "--port", "0"], timeout: 20)
            #expect(tls.status != 0)
            #expect(tls.stderr.contains("--poller io_uring serves plain HTTP only"), "\(stage): \(tls.stderr)")
        }
    }
}

/// The router stage on the completion loop: what the router needs of a loop beyond files (streamed uploads,
/// /metrics, the client's address and refusals for the access log), against the real binary.
@Suite("router --poller io_uring", .serialized,
       .enabled(if: ioUringUnavailable == nil, "io_uring is unavailable on this machine (\(ioUringUnavailable ?? ""))"))
struct RouterOnIOURingLiveTests {
    let directory = TemporaryDirectory()
    let server: ServerProcess
    var base: String { "http://127.0.0.1:\(server.port)" }
    var uploaded: [String] { (try? FileManager.default.contentsOfDirectory(atPath: directory.path + "/files")) ?? [] }

    init() throws {
        try FileManager.default.createDirectory(atPath: directory.path + "/files", withIntermediateDirectories: true)
        server = try ServerProcess(["router", "--poller", "io_uring", "--directory", directory.path + "/files",
                                    "--max-body", "400000", "--protect", "/files/locked.bin", "--metrics", "/metrics",
                                    "--access-log", directory.path + "/access.log"])
    }

    @Test(.timeLimit(.minutes(1))) func uploadsStreamToDiskAndComeBack() throws {
        // 300 KB: more than one receive buffer, so the body reaches the consumer in pieces.
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        #expect(FileManager.default.createFile(atPath: directory.path + "/payload", contents: Data(payload)))
        for (name, extra) in [("plain.bin", [String]()), ("chunked.bin", ["-H", "Transfer-Encoding: chunked"])] {
            let upload = try curl(["-s", "-w", "%{http_code}"] + extra + ["--data-binary", "@" + directory.path + "/payload", base + "/files/" + name])
            #expect(upload.stdout.hasSuffix("201"), "\(name): \(upload.stdout)")
            #expect(FileManager.default.contents(atPath: directory.path + "/files/" + name) == Data(payload), "\(name)")
            let download = try curl(["-s", "-o", directory.path + "/back", "-w", "%{http_code}", base + "/files/" + name])
            #expect(download.stdout == "200")
            #expect(FileManager.default.contents(atPath: directory.path + "/back") == Data(payload))
        }
    }

    @Test(.timeLimit(.minutes(1))) func refusedAndAbandonedUploadsLeaveNothing() throws {
        let tooBig = try RawClient(port: server.port)
        defer { tooBig.close() }
        try? tooBig.send("POST /files/too-big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n" + String(repeating: "z", count: 10_000))
        #expect(try ParsedResponse(tooBig.readToEnd()).status == 413)
        let leaving = try RawClient(port: server.port)
        try leaving.send("POST /files/partial.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n" + String(repeating: "p", count: 20_000))
        usleep(200_000)
        leaving.close()
        usleep(300_000)
        #expect(!uploaded.contains { $0.contains("too-big") || $0.contains("partial") }, "left behind: \(uploaded)")
        // A guarded upload is refused on its head: 401 instead of 100 Continue, nothing written; with
        // credentials it is written.
        let guarded = try RawClient(port: server.port)
        defer { guarded.close() }
        try guarded.send("POST /files/locked.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        #expect(try ParsedResponse(guarded.readToEnd()).status == 401)
        #expect(!uploaded.contains("locked.bin"))
        let allowed = try curl(["-s", "-w", "%{http_code}", "-u", "learner:httpkit", "--data-binary", "abc", base + "/files/locked.bin"])
        #expect(allowed.stdout.hasSuffix("201"), "\(allowed.stdout)")
        #expect(FileManager.default.contents(atPath: directory.path + "/files/locked.bin") == Data("abc".utf8))
        let continued = try RawClient(port: server.port)
        defer { continued.close() }
        try continued.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: try continued.read(count: 25), as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try continued.send("[1, 2]\n")
        let echoed = try ParsedResponse(continued.readToEnd())
        #expect(echoed.status == 200 && echoed.text == "[1, 2]\n")
    }

    @Test(.timeLimit(.minutes(1))) func streamedResponsesAreChunked() throws {
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /chunked/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        let chunked = try readResponses(client, count: 1)[0] // kept alive: the chunks' end is the response's end
        #expect(chunked.framing == .chunked)
        #expect(bodyText(chunked) == "line 1 of 3\nline 2 of 3\nline 3 of 3\n")
        let old = try RawClient.exchange(port: server.port, "GET /chunked/2 HTTP/1.0\r\n\r\n")
        #expect(old.header("Transfer-Encoding") == nil && old.text == "line 1 of 2\nline 2 of 2\n") // until close
    }

    @Test(.timeLimit(.minutes(1))) func metricsCountWhatTheLoopDid() throws {
        for _ in 0..<3 { _ = try RawClient.exchange(port: server.port, "GET /echo/counted HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
        _ = try RawClient.exchange(port: server.port, "GARBAGE\r\n\r\n")
        let metrics = try RawClient.exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
        func sample(_ name: String) -> Int? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last!) }
        }
        #expect(sample("httpkit_http_requests_total{method=\"GET\",status=\"2xx\"}") == 3, "\(metrics)")
        #expect(sample("httpkit_http_requests_total{method=\"other\",status=\"4xx\"}") == 1, "\(metrics)")
        #expect(sample("httpkit_http_request_duration_seconds_count") == 4)
        #expect(sample("httpkit_connections_total") == 5) // this one included
        #expect(sample("httpkit_open_connections") == 1)
        #expect((sample("httpkit_received_bytes_total") ?? 0) >= 3 * 60)
        #expect((sample("httpkit_sent_bytes_total") ?? 0) >= 3 * 100)
    }

    /// A file past the cache leaves with sendfile, written by the loop itself: its bytes count as sent too.
    @Test(.timeLimit(.minutes(1))) func filesSentWithSendfileAreCounted() throws {
        let file = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 5 &+ $0 >> 12) }
        #expect(FileManager.default.createFile(atPath: directory.path + "/files/counted.bin", contents: Data(file)))
        let download = try RawClient.exchange(port: server.port, "GET /files/counted.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(download.status == 200 && download.body == file)
        let metrics = try RawClient.exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
        let sent = metrics.split(separator: "\n").first { $0.hasPrefix("httpkit_sent_bytes_total ") }
            .flatMap { Int($0.split(separator: " ").last!) } ?? 0
        #expect((300_000..<301_000).contains(sent), "httpkit_sent_bytes_total \(sent)") // the file once, and its head
    }

    @Test(.timeLimit(.minutes(1))) func accessLogHasAddressesAndRefusals() throws {
        _ = try RawClient.exchange(port: server.port, "GET /echo/logged HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _ = try RawClient.exchange(port: server.port, "GARBAGE\r\n\r\n")
        #expect(server.stop() == 0)
        let log = (try? String(contentsOfFile: directory.path + "/access.log", encoding: .utf8)) ?? ""
        let lines = log.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("127.0.0.1 - - [") && $0.hasSuffix("\"GET /echo/logged HTTP/1.1\" 200 6") }, "\(log)")
        #expect(lines.contains { $0.hasPrefix("127.0.0.1 - - [") && $0.contains("\"-\" 400 ") }, "\(log)")
    }
}

/// The http2 stage on the completion loop (`httpkit http2 --poller io_uring`): the same HTTP2Connection fed by
/// receive completions, its frames sent on the ring (and a large body's DATA gathered in one `writev`), against
/// real clients. Python's h2 client runs against both loops in HTTP2PythonLiveTests.
@Suite("http2 --poller io_uring", .serialized,
       .enabled(if: ioUringUnavailable == nil, "io_uring is unavailable on this machine (\(ioUringUnavailable ?? ""))"))
struct HTTP2OnIOURingLiveTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0] // and empty SETTINGS

    @Test(.timeLimit(.minutes(1))) func priorKnowledgeH2CAndHTTP11OnOnePort() throws {
        let server = try ServerProcess(["http2", "--poller", "io_uring", "--metrics", "/metrics"])
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let size = try FileManager.default.attributesOfItem(atPath: HTTPKitBinary.repository.appendingPathComponent("www/hello.txt").path)[.size] as? Int
        let h2 = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{http_version} %{size_download}", base + "/hello.txt"])
        #expect(h2.stdout == "200 2 \(size ?? -1)")
        #expect(try curl(["-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", base + "/hello.txt"]).stdout == "200 1.1")
        let range = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-r", "0-3", base + "/style.css"])
        #expect(range.stdout == "206 4")
        let json = try curl(["-s", "--http2-prior-knowledge", "-H", "Content-Type: application/json", "--data", "{\"a\": [1, 2]}", base + "/api/echo"])
        #expect(json.stdout == "{\"a\": [1, 2]}")
        // curl --http2 on http:// asks with Upgrade: h2c: 101, the answer on stream 1, then stream 3 on the same connection.
        let upgraded = try curl(["-sv", "--http2", "-o", "/dev/null", "-o", "/dev/null", base + "/hello.txt", base + "/style.css"])
        #expect(upgraded.stderr.contains("< HTTP/1.1 101 Switching Protocols"), "\(upgraded.stderr.suffix(800))")
        #expect(upgraded.stderr.components(separatedBy: "< HTTP/2 200").count - 1 == 2, "\(upgraded.stderr.suffix(800))")
        let metrics = try curl(["-s", "--http2-prior-knowledge", base + "/metrics"]).stdout
        // Prior knowledge 3, h2c 2 (its stream 1 carries the request that asked); this one counts after its answer.
        #expect(metrics.contains("httpkit_http2_streams_total 5"), "\(metrics)")
    }

    @Test(.timeLimit(.minutes(1))) func h2loadStreamsAndConnections() throws {
        guard let h2load = which("h2load") else { Issue.record("h2load is not installed (scripts/setup installs nghttp2-client)"); return }
        // 13 B, and 100 KB: a cached body whose DATA frames (slices of it) are more than a send buffer, written
        // gathered by the loop itself instead of copied into the ring's sends.
        let root = TemporaryDirectory()
        let large = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        try Data("hello, world\n".utf8).write(to: URL(fileURLWithPath: root.path + "/small.txt"))
        try Data(large).write(to: URL(fileURLWithPath: root.path + "/large.bin"))
        let server = try ServerProcess(["http2", "--poller", "io_uring", "--root", root.path, "--access-log", "off", "--max-requests", "0"])
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        for (arguments, path) in [(["-n", "4000", "-c", "10", "-m", "10"], "/small.txt"), (["-n", "2000", "-c", "100", "-m", "1"], "/small.txt"),
                                  (["-n", "400", "-c", "4", "-m", "10"], "/large.bin")] {
            let result = try run(h2load, arguments + [base + path], timeout: 60)
            let count = arguments[1]
            #expect(result.stdout.contains("\(count) succeeded, 0 failed, 0 errored"), "\(arguments) \(path): \(result.stdout.suffix(600))")
            #expect(result.stdout.contains("status codes: \(count) 2xx"), "\(arguments) \(path)")
        }
        // Byte for byte (several streams interleaved on one connection, byte for byte: HTTP2PythonLiveTests, on both
        // loops; curl 7.88 cannot reuse a prior-knowledge connection for a second URL, against any server).
        let fetched = try curl(["-s", "--http2-prior-knowledge", "-o", root.path + "/copy", base + "/large.bin"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(FileManager.default.contents(atPath: root.path + "/copy") == Data(large))
    }

    @Test(.timeLimit(.minutes(1))) func aLargeFileLeavesFromDiskAsTheWindowsAllow() throws {
        // 256 MiB, sparse: sent with sendfile as the windows open, never read whole into memory.
        let size = 256 << 20
        let (root, server) = try Self.servingSparseFile(size: size, endingWith: "the end")
        defer { server.stop(); _ = root }
        let before = server.memoryKB("VmRSS") ?? 0
        let url = "http://127.0.0.1:\(server.port)/big.bin"
        let whole = try curl(["-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url], timeout: 60)
        #expect(whole.stdout == "200 \(size + 7)")
        #expect(try curl(["-s", "--http2-prior-knowledge", "-r", "\(size)-", url]).stdout == "the end")
        let peak = server.memoryKB("VmHWM") ?? .max
        #expect(peak - before < 32 * 1024, "peak RSS grew by \(peak - before) kB for a 256 MiB file")
    }

    /// Preface, SETTINGS with a 16 MiB stream window, the connection's window raised by as much, and HEADERS for
    /// `GET path` on stream 1 (HPACK by hand: :method GET, :scheme http, :path and :authority as literals).
    static func bigWindowRequest(_ path: String) -> [UInt8] {
        let window: [UInt8] = [0x01, 0x00, 0x00, 0x00] // 16 MiB
        var bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        bytes += [0, 0, 6, 4, 0, 0, 0, 0, 0, 0x00, 0x04] + window             // SETTINGS_INITIAL_WINDOW_SIZE
        bytes += [0, 0, 4, 8, 0, 0, 0, 0, 0] + window                          // WINDOW_UPDATE on the connection
        let block = [0x82, 0x86, 0x04, UInt8(path.utf8.count)] + Array(path.utf8) + [0x01, 1, UInt8(ascii: "x")]
        bytes += [0, 0, UInt8(block.count), 1, 0x05, 0, 0, 0, 1] + block       // HEADERS, END_STREAM | END_HEADERS
        return bytes
    }

    /// `/big.bin`, `size` sparse octets and then `ending`, in a new directory, and the http2 stage on io_uring
    /// serving it.
    static func servingSparseFile(size: Int, endingWith ending: String = "") throws -> (root: TemporaryDirectory, server: ServerProcess) {
        let root = TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: root.path + "/big.bin", contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: root.path + "/big.bin"))
        try handle.truncate(atOffset: UInt64(size))
        try handle.write(contentsOf: Data(ending.utf8))
        try handle.close()
        return (root, try ServerProcess(["http2", "--poller", "io_uring", "--root", root.path, "--access-log", "off"]))
    }

    @Test(.timeLimit(.minutes(1))) func whatIsAskedBeforeTheClientsFINStillGoesOut() throws {
        // The request, then FIN at once: no WINDOW_UPDATE can come any more, but the windows allow the whole 8 MiB,
        // more than the socket takes at once. It all goes out, then the close (the FIN's completion used to close
        // the connection on the spot, with the answer half sent).
        let size = 8 << 20
        let (root, server) = try Self.servingSparseFile(size: size)
        defer { server.stop(); _ = root }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send(Self.bigWindowRequest("/big.bin"))
        client.socket.shutdownWrite()
        let frames = HTTP2OnlyLiveTests.frames(try client.readToEnd(limit: 64 << 20))
        let data = frames.filter { $0.type == 0 }.reduce(0) { $0 + $1.payload.count }
        #expect(data == size, "\(data) of \(size) octets of DATA before the close")
    }

    @Test(.timeLimit(.minutes(1))) func aClientThatDoesNotReadCannotFillTheServersMemory() throws {
        // It asks for 64 MiB with windows open, reads nothing, and sends PINGs. With that much output queued the
        // loop stops receiving (as for HTTP/1.1), so the PINGs stay in the kernel's buffers and the client's send
        // blocks; received and left unparsed, they would pile up in the server's memory.
        let (root, server) = try Self.servingSparseFile(size: 64 << 20)
        defer { server.stop(); _ = root }
        let client = try RawClient(port: server.port, timeout: 2)
        defer { client.close() }
        try client.send(Self.bigWindowRequest("/big.bin"))
        usleep(300_000)
        let before = server.memoryKB("VmRSS") ?? 0
        let pings: [UInt8] = (0..<4096).flatMap { _ in [0, 0, 8, 6, 0, 0, 0, 0, 0] + [UInt8](repeating: 7, count: 8) } // 68 KB
        var sent = 0
        while sent < 64 << 20, (try? client.send(pings)) != nil { sent += pings.count }
        usleep(300_000)
        let grown = (server.memoryKB("VmRSS") ?? .max) - before
        #expect(sent < 32 << 20, "the client could send \(sent) octets of PINGs without reading")
        #expect(grown < 16 * 1024, "the server grew by \(grown) kB")
    }

    @Test(.timeLimit(.minutes(1))) func goAwayWhenIdleAndOnShutdown() throws {
        let server = try ServerProcess(["http2", "--poller", "io_uring", "--idle-timeout", "1"])
        defer { server.stop() }
        let idle = try RawClient(port: server.port)
        defer { idle.close() }
        try idle.send(Self.preface)
        let frames = HTTP2OnlyLiveTests.frames(try idle.readToEnd())
        let goAway = try #require(frames.first { $0.type == 7 }, "no GOAWAY before the close: \(frames.map(\.type))")
        #expect(Array(goAway.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 0], "NO_ERROR")
        #expect(String(decoding: goAway.payload.dropFirst(8), as: UTF8.self).hasPrefix("idle for 1"))
        // SIGTERM: every HTTP/2 connection hears GOAWAY NO_ERROR at once, then the server exits.
        let open = try RawClient(port: server.port)
        defer { open.close() }
        try open.send(Self.preface)
        usleep(200_000)
        kill(server.pid, SIGTERM)
        let last = HTTP2OnlyLiveTests.frames(try open.readToEnd())
        let shutdown = try #require(last.first { $0.type == 7 }, "no GOAWAY on shutdown: \(last.map(\.type))")
        #expect(Array(shutdown.payload.dropFirst(4).prefix(4)) == [0, 0, 0, 0], "NO_ERROR")
        for _ in 0..<50 where server.process.isRunning { usleep(100_000) }
        #expect(!server.process.isRunning, "the server exits once its connections are done")
    }

    @Test(.timeLimit(.minutes(1))) func badPrefacesAreAnsweredAsOnEpoll() throws {
        let server = try ServerProcess(["http2", "--poller", "io_uring", "--header-timeout", "1"])
        defer { server.stop() }
        // Neither the preface nor a request line ending in its version: SETTINGS, GOAWAY PROTOCOL_ERROR, the close.
        let broken = try RawClient(port: server.port)
        defer { broken.close() }
        try broken.send("INVALID CONNECTION PREFACE\r\n\r\n")
        let frames = HTTP2OnlyLiveTests.frames(try broken.readToEnd())
        #expect(frames.map(\.type) == [4, 7], "SETTINGS, then GOAWAY, then nothing")
        #expect(frames.last.map { Array($0.payload.dropFirst(4).prefix(4)) } == [0, 0, 0, 1], "PROTOCOL_ERROR")
        // A first line that never ends was HTTP/1.1's to finish: the header timeout answers it with a 408.
        let unfinished = try RawClient(port: server.port)
        defer { unfinished.close() }
        try unfinished.send("GET /hello.txt HTTP/1.1")
        let answer = String(decoding: try unfinished.readToEnd(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer.prefix(200))")
        // --http2-only: an HTTP/1.1 request is a broken preface too.
        let only = try ServerProcess(["http2", "--poller", "io_uring", "--http2-only"])
        defer { only.stop() }
        let http11 = try RawClient(port: only.port)
        defer { http11.close() }
        try http11.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = HTTP2OnlyLiveTests.frames(try http11.readToEnd())
        #expect(refused.map(\.type) == [4, 7], "SETTINGS (4), then GOAWAY (7)")
        let debug = refused.last.map { String(decoding: $0.payload.dropFirst(8), as: UTF8.self) } ?? ""
        #expect(debug.contains("speaks only HTTP/2"), "\(debug)")
    }

    @Test("httpkit check --stage http2 passes against it", .timeLimit(.minutes(3)))
    func checkPassesAgainstIt() throws {
        let command = "\(HTTPKitBinary.path) http2 --poller io_uring --port {port}"
        let result = try run(HTTPKitBinary.path, ["check", "--stage", "http2", "--exec", command], timeout: 150,
                             environment: ["NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
        #expect(result.stdout.contains("[http2]") && result.stdout.contains(" checks passed"), "\(result.stdout)")
    }
}
