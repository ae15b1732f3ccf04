import Foundation
import HTTPCore
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Reads exactly `count` responses from one connection with the core's response parser.
func readResponses(_ client: RawClient, count: Int, methods: [String]? = nil) throws -> [HTTPCore.ParsedResponse] {
    var parser = ResponseParser(requestMethod: methods?.first ?? "GET")
    var responses: [HTTPCore.ParsedResponse] = []
    while responses.count < count {
        while let response = try parser.next() {
            if (100...199).contains(response.status) { continue }
            responses.append(response)
            if let methods, responses.count < methods.count { parser.requestMethod = methods[responses.count] }
            if responses.count == count { break }
        }
        if responses.count == count { break }
        guard let bytes = try client.socket.read() else { throw TestFailure("timed out after \(responses.count) responses") }
        if bytes.isEmpty {
            if let last = try parser.finish() { responses.append(last) }
            break
        }
        parser.append(bytes)
    }
    return responses
}

func bodyText(_ response: HTTPCore.ParsedResponse) -> String { String(decoding: response.body, as: UTF8.self) }

@Suite("the keepalive stage")
struct KeepAliveLiveTests {
    @Test func curlNextReusesTheConnection() throws {
        let server = try ServerProcess(["keepalive"])
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let result = try curl(["-sv", base + "/hello.txt", "--next", base + "/", "--next", base + "/hello.txt"])
        #expect(result.stderr.components(separatedBy: "Re-using existing connection").count == 3, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Hello from a plain text file"))
    }

    @Test func pythonSendsSeveralRequestsOverOneConnection() throws {
        let server = try ServerProcess(["keepalive"])
        defer { server.stop() }
        let python = try run(which("python3") ?? "/usr/bin/python3", ["-c", """
            import http.client
            c = http.client.HTTPConnection('127.0.0.1', \(server.port), timeout=10)
            sockets = set()
            for path in ['/', '/hello.txt', '/missing', '/hello.txt']:
                c.request('GET', path)
                r = c.getresponse()
                r.read()
                sockets.add(id(c.sock))
                print(path, r.status)
            print('connections', len(sockets))
            """])
        #expect(python.stdout == "/ 200\n/hello.txt 200\n/missing 404\n/hello.txt 200\nconnections 1\n", "\(python.stderr)")
    }

