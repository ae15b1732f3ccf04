import Foundation
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Why io_uring cannot be used on this machine (a kernel without it, sysctl kernel.io_uring_disabled, a
/// container's seccomp filter), or nil: the probe sets up a tiny ring, as the stage would.
let ioUringUnavailable: String? = CompletionRing.unavailableReason().map { "\($0)" }

/// `--poller io_uring`: the eventloop and keepalive stages on lesson 06's completion loop, against the
/// real binary. Where io_uring is unavailable, every test here is skipped and says why.
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
        // never reads: its send waits in the kernel and its receiving stops at the output limit.
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
        ("eventloop", " --root {root}"), ("keepalive", ""),
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
        let router = try run(HTTPKitBinary.path, ["router", "--poller", "io_uring", "--port", "0"], timeout: 20)
        #expect(router.status != 0)
        #expect(router.stderr.contains("eventloop and keepalive stages only"), "\(router.stderr)")
    }
}
