import Testing
@testable import HTTPCore

@Suite("Router")
struct RouterTests {
    func router() -> Router {
        var router = Router()
        router.get("/echo/:text") { .text(.ok, $0[parameter: "text"] ?? "") }
        router.get("/users/:id") { .text(.ok, "user \($0[parameter: "id"] ?? "")") }
        router.post("/users/:id") { _ in .text(.created, "made") }
        router.get("/static/*") { .text(.ok, "rest=\($0[parameter: "*"] ?? "")") }
        router.get("/") { _ in .text(.ok, "home") }
        return router
    }

    func answer(_ method: HTTPMethod, _ target: String) -> HTTPResponse {
        router().handle(RoutedRequest(HTTPRequest(method: method, target: target, headers: ["Host": "x"])))
    }

    func body(_ response: HTTPResponse) -> String {
        if case .bytes(let bytes) = response.body { return String(decoding: bytes, as: UTF8.self) }
        return ""
    }

    @Test func parametersAreDecoded() {
        #expect(body(answer("GET", "/echo/hello%20world")) == "hello world")
        #expect(body(answer("GET", "/users/42?x=1")) == "user 42")
    }

    @Test func wildcardTakesTheRest() {
        #expect(body(answer("GET", "/static/css/site.css")) == "rest=css/site.css")
        #expect(body(answer("GET", "/static/")) == "rest=")
    }

    @Test func notFoundAndMethodNotAllowed() {
        #expect(answer("GET", "/nothing/here").status.code == 404)
        #expect(answer("GET", "/echo").status.code == 404)
        #expect(answer("GET", "/echo/a/b").status.code == 404)
        let refused = answer("DELETE", "/users/1")
        #expect(refused.status.code == 405)
        #expect(refused.headers["Allow"] == "GET, HEAD, POST")
    }

    @Test func headUsesTheGetHandler() {
        #expect(answer("HEAD", "/users/7").status.code == 200)
    }

    @Test func traversalInAParameterIsRefused() {
        #expect(answer("GET", "/echo/..%2f..%2fetc").status.code == 400) // decodes to /echo/../../etc: above the root
        #expect(answer("GET", "/echo/%2e%2e/%2e%2e/x").status.code == 400)
    }

    @Test func fallbackAnswersUnmatchedPaths() {
        var router = router()
        router.fallback = { _ in .text(.ok, "fallback") }
        #expect(body(router.handle(RoutedRequest(HTTPRequest(method: "GET", target: "/x", headers: ["Host": "x"])))) == "fallback")
    }

    /// The shortcut to the fallback (a normal path whose first segment begins no pattern) must not change
    /// an answer: paths that only normalise to a route, `/`, near-miss names, and a pattern that starts
    /// with a parameter (which turns the shortcut off).
    @Test func shortcutToTheFallbackChangesNoAnswer() {
        var router = router()
        router.fallback = { _ in .text(.ok, "fallback") }
        func get(_ target: String, on router: Router) -> String {
            body(router.handle(RoutedRequest(HTTPRequest(method: "GET", target: target, headers: ["Host": "x"]))))
        }
        #expect(get("/", on: router) == "home")
        #expect(get("/x/../echo/hi", on: router) == "hi")
        #expect(get("//echo/hi", on: router) == "hi")
        #expect(get("/%65cho/hi", on: router) == "hi")
        #expect(get("/echoes/hi", on: router) == "fallback")
        #expect(get("/ech", on: router) == "fallback")
        #expect(get("/index.html", on: router) == "fallback")
        // The first segment ends at `?` as at `/`; an absolute-form target is matched on its path.
        #expect(get("/echo/hi?x=1", on: router) == "hi")
        #expect(get("/index.html?next=/echo/x", on: router) == "fallback")
        // A URL in the query is not the path: `/abc` is routed, not the query's `/echo/hi`; a first segment as
        // long as a pattern's (`index.html`, `user-agent`) with a URL after `?` is compared on the path it is.
        #expect(get("/abc?u=http://h/echo/hi", on: router) == "fallback")
        router.get("/user-agent") { _ in .text(.ok, "ua") }
        #expect(get("/index.html?ref=http://example.com", on: router) == "fallback")
        #expect(get("/user-agent?ref=http://example.com", on: router) == "ua")
        #expect(get("http://x/echo/hi", on: router) == "hi")
        // First segments of 63 octets and more share one length bit: they are still told apart octet by octet.
        let long = String(repeating: "a", count: 70), longer = String(repeating: "a", count: 80)
        router.get("/\(long)") { _ in .text(.ok, "long") }
        #expect(get("/\(long)", on: router) == "long")
        #expect(get("/\(longer)", on: router) == "fallback")
        #expect(get("/\(String(repeating: "a", count: 63))", on: router) == "fallback")
        router.get("/:name") { .text(.ok, "name=\($0[parameter: "name"] ?? "")") }
        #expect(get("/index.html", on: router) == "name=index.html")
    }