    @Test func connectionCloseIsHonoured() throws {
        let server = try ServerProcess(["keepalive"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let all = try client.readToEnd() // returns because the server closed
        let response = try ParsedResponse(all)
        #expect(response.header("Connection") == "close")
        #expect(response.text.hasPrefix("Hello from"))
    }

    /// A file past the cache's 64 KB leaves with sendfile, and before a close the socket is corked: the close
    /// must still send every octet (the last partial segment with the FIN), for a file of several sendfile rounds.
    @Test("a large file that ends the connection arrives whole", arguments: ["keepalive", "router"])
    func largeFileBeforeACloseArrivesWhole(_ stage: String) throws {
        let directory = TemporaryDirectory()
        let content = (0..<300_001).map { String(UnicodeScalar(UInt8(97 + $0 % 26))) }.joined()
        directory.write("large.txt", content)
        let server = try ServerProcess([stage, "--root", directory.path] + (stage == "router" ? ["--access-log", "off"] : []))
        defer { server.stop() }
        for request in ["GET /large.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET /large.txt HTTP/1.0\r\n\r\n"] {
            let response = try RawClient.exchange(port: server.port, request) // read until the server closed
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "300001")
            #expect(response.body == Array(content.utf8), "\(response.body.count) octets of 300001")
        }
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() throws {
        let server = try ServerProcess(["keepalive"])
        defer { server.stop() }
        let plain = try RawClient.exchange(port: server.port, "GET /hello.txt HTTP/1.0\r\n\r\n")
        #expect(plain.header("Connection") == "close")
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let responses = try readResponses(client, count: 2)
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses[0].headers["Connection"] == "keep-alive")
    }

    @Test func pipelinedRequestsIncludingAPOSTAreAnsweredInOrder() throws {
        let server = try ServerProcess(["router", "--access-log", "off"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"n\": 2}"
            + "GET /echo/three HTTP/1.1\r\nHost: x\r\n\r\n"
            + "HEAD /echo/four HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /echo/five HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let responses = try readResponses(client, count: 5, methods: ["GET", "POST", "GET", "HEAD", "GET"])
        #expect(responses.map(bodyText) == ["one", "{\"n\": 2}", "three", "", "five"])
        #expect(responses[3].headers["Content-Length"] == "4")
        #expect(try client.readToEnd().isEmpty, "nothing extra after the last response")
    }

    @Test func expect100Continue() throws {
        let server = try ServerProcess(["router", "--access-log", "off"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("POST /api/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        let interim = String(decoding: try client.read(count: 25), as: UTF8.self)
        #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send("[]")
        #expect(try readResponses(client, count: 1).first.map(bodyText) == "[]")
    }

    @Test func http10ExpectationIsIgnored() throws {
        let server = try ServerProcess(["router", "--access-log", "off"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // RFC 9110 §10.1.1: no 100 Continue for HTTP/1.0; the final response comes once the body is sent.
        try client.send("POST /api/echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        try client.send("{}")
        let all = String(decoding: try client.readToEnd(), as: UTF8.self)
        #expect(!all.contains("100 Continue"))
        #expect(all.hasPrefix("HTTP/1.1 200 OK"))
    }

    @Test func idleTimeoutAndMaxRequestsCloseTheConnection() throws {
        let server = try ServerProcess(["keepalive", "--idle-timeout", "0.5", "--max-requests", "2"])
        defer { server.stop() }
        let idle = try RawClient(port: server.port)
        defer { idle.close() }
        try idle.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try readResponses(idle, count: 1)
        let started = Date()
        #expect(try idle.readToEnd().isEmpty)
        #expect(Date().timeIntervalSince(started) < 3)

        let limited = try RawClient(port: server.port)
        defer { limited.close() }
        try limited.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let responses = try readResponses(limited, count: 2)
        #expect(responses[1].headers["Connection"] == "close")
    }

    @Test func theLastAllowedResponseSurvivesRequestsStillArriving() throws {
        // With --max-requests 1 the server closes after the first answer while this client is still sending
        // (256 KB of pipelined requests, more than one read takes). Closing with them unread would reset the
        // connection and could destroy the answer in the client's buffer (RFC 9112 §9.6); it lingers instead.
        let server = try ServerProcess(["keepalive", "--max-requests", "1"])
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        defer { client.close() }
        let request = "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        try client.send(String(repeating: request, count: 256 * 1024 / request.utf8.count))
        let all = String(decoding: try client.readToEnd(), as: UTF8.self) // a reset would throw here
        #expect(all.hasPrefix("HTTP/1.1 200 OK") && all.contains("Connection: close"), "\(all.prefix(200))")
    }

    @Test func workersShareThePort() throws {
        let server = try ServerProcess(["keepalive", "--workers", "2"])
        defer { server.stop() }
        #expect(server.startupLine.hasSuffix("with 2 workers"))
        let statuses = try simultaneousRequests(port: server.port, count: 200)
        #expect(statuses == [200: 200])
        #expect(server.stop() == 0)
    }

    @Test("malformed chunked bodies get 400 and a close", arguments: [
        "5\r\nhello\r\nzz\r\n",           // not hex
        "fffffffffffffffffff\r\n",        // overflow
        "3\r\nabcdef\r\n0\r\n\r\n",        // size disagrees with data
    ])
    func malformedChunked(_ body: String) throws {
        let server = try ServerProcess(["keepalive"])
        defer { server.stop() }
        let response = try RawClient.exchange(port: server.port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        #expect(response.status == 400)
        #expect(response.header("Connection") == "close")
    }
}

@Suite("the router stage")
struct RouterLiveTests {
    let directory = TemporaryDirectory()
    let server: ServerProcess
    var base: String { "http://127.0.0.1:\(server.port)" }

    init() throws {
        try FileManager.default.createDirectory(atPath: directory.path + "/files", withIntermediateDirectories: true)
        directory.write("files/hello.bin", "binary hello")
        directory.write("secret.txt", "top secret")
        server = try ServerProcess(["router", "--directory", directory.path + "/files", "--max-body", "100000",
                                    "--access-log", directory.path + "/access.log"])
    }

    @Test func echoAndUserAgent() throws {
        let echo = try RawClient.exchange(port: server.port, "GET /echo/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(echo.status == 200 && echo.text == "abc" && echo.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(echo.header("Content-Length") == "3")
        let agent = try RawClient.exchange(port: server.port, "GET /user-agent HTTP/1.1\r\nHost: x\r\nUser-Agent: foobar/1.2.3\r\nConnection: close\r\n\r\n")
        #expect(agent.text == "foobar/1.2.3")
    }

    @Test func usersAsJSON() throws {
        let result = try curl(["-s", "-D", "-", base + "/users/1"])
        #expect(result.stdout.contains("Content-Type: application/json"))
        #expect(result.stdout.hasSuffix("{\"id\": \"1\", \"name\": \"Ada Lovelace\"}\n"))
        let other = try curl(["-s", base + "/users/a%22b"])
        #expect(other.stdout == "{\"id\": \"a\\\"b\", \"name\": \"User a\\\"b\"}\n")
    }

    @Test func jsonEcho() throws {
        let valid = try curl(["-s", "-H", "Content-Type: application/json", "--data-binary", "{\"x\": [1, 2.5, \"é\"]}", base + "/api/echo"])
        #expect(valid.stdout == "{\"x\": [1, 2.5, \"é\"]}")
        let invalid = try curl(["-s", "-w", "%{http_code}", "--data-binary", "{\"x\": ", base + "/api/echo"])
        #expect(invalid.stdout.hasPrefix("400 Bad Request: invalid JSON at byte 6"))
        #expect(invalid.stdout.hasSuffix("400"))
    }

    @Test func filesDownloadAndUpload() throws {
        let download = try curl(["-s", "-D", "-", base + "/files/hello.bin"])
        #expect(download.stdout.contains("Content-Type: application/octet-stream"))
        #expect(download.stdout.hasSuffix("binary hello"))
        #expect(try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/files/absent.bin"]).stdout == "404")

        let payload = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(FileManager.default.createFile(atPath: directory.path + "/payload", contents: Data(payload)))
        let upload = try curl(["-s", "-w", "%{http_code}", "--data-binary", "@" + directory.path + "/payload", base + "/files/up.bin"])
        #expect(upload.stdout.hasSuffix("201"))
        #expect(FileManager.default.contents(atPath: directory.path + "/files/up.bin") == Data(payload))
    }

    @Test func chunkedUploadArrivesWhole() throws {
        let payload = (0..<80_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        #expect(FileManager.default.createFile(atPath: directory.path + "/chunky", contents: Data(payload)))
        let upload = try curl(["-s", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + directory.path + "/chunky", base + "/files/chunky.bin"])
        #expect(upload.stdout.hasSuffix("201"))
        #expect(FileManager.default.contents(atPath: directory.path + "/files/chunky.bin") == Data(payload))
    }

    @Test("uploads over the body limit get 413 and leave nothing", arguments: ["Content-Length", "chunked"])
    func uploadOverTheLimit(_ framing: String) throws {
        let big = String(repeating: "z", count: 150_000)
        let head = "POST /files/too-big.bin HTTP/1.1\r\nHost: x\r\n"
        let request = framing == "chunked"
            ? head + "Transfer-Encoding: chunked\r\n\r\n" + String(60_000, radix: 16) + "\r\n" + String(big.prefix(60_000)) + "\r\n"
                + String(60_000, radix: 16) + "\r\n" + String(big.prefix(60_000)) + "\r\n0\r\n\r\n"
            : head + "Content-Length: \(big.count)\r\n\r\n" + big
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try? client.send(request)
        let response = try ParsedResponse(client.readToEnd())
        #expect(response.status == 413)
        usleep(100_000)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/files")
        #expect(!left.contains { $0.contains("too-big") }, "left behind: \(left)")
    }

    @Test func clientLeavingMidUploadLeavesNothing() throws {
        let client = try RawClient(port: server.port)
        try client.send("POST /files/partial.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n" + String(repeating: "p", count: 20_000))
        usleep(200_000)
        client.close()
        usleep(300_000)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/files")
        #expect(!left.contains { $0.contains("partial") }, "left behind: \(left)")
    }

    @Test("traversal attempts in /files/ never leave the directory", arguments: [
        "/files/..%2fsecret.txt", "/files/%2e%2e%2fsecret.txt", "/files/../secret.txt", "/files/..%5csecret.txt",
        "/files/.hidden", "/files/%2e%2e",
    ])
    func filesTraversal(_ path: String) throws {
        for method in ["GET", "POST"] {
            let response = try RawClient.exchange(port: server.port, "\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil")
            #expect(response.status != 200 && response.status != 201, "\(method) \(path) → \(response.status)")
            #expect(!response.text.contains("top secret"))
        }
        #expect(FileManager.default.contents(atPath: directory.path + "/secret.txt") == Data("top secret".utf8))
    }

    @Test("Accept-Encoding variants", arguments: [
        (nil, false), ("gzip", true), ("deflate, gzip;q=0.9, br", true), ("br, zstd", false), ("gzip;q=0", false), ("*", true),
    ] as [(String?, Bool)])
    func acceptEncoding(_ header: String?, _ gzipped: Bool) throws {
        let request = "GET /index.html HTTP/1.1\r\nHost: x\r\n" + (header.map { "Accept-Encoding: \($0)\r\n" } ?? "") + "Connection: close\r\n\r\n"
        let response = try RawClient.exchange(port: server.port, request)
        #expect(response.status == 200)
        #expect(response.header("Vary") == "Accept-Encoding")
        let index = try Data(contentsOf: HTTPKitBinary.repository.appendingPathComponent("www/index.html"))
        if gzipped {
            #expect(response.header("Content-Encoding") == "gzip")
            #expect(response.body.count < index.count / 2)
            #expect(try Gzip.decompress(response.body) == Array(index))
        } else {
            #expect(response.header("Content-Encoding") == nil)
            #expect(response.body == Array(index))
        }
    }

    @Test func refusingIdentityAndGzipIs406() throws {
        let response = try RawClient.exchange(port: server.port, "GET /index.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, identity;q=0\r\nConnection: close\r\n\r\n")
        #expect(response.status == 406)
    }

    @Test func curlCompressedDecodesAndTinyOrCompressedTypesAreLeftAlone() throws {
        let result = try curl(["-s", "--compressed", "-D", "-", base + "/style.css"])
        #expect(result.stdout.contains("Content-Encoding: gzip"))
        #expect(result.stdout.contains("#stylesheet-probe"))
        let png = try RawClient.exchange(port: server.port, "GET /images/logo.png HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        #expect(png.header("Content-Encoding") == nil)
        let tiny = try RawClient.exchange(port: server.port, "GET /users/1 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
        #expect(tiny.header("Content-Encoding") == nil)
        #expect(tiny.text.contains("Ada Lovelace"))
    }

    /// The Codecrafters course's routes, as that course checks them: `text/plain` with no parameter, and
    /// `/echo/{str}` gzipped whenever the client accepts gzip, however short.
    @Test func codecraftersRoutesAnswerAsTheCourseExpects() throws {
        let plain = try RawClient.exchange(port: server.port, "GET /echo/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(plain.header("Content-Type") == "text/plain")
        #expect(plain.header("Content-Length") == "3")
        #expect(plain.text == "abc")
        let agent = try RawClient.exchange(port: server.port, "GET /user-agent HTTP/1.1\r\nHost: x\r\nUser-Agent: foobar/1.2.3\r\nConnection: close\r\n\r\n")
        #expect(agent.header("Content-Type") == "text/plain")
        #expect(agent.text == "foobar/1.2.3")
        let gzipped = try RawClient.exchange(port: server.port, "GET /echo/abc HTTP/1.1\r\nHost: x\r\nAccept-Encoding: invalid-1, gzip, invalid-2\r\nConnection: close\r\n\r\n")
        #expect(gzipped.header("Content-Encoding") == "gzip")
        #expect(gzipped.body.starts(with: [0x1F, 0x8B]))
        #expect((try? Gzip.decompress(gzipped.body)) == Array("abc".utf8))
    }

    /// An upload to a path Basic auth protects is refused before anything is written, and the access log
    /// records it with the requests the parser refused.
    @Test func protectedUploadsWriteNothingWithoutCredentials() throws {
        let directory = TemporaryDirectory()
        let log = directory.path + "/access.log"
        let files = TemporaryDirectory()
        let guarded = try ServerProcess(["router", "--directory", files.path, "--protect", "/files", "--access-log", log])
        defer { guarded.stop() }
        let refused = try RawClient.exchange(port: guarded.port,
            "POST /files/secret.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        #expect(refused.status == 401)
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.path).isEmpty, "nothing, not even a temporary file")
        // With Expect: 100-continue the refusal comes instead of the go-ahead: the body is never sent.
        let early = try RawClient.exchange(port: guarded.port,
            "POST /files/big.bin HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
        #expect(early.status == 401)
        #expect(early.header("Connection") == "close")
        let accepted = try RawClient.exchange(port: guarded.port,
            "POST /files/secret.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic bGVhcm5lcjpodHRwa2l0\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        #expect(accepted.status == 201)
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.path) == ["secret.txt"])
        let bad = try RawClient.exchange(port: guarded.port, "GARBAGE\r\n\r\n")
        #expect(bad.status == 400)
        guarded.stop()
        let lines = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        #expect(lines.count == 4)
        #expect(lines.first?.contains("\"POST /files/secret.txt HTTP/1.1\" 401 ") == true)
        #expect(lines.contains { $0.contains(" - learner [") && $0.contains("\" 201 ") })
        #expect(lines.last?.contains("\"-\" 400 ") == true)
    }

    @Test func largeFilesAreGzippedAsTheyStream() throws {
        let text = String(repeating: "All work and no play makes Jack a dull boy.\n", count: 60_000) // 2.6 MB
        directory.write("files/big.txt", text)
        let client = try RawClient(port: server.port)
        defer { client.close() }
        // /files/ answers application/octet-stream, which is compressible: it is gzipped, chunked.
        try client.send("GET /files/big.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        let response = try readResponses(client, count: 1)[0]
        #expect(response.framing == .chunked)
        #expect(response.headers["Content-Encoding"] == "gzip")
        #expect(try Gzip.decompress(response.body) == Array(text.utf8))
    }

    @Test func routeMethodsHeadAnd405() throws {
        let head = try RawClient.exchange(port: server.port, "HEAD /echo/abcdef HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(head.status == 200 && head.body.isEmpty && head.header("Content-Length") == "6")
        let refused = try RawClient.exchange(port: server.port, "DELETE /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(refused.status == 405)
        #expect(refused.header("Allow") == "GET, HEAD")
    }

    @Test func basicAuth() throws {
        let without = try curl(["-s", "-D", "-", base + "/admin"])
        #expect(without.stdout.hasPrefix("HTTP/1.1 401"))
        #expect(without.stdout.contains("WWW-Authenticate: Basic realm=\"httpkit\""))
        #expect(try curl(["-s", "-w", "%{http_code}", "-o", "/dev/null", "-u", "learner:wrong", base + "/admin"]).stdout == "401")
        let with = try curl(["-s", "-u", "learner:httpkit", base + "/admin"])
        #expect(with.stdout.hasPrefix("Welcome, learner."))
    }

    @Test("paths that route to /admin are guarded too", arguments: ["//admin", "/%61dmin", "/x/../admin", "/./admin", "/admin/", "/admin?x=1"])
    func basicAuthCannotBeBypassed(_ path: String) throws {
        let response = try RawClient.exchange(port: server.port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(response.status == 401, "\(path) → \(response.status) \(response.text)")
    }

    @Test func cors() throws {
        let simple = try RawClient.exchange(port: server.port, "GET /echo/x HTTP/1.1\r\nHost: x\r\nOrigin: http://example.test\r\nConnection: close\r\n\r\n")
        #expect(simple.header("Access-Control-Allow-Origin") == "*")
        let preflight = try RawClient.exchange(port: server.port, "OPTIONS /api/echo HTTP/1.1\r\nHost: x\r\nOrigin: http://example.test\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n")
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true)
        #expect(preflight.header("Access-Control-Allow-Headers") == "content-type")
    }

    @Test func chunkedResponseForHTTP11AndUntilCloseForHTTP10() throws {
        let client = try RawClient(port: server.port)
        defer { client.close() }
        try client.send("GET /chunked/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        let chunked = try readResponses(client, count: 1)[0]
        #expect(chunked.framing == .chunked)
        #expect(bodyText(chunked) == "line 1 of 3\nline 2 of 3\nline 3 of 3\n")
        let old = try RawClient.exchange(port: server.port, "GET /chunked/2 HTTP/1.0\r\n\r\n")
        #expect(old.header("Transfer-Encoding") == nil && old.header("Content-Length") == nil)
        #expect(old.text == "line 1 of 2\nline 2 of 2\n")
    }

    @Test func staticFilesStillServed() throws {
        #expect(try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/docs/"]).stdout == "200")
        #expect(try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/nope"]).stdout == "404")
    }

    @Test func accessLogInCommonLogFormat() throws {
        _ = try curl(["-s", "-o", "/dev/null", "-u", "learner:httpkit", base + "/admin"])
        _ = try curl(["-s", "-o", "/dev/null", base + "/echo/logged"])
        #expect(server.stop() == 0)
        let log = (try? String(contentsOfFile: directory.path + "/access.log", encoding: .utf8)) ?? ""
        let pattern = #/^127\.0\.0\.1 - (-|learner) \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "[A-Z]+ \S+ HTTP/1\.[01]" \d{3} (\d+|-)$/#
        let lines = log.split(separator: "\n")
        #expect(lines.contains { $0.contains("\"GET /admin HTTP/1.1\" 200") && $0.contains(" - learner [") })
        #expect(lines.contains { $0.contains("\"GET /echo/logged HTTP/1.1\" 200 6") })
        for line in lines { #expect(line.wholeMatch(of: pattern) != nil, "not CLF: \(line)") }
    }
}

@Suite("TCP_DEFER_ACCEPT: a connection reaches the loop with its first bytes")
struct DeferAcceptLiveTests {
    /// Seconds until the server closes a connection that sends nothing (nil: still open after `wait`).
    static func closesSilentConnection(_ server: ServerProcess, wait: Double) throws -> Double? {
        let silent = try Socket.connect(host: "127.0.0.1", port: server.port)
        defer { silent.close() }
        let started = Date()
        try silent.setReceiveTimeout(seconds: wait)
        // The end of the stream (or a 408 before it) means the loop timed it; no answer within `wait`, that it did not.
        guard (try? silent.read()) != nil else { return nil }
        return Date().timeIntervalSince(started)
    }

    /// The header timeout runs from accept. Without the option a silent connection is accepted at once and
    /// closed when its header time is up; with it, the kernel holds the connection until bytes come (or its
    /// seconds pass), so the loop has nothing to time yet.
    @Test(.timeLimit(.minutes(1))) func aSilentConnectionIsHeldByTheKernelAndARequestIsServedAtOnce() throws {
        let plain = try ServerProcess(["keepalive", "--header-timeout", "1", "--defer-accept", "0"])
        defer { plain.stop() }
        let closedAfter = try #require(try Self.closesSilentConnection(plain, wait: 3))
        #expect(closedAfter < 2, "without TCP_DEFER_ACCEPT the header timeout closed it after \(closedAfter) s")

        let deferred = try ServerProcess(["keepalive", "--header-timeout", "1", "--defer-accept", "5"])
        defer { deferred.stop() }
        #expect(try Self.closesSilentConnection(deferred, wait: 2) == nil, "held by the kernel, not timed by the loop")
        let started = Date()
        let response = try RawClient.exchange(port: deferred.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(response.status == 200)
        #expect(Date().timeIntervalSince(started) < 1, "a connection that sends its request is handed over at once")
    }

    /// Lessons 01–06 teach the bare accept: their stages never defer, also when `serve --stage` hands them the
    /// keep-alive options (here with --defer-accept 5, which only the stages that run Workers take).
    @Test(.timeLimit(.minutes(1))) func theTeachingStagesAcceptAtOnce() throws {
        let eventloop = try ServerProcess(["serve", "--stage", "eventloop", "--header-timeout", "1", "--defer-accept", "5"])
        defer { eventloop.stop() }
        let closedAfter = try #require(try Self.closesSilentConnection(eventloop, wait: 3))
        #expect(closedAfter < 2, "the eventloop stage timed the silent connection from the handshake (\(closedAfter) s)")
    }
}

@Suite("keepalive and router command line")
struct KeepAliveCommandLineTests {
    @Test("bad options are one clear line", arguments: [
        (["keepalive", "--workers", "0"], "--workers"),
        (["keepalive", "--idle-timeout", "-1"], "--idle-timeout"),
        (["router", "--directory", "/no/such/dir"], "--directory /no/such/dir"),
        (["router", "--auth", "nopassword"], "--auth"),
        (["router", "--access-log", "/no/such/dir/log"], "access log"),
        (["router", "--protect", "files"], "--protect files"),
        (["router", "--cache-max-age", "soon"], "--cache-max-age soon"),
        (["websocket", "--max-message", "10"], "--max-message 10"),
        (["websocket", "--ping-interval", "0"], "--ping-interval"),
        (["websocket", "--workers", "2"], "--workers 2"),
        (["keepalive", "--defer-accept", "-1"], "--defer-accept -1"),
        (["router", "--defer-accept", "601"], "--defer-accept 601"),
        (["http2", "--defer-accept", "soon"], "--defer-accept"),
    ])
    func badOptions(_ arguments: [String], _ mentions: String) throws {
        let result = try run(HTTPKitBinary.path, arguments + ["--port", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
    }
}
