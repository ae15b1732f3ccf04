import Testing
import HTTPCore

@Suite("ResponseSerializer writes exact bytes")
struct ResponseSerializerTests {
    let serializer = ResponseSerializer()
    let date = "Sun, 06 Nov 1994 08:49:37 GMT"

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func textResponseClosing() {
        let bytes = serializer.serialize(.text(.ok, "Hello, world!\n"), requestMethod: "GET", keepAlive: false, date: date)
        #expect(text(bytes) == """
        HTTP/1.1 200 OK\r
        Date: Sun, 06 Nov 1994 08:49:37 GMT\r
        Server: httpkit\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Length: 14\r
        Connection: close\r
        \r
        Hello, world!

        """)
    }

    @Test func keepAliveHasNoConnectionHeaderForHTTP11() {
        let bytes = serializer.serialize(.text(.ok, "hi"), requestMethod: "GET", keepAlive: true, date: date)
        #expect(!text(bytes).contains("Connection"))
        #expect(text(bytes).hasSuffix("Content-Length: 2\r\n\r\nhi"))
    }

    @Test func keepAliveForHTTP10SaysSo() {
        let bytes = serializer.serialize(.text(.ok, "hi"), requestMethod: "GET", version: .http1_0, keepAlive: true, date: date)
        #expect(text(bytes).contains("Connection: keep-alive\r\n"))
    }

    @Test func headKeepsLengthButSendsNoBody() {
        let bytes = serializer.serialize(.text(.ok, "Hello"), requestMethod: "HEAD", keepAlive: false, date: date)
        #expect(text(bytes).hasSuffix("Content-Length: 5\r\nConnection: close\r\n\r\n"))
    }

    @Test("204 and 304 carry neither body nor Content-Length", arguments: [204, 304])
    func noBodyStatuses(code: Int) {
        let response = HTTPResponse(status: HTTPStatus(code: code), body: .bytes(Array("ignored".utf8)))
        let bytes = serializer.serialize(response, requestMethod: "GET", keepAlive: true, date: date)
        #expect(text(bytes) == "HTTP/1.1 \(code) \(HTTPStatus(code: code).reason)\r\nDate: \(date)\r\nServer: httpkit\r\n\r\n")
    }

    @Test func framingHeadersFromHandlersAreReplaced() {
        var response = HTTPResponse.text(.ok, "abc")
        response.headers.add("Content-Length", "999")
        response.headers.add("Transfer-Encoding", "chunked")
        let bytes = serializer.serialize(response, requestMethod: "GET", keepAlive: true, date: date)
        #expect(!text(bytes).contains("999"))
        #expect(!text(bytes).contains("chunked"))
        #expect(text(bytes).contains("Content-Length: 3\r\n"))
    }

    @Test func untilCloseFramingOmitsLengthAndCloses() {
        let head = serializer.head(for: .text(.ok, "abc"), requestMethod: "GET", keepAlive: true, framing: .untilClose, date: date)
        #expect(!text(head).contains("Content-Length"))
        #expect(text(head).contains("Connection: close\r\n"))
    }

    @Test func fileBodyHeadOnly() {
        let response = HTTPResponse(status: .ok, headers: ["Content-Type": "text/html"], body: .file(path: "/x", length: 1234))
        let head = serializer.head(for: response, requestMethod: "GET", keepAlive: false, date: date)
        #expect(text(head).contains("Content-Length: 1234\r\n"))
        #expect(serializer.serialize(response, requestMethod: "GET", keepAlive: false, date: date) == head)
    }

    @Test func errorResponseCarriesTheReason() {
        let response = HTTPResponse.error(RequestError(.badRequest, "missing Host header"))
        #expect(response.status.code == 400)
        #expect(response.body == .bytes(Array("400 Bad Request: missing Host header\n".utf8)))
    }

    /// The head as the serializer wrote it before it sized its buffer first: line by line, appended.
    func appended(_ lines: [String], body: String = "") -> String { lines.map { $0 + "\r\n" }.joined() + "\r\n" + body }

    @Test("the head sized before it is written holds exactly every line, for every shape of response")
    func sizedHead() {
        var wired = HTTPResponse(status: .ok, headers: ["Content-Type": "text/css", "ETag": "\"v1\""], body: .bytes(Array("p{}".utf8)))
        wired.headers.prepareWire()
        wired.headers.add("Vary", "Accept-Encoding") // added to a cached response's ready-made lines
        let unicode = HTTPResponse(status: HTTPStatus(code: 299, reason: "Très Bien"), headers: ["X-Note": "café ☕"],
                                   body: .bytes(Array("é".utf8)))
        var switching = HTTPResponse(status: HTTPStatus(code: 101), headers: ["Upgrade": "websocket", "Connection": "Upgrade"])
        switching.headers.add("Content-Length", "5") // a framing field a handler should not set: dropped
        let streamed = HTTPResponse(status: .ok, body: .stream(StreamedBody("never opened") { throw RequestError(.badRequest, "unused") }))
        let cases: [(HTTPResponse, HTTPVersion, Bool, String)] = [
            (wired, .http1_1, true, appended(["HTTP/1.1 200 OK", "Date: \(date)", "Server: httpkit", "Content-Type: text/css",
                                             "ETag: \"v1\"", "Vary: Accept-Encoding", "Content-Length: 3"], body: "p{}")),
            (unicode, .http1_0, true, appended(["HTTP/1.1 299 Très Bien", "Date: \(date)", "Server: httpkit", "X-Note: café ☕",
                                               "Content-Length: 2", "Connection: keep-alive"], body: "é")),
            (switching, .http1_1, true, appended(["HTTP/1.1 101 Switching Protocols", "Date: \(date)", "Server: httpkit",
                                                  "Upgrade: websocket", "Connection: Upgrade"])),
            (streamed, .http1_1, false, appended(["HTTP/1.1 200 OK", "Date: \(date)", "Server: httpkit",
                                                  "Transfer-Encoding: chunked", "Connection: close"])),
            (HTTPResponse(status: .ok), .http1_1, true, appended(["HTTP/1.1 200 OK", "Date: \(date)", "Server: httpkit",
                                                                  "Content-Length: 0"])),
        ]
        for (response, version, keepAlive, expected) in cases {
            let bytes = serializer.serialize(response, requestMethod: "GET", version: version, keepAlive: keepAlive, date: date)
            #expect(text(bytes) == expected)
        }
        let anonymous = ResponseSerializer(serverName: nil)
        let plain = anonymous.serialize(.text(.ok, "x"), requestMethod: "GET", keepAlive: true, date: date)
        #expect(text(plain) == appended(["HTTP/1.1 200 OK", "Date: \(date)", "Content-Type: text/plain; charset=utf-8",
                                         "Content-Length: 1"], body: "x"))
    }

    @Test("Content-Length is written digit by digit, at every number of digits",
          arguments: [0, 1, 9, 10, 99, 100, 1_023, 65_536, 999_999_999, 1_000_000_000, Int.max])
    func lengthDigits(_ length: Int) {
        let response = HTTPResponse(status: .ok, body: .file(path: "/x", length: length))
        let head = text(serializer.head(for: response, requestMethod: "GET", keepAlive: true, date: date))
        #expect(head.hasSuffix("Content-Length: \(length)\r\n\r\n"))
    }

    @Test func dateFormat() {
        #expect(HTTPDate.format(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}

@Suite("MIME types")
struct MIMETypeTests {
    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"), ("a/b/style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"), ("mod.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"), ("logo.svg", "image/svg+xml"), ("x.png", "image/png"),
        ("x.JPG", "image/jpeg"), ("x.jpeg", "image/jpeg"), ("x.gif", "image/gif"), ("x.webp", "image/webp"),
        ("favicon.ico", "image/x-icon"), ("notes.txt", "text/plain; charset=utf-8"), ("feed.xml", "application/xml"),
        ("m.wasm", "application/wasm"), ("f.woff", "font/woff"), ("f.woff2", "font/woff2"),
        ("doc.pdf", "application/pdf"), ("clip.mp4", "video/mp4"), ("binary", "application/octet-stream"),
        ("archive.unknown", "application/octet-stream"), (".hidden", "application/octet-stream"),
    ])
    func type(_ path: String, _ expected: String) {
        #expect(MIMEType.forPath(path) == expected)
    }
}

@Suite("gzip with zlib")
struct GzipTests {
    @Test func roundTrip() throws {
        let text = Array(String(repeating: "Hello from httpkit! ", count: 50).utf8)
        let compressed = try Gzip.compress(text)
        #expect(compressed.prefix(3) == [0x1f, 0x8b, 0x08])
        #expect(compressed.count < text.count / 5)
        #expect(try Gzip.decompress(compressed) == text)
    }

    @Test func deterministic() throws {
        #expect(try Gzip.compress(Array("same".utf8)) == (try Gzip.compress(Array("same".utf8))))
    }

    @Test func truncatedIsAnError() throws {
        let compressed = try Gzip.compress(Array(String(repeating: "x", count: 1000).utf8))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(compressed.prefix(10))) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array("not gzip".utf8)) }
    }

    @Test func decompressionLimit() throws {
        let compressed = try Gzip.compress([UInt8](repeating: 0, count: 100_000))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(compressed, limit: 1000) }
    }
}