    @Test func middlewareRunsOutermostFirst() {
        let order = Recorder()
        let app = Layer(Recording(name: "first", order: order), around:
                  Layer(Recording(name: "second", order: order), around:
                        Answering { _ in order.add("handler"); return .text(.ok, "") }))
        _ = app.respond(to: RoutedRequest(HTTPRequest(method: "GET", target: "/")))
        #expect(order.items == ["first in", "second in", "handler", "second out", "first out"])
    }

    struct Recording: Middleware {
        let name: String
        let order: Recorder
        func respond(to routed: RoutedRequest, next: some Responder) -> HTTPResponse {
            order.add("\(name) in")
            let response = next.respond(to: routed)
            order.add("\(name) out")
            return response
        }
    }

    final class Recorder: @unchecked Sendable {
        var items: [String] = []
        func add(_ item: String) { items.append(item) }
    }
}

@Suite("Accept-Encoding negotiation")
struct ContentCodingTests {
    @Test(arguments: [
        ([], ContentCoding.identity),
        (["gzip"], .gzip),
        (["deflate, gzip, br"], .gzip),
        (["br"], .identity),
        (["br", "zstd"], .identity),
        (["gzip;q=0"], .identity),
        (["gzip;q=0, identity"], .identity),
        (["*"], .gzip),
        (["*;q=0"], .notAcceptable),
        (["*;q=0, identity"], .identity),
        (["identity;q=0"], .notAcceptable),
        (["identity;q=0, gzip"], .gzip),
        (["gzip;q=0.5, identity;q=1"], .identity),
        (["GZIP;Q=0.8"], .gzip),
        (["x-gzip"], .gzip),
        (["gzip;q=0, *"], .identity),
        // Read on octets: spaces and tabs around every part, empty elements, other parameters, bad numbers.
        (["gzip ; q=0.5 , identity ; q=0.4"], .gzip),
        (["\t gzip \t"], .gzip),
        ([",, ,gzip,,"], .gzip),
        (["gzip;level=1;q=0"], .identity),
        (["gzip;q=abc"], .identity),
        (["gzip;q="], .identity),
        (["gzip;q=7"], .gzip),
        (["identity;Q=0, *;q=0"], .notAcceptable),
        (["br;q=1", "X-GZIP;q=1"], .gzip),
        ([""], .identity),
        (["deflate, gzip;q=0.001, identity;q=0.001"], .gzip),
    ])
    func negotiate(_ header: [String], _ expected: ContentCoding) {
        #expect(ContentCoding.negotiate(header) == expected, "\(header)")
    }
}

@Suite("Base64, JSON, chunked encoding")
struct SmallCodecTests {
    @Test func base64() {
        #expect(Base64.encode(Array("learner:httpkit".utf8)) == "bGVhcm5lcjpodHRwa2l0")
        #expect(Base64.decode("bGVhcm5lcjpodHRwa2l0") == Array("learner:httpkit".utf8))
        for text in ["", "a", "ab", "abc", "abcd"] {
            #expect(Base64.decode(Base64.encode(Array(text.utf8))) == Array(text.utf8))
        }
        #expect(Base64.decode("abc") == nil)
        #expect(Base64.decode("a=bc") == nil)
        #expect(Base64.decode("ab!c") == nil)
    }

