import Foundation
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("echo, hello and static against the real binary")
struct FirstStagesLiveTests {
    @Test func echoRoundTrip() throws {
        let server = try ServerProcess(["echo"])
        defer { server.stop() }
        #expect(server.startupLine == "httpkit echo listening on http://127.0.0.1:\(server.port)/")
        let client = try RawClient(port: server.port)
        try client.send("hello, ")
        #expect(try client.read(count: 7) == Array("hello, ".utf8))
        try client.send([0, 13, 10, 255])
        #expect(try client.read(count: 4) == [0, 13, 10, 255])
        client.socket.shutdownWrite()
        #expect(try client.readToEnd().isEmpty)
        client.close()
        // The next client is served once the first has left.
        let second = try RawClient(port: server.port)
        try second.send("again")
        #expect(try second.read(count: 5) == Array("again".utf8))
        second.close()
    }

    @Test func helloWithARequestSplitOverSeveralWrites() throws {
        let server = try ServerProcess(["hello"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        for piece in ["GE", "T / HTTP/1.1\r", "\nHost: loc", "alhost\r\nContent-Le", "ngth: 4\r\n\r\n", "bo", "dy"] {
            try client.send(piece)
            usleep(30_000)
        }
        let response = try ParsedResponse(client.readToEnd())
        #expect(response.status == 200)
        #expect(response.text == "Hello, world!\n")
        #expect(response.header("Content-Length") == "14")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Connection") == "close")
        #expect(response.header("Date")?.hasSuffix("GMT") == true)
    }

    @Test func helloWithCurlAndPython() throws {
        let server = try ServerProcess(["serve", "--stage", "hello"])
        defer { server.stop() }
        let result = try curl(["-s", "http://127.0.0.1:\(server.port)/anything"])
        #expect(result.stdout == "Hello, world!\n")
        let python = try run(which("python3") ?? "/usr/bin/python3", ["-c", """
            import http.client
            c = http.client.HTTPConnection('127.0.0.1', \(server.port), timeout=10)
            c.request('POST', '/x', body=b'some body')
            r = c.getresponse()
            print(r.status, r.read().decode(), end='')
            """])
        #expect(python.stdout == "200 Hello, world!\n")
    }

    @Test("protocol errors get their status and reason, and the server keeps serving", arguments: [
        ("GARBAGE\r\n\r\n", 400, "request line"),
        ("GET / HTTP/1.1\r\n\r\n", 400, "missing Host"),
        ("GET / HTTP/1.1\nHost: x\n\n", 400, "bare LF"),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0"),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "gzip"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "conflicting"),
        ("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "request line longer"),
    ])
    func badRequests(_ request: String, _ status: Int, _ reason: String) throws {
        let server = try ServerProcess(["hello"])
        defer { server.stop() }
        let response = try RawClient.exchange(port: server.port, request)
        #expect(response.status == status)
        #expect(response.text.contains(reason), "\(response.text)")
        #expect(response.header("Connection") == "close")
        let next = try RawClient.exchange(port: server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(next.status == 200)
    }

    @Test func bodyOverTheLimitIs413() throws {
        let server = try ServerProcess(["hello", "--max-body", "10"])
        defer { server.stop() }
        let atLimit = try RawClient.exchange(port: server.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
        #expect(atLimit.status == 200)
        let over = try RawClient.exchange(port: server.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890")
        #expect(over.status == 413)
    }

    @Test func silentClientGets408() throws {
        let server = try ServerProcess(["hello", "--header-timeout", "0.3"])
        defer { server.stop() }
        let response = try RawClient.exchange(port: server.port, "GET / HTTP/1.1\r\n")
        #expect(response.status == 408)
    }
}

@Suite("the static stage")
struct StaticStageLiveTests {
    let server: ServerProcess

    init() throws {
        server = try ServerProcess(["static"])
    }

    var base: String { "http://127.0.0.1:\(server.port)" }

    @Test func startupLineNamesTheRoot() {
        let www = HTTPKitBinary.repository.appendingPathComponent("www").resolvingSymlinksInPath().path
        #expect(server.startupLine == "httpkit static listening on http://127.0.0.1:\(server.port)/ (root \(www))")
    }

    @Test func getIndexWithCurl() throws {
        let result = try curl(["-s", "-D", "-", base + "/"])
        #expect(result.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.stdout.contains("Content-Type: text/html; charset=utf-8\r\n"))
        let index = try String(contentsOf: HTTPKitBinary.repository.appendingPathComponent("www/index.html"), encoding: .utf8)
        #expect(result.stdout.hasSuffix(index))
    }

    @Test("files get their MIME type", arguments: [
        ("/style.css", "text/css; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
        ("/images/logo.png", "image/png"), ("/images/logo.svg", "image/svg+xml"), ("/hello.txt", "text/plain; charset=utf-8"),
    ])
    func mimeTypes(_ path: String, _ type: String) throws {
        let response = try RawClient.exchange(port: server.port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == type)
        let file = try Data(contentsOf: HTTPKitBinary.repository.appendingPathComponent("www" + path))
        #expect(response.body == Array(file))
    }

    @Test func headHasLengthAndNoBody() throws {
        let response = try RawClient.exchange(port: server.port, "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "48")
        #expect(response.body.isEmpty)
    }

    @Test func notFoundServesThe404Page() throws {
        let response = try RawClient.exchange(port: server.port, "GET /no/such/page HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 404)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.text.contains("404"))
    }

    @Test func directoryWithoutSlashRedirects() throws {
        let response = try RawClient.exchange(port: server.port, "GET /docs?from=test HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 301)
        #expect(response.header("Location") == "/docs/?from=test")
        let followed = try curl(["-sL", base + "/docs"])
        #expect(followed.stdout.contains("/docs/index.html"))
    }

    @Test func aFileNamedAsADirectoryIs404() throws {
        let response = try RawClient.exchange(port: server.port, "GET /hello.txt/ HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 404)
    }

    @Test func queryStringIgnoredForLookup() throws {
        let response = try RawClient.exchange(port: server.port, "GET /hello.txt?v=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 200)
    }

    @Test("methods other than GET and HEAD get 405 with Allow", arguments: ["POST", "PUT", "DELETE", "OPTIONS"])
    func methodNotAllowed(_ method: String) throws {
        let response = try RawClient.exchange(port: server.port, "\(method) / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, HEAD")
    }

    @Test("traversal attempts never leave the root", arguments: [
        "/../etc/passwd", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
        "/docs/../../etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/..\\..\\etc\\passwd", "/index.html%00.txt",
        "/.%2e/.%2e/etc/passwd", "//etc/passwd",
    ])
    func traversal(_ path: String) throws {
        let response = try RawClient.exchange(port: server.port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect([400, 403, 404].contains(response.status), "\(path) → \(response.status)")
        #expect(!response.text.contains("root:"), "\(path) leaked /etc/passwd")
    }

    @Test func garbageIsAnswered400AndServingGoesOn() throws {
        let garbage = try RawClient.exchange(port: server.port, "\u{16}\u{03}\u{01}\u{00}\u{a5}\u{01}\r\n\r\n")
        #expect(garbage.status == 400)
        let client = try RawClient(port: server.port)
        client.close() // connects and leaves without a word
        let next = try RawClient.exchange(port: server.port, "GET /hello.txt HTTP/1.0\r\n\r\n")
        #expect(next.status == 200)
    }

    @Test func pythonHTTPClient() throws {
        let python = try run(which("python3") ?? "/usr/bin/python3", ["-c", """
            import http.client
            for path in ['/', '/hello.txt', '/missing']:
                c = http.client.HTTPConnection('127.0.0.1', \(server.port), timeout=10)
                c.request('GET', path)
                r = c.getresponse()
                print(path, r.status, r.getheader('Content-Type'), len(r.read()))
            """])
        let lines = python.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("/ 200 text/html"))
        #expect(lines[1] == "/hello.txt 200 text/plain; charset=utf-8 48")
        #expect(lines[2].hasPrefix("/missing 404 text/html"))
    }
}

@Suite("static stage file safety and size", .serialized)
struct StaticFilesLiveTests {
    @Test func symlinkOutsideTheRootIsRefused() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/www", withIntermediateDirectories: true)
        directory.write("secret.txt", "top secret")
        directory.write("www/index.html", "<p>hi</p>")
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/www/leak.txt", withDestinationPath: directory.path + "/secret.txt")
        let server = try ServerProcess(["static", "--root", directory.path + "/www"])
        defer { server.stop() }
        let response = try RawClient.exchange(port: server.port, "GET /leak.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 403)
        #expect(!response.text.contains("top secret"))
    }

    /// A 1 GB (sparse) file is streamed with sendfile: the server's peak memory barely moves.
    @Test(.timeLimit(.minutes(2))) func largeFileIsStreamedNotRead() throws {
        let directory = TemporaryDirectory()
        let size = 1 << 30
        let path = directory.path + "/big.bin"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        #expect(truncate(path, off_t(size)) == 0)
        let server = try ServerProcess(["static", "--root", directory.path])
        defer { server.stop() }
        _ = try RawClient.exchange(port: server.port, "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n") // warm up
        let before = try #require(server.memoryKB("VmHWM"))
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let result = try buffer.withUnsafeMutableBytes { try client.socket.read(into: $0) }
            guard case .done(let count) = result else { throw TestFailure("timed out after \(received) bytes") }
            if count == 0 { break }
            received += count
        }
        let after = try #require(server.memoryKB("VmHWM"))
        #expect(received > size && received < size + 400, "head + 1 GB body, got \(received)")
        #expect(after - before < 4096, "peak RSS grew by \(after - before) kB while serving 1 GB")
        print("large file: served \(received) bytes; server VmHWM \(before) kB → \(after) kB")
    }
}

@Suite("the command line")
struct CommandLineLiveTests {
    func httpkit(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(HTTPKitBinary.path, arguments, timeout: 20)
    }

    @Test func stagesListsTheMilestonesInOrder() throws {
        let result = try httpkit(["stages"])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("1. echo") == true)
        #expect(lines.contains { $0.hasPrefix("3. static") && $0.contains("lessons/03-static.md") })
        for line in lines {
            let lesson = String(line.split(separator: "→").last ?? "").trimmingCharacters(in: .whitespaces)
            #expect(FileManager.default.fileExists(atPath: HTTPKitBinary.repository.appendingPathComponent(lesson).path), "\(lesson)")
        }
    }

    @Test func versionNamesTheLinkedLibraries() throws {
        let result = try httpkit(["version"])
        #expect(result.stdout.contains("zlib 1."))
        #expect(result.stdout.contains("libedit"))
    }

    @Test func portInUse() throws {
        let server = try ServerProcess(["hello"])
        defer { server.stop() }
        let result = try httpkit(["hello", "--port", String(server.port)])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("port \(server.port) on 127.0.0.1 is already in use"))
        #expect(result.stderr.contains("--port"))
    }

    @Test("bad input gets one line on stderr and a non-zero exit", arguments: [
        (["static", "--root", "/no/such/dir"], "--root /no/such/dir"),
        (["serve", "--stage", "nope"], "'nope'"),
        (["static", "--prot", "1"], "--prot"),
        (["hello", "--port", "99999"], "--port"),
        (["hello", "--header-timeout", "0"], "--header-timeout"),
        (["nosuchcommand"], "nosuchcommand"),
        (["proxy", "--upstream", "127.0.0.1:1", "--cache-size", "9999999999g"], "--cache-size 9999999999g"),
        (["proxy", "--upstream", "127.0.0.1:1", "--cache-size", "10x"], "--cache-size 10x"),
    ])
    func badInput(_ arguments: [String], _ mentions: String) throws {
        let result = try httpkit(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test("SIGINT and SIGTERM stop a stage cleanly", arguments: [SIGINT, SIGTERM])
    func stopSignals(_ signal: Int32) throws {
        for stage in ["echo", "hello", "static"] {
            let server = try ServerProcess([stage])
            #expect(server.stop(signal: signal) == 0, "\(stage)")
        }
    }

    @Test func helpHasExamples() throws {
        let result = try httpkit(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("httpkit stages"))
        let serve = try httpkit(["serve", "--help"])
        #expect(serve.stdout.contains("Examples:"))
    }
}