    @Test(arguments: ["{}", "[]", "0", "-1.5e+3", "\"a\\u00e9\\n\"", "{\"a\": [1, true, null, {\"b\": \"c\"}]}", " [ ] "])
    func validJSON(_ text: String) throws {
        try JSONValidator.validate(Array(text.utf8))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "1.", "tru", "\"a", "{'a': 1}", "[1] x", "\"\u{1}\"", "{\"a\" 1}"])
    func invalidJSON(_ text: String) {
        #expect(throws: JSONValidator.Invalid.self, "\(text)") { try JSONValidator.validate(Array(text.utf8)) }
    }

    @Test func jsonQuote() {
        #expect(JSONValidator.quote("a\"b\\c\n\u{1}") == "\"a\\\"b\\\\c\\n\\u0001\"")
    }

    @Test func chunkedEncoderRoundTripsThroughTheDecoder() throws {
        var encoded: [UInt8] = []
        for piece in ["hello", "", " world", String(repeating: "x", count: 300)] { encoded += ChunkedEncoder.chunk(Array(piece.utf8)) }
        encoded += ChunkedEncoder.lastChunk
        #expect(encoded.starts(with: Array("5\r\nhello\r\n6\r\n world\r\n12c\r\n".utf8)))
        var decoder = ChunkedDecoder()
        var start = 0, body: [UInt8] = []
        #expect(try decoder.decode(encoded, start: &start, into: &body, limits: RequestLimits()))
        #expect(String(decoding: body, as: UTF8.self) == "hello world" + String(repeating: "x", count: 300))
        #expect(start == encoded.count)
    }
}

@Suite("Streaming request bodies")
struct StreamingParserTests {
    func events(_ raw: String, pieces: Int) throws -> [RequestEvent] {
        var parser = RequestParser()
        parser.streamsBodies = true
        var events: [RequestEvent] = []
        let bytes = Array(raw.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + pieces)
            parser.append(bytes[offset..<end])
            offset = end
            while let event = try parser.nextEvent() { events.append(event) }
        }
        return events
    }

    /// The body pieces joined, whatever the read sizes were.
    func body(_ events: [RequestEvent]) -> String {
        String(decoding: events.flatMap { if case .bodyPart(let bytes) = $0 { return bytes } else { return [] } }, as: UTF8.self)
    }

    @Test(arguments: [1, 3, 1000])
    func contentLengthBodyArrivesInPieces(pieces: Int) throws {
        let events = try events("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello worldGET / HTTP/1.1\r\nHost: x\r\n\r\n", pieces: pieces)
        guard case .head(let head) = events.first else { Issue.record("no head first: \(events)"); return }
        #expect(head.target == "/u" && head.body.isEmpty)
        #expect(body(events) == "hello world")
        #expect(events.dropLast().last == .end)
        guard case .request(let next) = events.last else { Issue.record("no pipelined request"); return }
        #expect(next.method == "GET")
    }

    @Test(arguments: [1, 4, 1000])
    func chunkedBodyArrivesInPieces(pieces: Int) throws {
        let events = try events("POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", pieces: pieces)
        #expect(body(events) == "hello world")
        #expect(events.last == .end)
    }

    @Test func bodilessRequestsAreWhole() throws {
        let events = try events("GET / HTTP/1.1\r\nHost: x\r\n\r\n", pieces: 100)
        #expect(events.count == 1)
        guard case .request = events[0] else { Issue.record("\(events)"); return }
    }
}

@Suite("ResponseParser")
struct ResponseParserTests {
    func parse(_ raw: String, method: String = "GET", close: Bool = false) throws -> [HTTPCore.ParsedResponse] {
        var parser = ResponseParser(requestMethod: method)
        parser.append(Array(raw.utf8))
        var responses: [HTTPCore.ParsedResponse] = []
        while let response = try parser.next() { responses.append(response) }
        if close, let last = try parser.finish() { responses.append(last) }
        return responses
    }

    @Test func contentLengthAndPipelined() throws {
        let responses = try parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        #expect(responses.map(\.status) == [200, 404])
        #expect(responses[0].body == Array("ok".utf8))
        #expect(responses[0].framing == .contentLength(2))
    }

    @Test func chunkedAndUntilClose() throws {
        let chunked = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(chunked.first?.body == Array("abc".utf8))
        let untilClose = try parse("HTTP/1.0 200 OK\r\n\r\nall of it", close: true)
        #expect(untilClose.first?.body == Array("all of it".utf8))
        #expect(untilClose.first?.keepsConnection == false)
    }

    @Test func headAnd204HaveNoBody() throws {
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", method: "HEAD").first?.body == [])
        #expect(try parse("HTTP/1.1 204 No Content\r\n\r\n").count == 1)
    }
}

@Suite("Types gzip leaves alone")
struct AlreadyCompressedTests {
    @Test(arguments: [
        ("image/png", true), ("IMAGE/JPEG", true), (" image/webp ; q=1", true), ("image/svg+xml", false),
        ("Image/SVG+XML; charset=utf-8", false), ("video/mp4", true), ("audio/ogg", true), ("application/zip", true),
        ("application/gzip", true), ("font/woff", true), ("font/woff2", true), ("application/pdf", true),
        ("application/zipx", false), ("text/html; charset=utf-8", false), ("application/json", false), ("", false),
        ("image", false), ("font/woff3", false),
    ])
    func alreadyCompressed(_ contentType: String, _ expected: Bool) {
        #expect(MIMEType.isAlreadyCompressed(contentType) == expected)
    }
}

@Suite("Header list tokens")
struct HeaderTokenTests {
    @Test(arguments: [
        (["close"], true), (["Close"], true), (["keep-alive, close"], true), (["  close  "], true),
        ([",close,"], true), (["Upgrade", "close"], true), (["closed"], false), (["clo se"], false),
        ([""], false), ([","], false), (["keep-alive"], false), ([], false), (["x,\tCLOSE\t,y"], true),
    ])
    func connectionClose(_ values: [String], _ expected: Bool) {
        var headers = HTTPHeaders()
        for value in values { headers.add("Connection", value) }
        headers.add("X-Other", "close")
        #expect(headers.contains("connection", token: "close") == expected)
    }
}

/// A cached response's field lines made once (`HTTPHeaders.prepareWire`) must serialize to exactly the bytes
/// the field-by-field path writes, before and after the middleware changes the headers.
@Suite("Prepared field lines")
struct PreparedWireTests {
    func head(_ response: HTTPResponse) -> String {
        String(decoding: ResponseSerializer().head(for: response, requestMethod: .get, keepAlive: true, date: "Wed, 02 Dec 2026 05:00:00 GMT"), as: UTF8.self)
    }

    @Test func sameBytesEitherWay() {
        var plain = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain", "ETag": "\"a-1\"", "Content-Length": "99",
                                                        "Date": "x", "Server": "y", "Connection": "close"], body: .bytes(Array("hi".utf8)))
        var prepared = plain
        prepared.headers.prepareWire()
        #expect(prepared.headers.wire != nil)
        #expect(head(prepared) == head(plain))
        #expect(!head(prepared).contains("Content-Length: 99") && !head(prepared).contains("Server: y"))
        // `add` keeps the lines in step (gzip's Vary, CORS's header)...
        plain.headers.add("Vary", "Accept-Encoding")
        prepared.headers.add("Vary", "Accept-Encoding")
        #expect(prepared.headers.wire != nil)
        #expect(head(prepared) == head(plain))
        // ...a framing field added, `set` and `remove` drop them, and the fields are serialized one by one again.
        prepared.headers.set("ETag", "\"b-2\"")
        plain.headers.set("ETag", "\"b-2\"")
        #expect(prepared.headers.wire == nil)
        #expect(head(prepared) == head(plain))
        var framed = HTTPHeaders(["X": "1"].map { HeaderField($0.key, $0.value) })
        framed.prepareWire()
        framed.add("Transfer-Encoding", "chunked")
        #expect(framed.wire == nil)
        #expect(prepared.headers == plain.headers) // equality ignores the prepared form
    }
}
