import Testing
import HTTPCore

@Suite("Validators, conditional requests and ranges (RFC 9110 §8.8, §13, §14)")
struct CachingTests {
    static let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"
    static let file = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain", "ETag": "\"abc\"",
                                                         "Last-Modified": lastModified, "Accept-Ranges": "bytes",
                                                         "Cache-Control": "max-age=60"],
                                   body: .file(path: "/f", offset: 0, length: 1000))

    func request(_ fields: [(String, String)]) -> HTTPRequest { request(.get, fields) }

    func request(_ method: HTTPMethod, _ fields: [(String, String)]) -> HTTPRequest {
        var headers = HTTPHeaders()
        headers.add("Host", "x")
        for (name, value) in fields { headers.add(name, value) }
        return HTTPRequest(method: method, target: "/f", headers: headers)
    }

    func apply(_ method: HTTPMethod, _ fields: [(String, String)]) -> HTTPResponse {
        ConditionalResponse.apply(to: Self.file, for: request(method, fields))
    }

    func apply(_ fields: [(String, String)]) -> HTTPResponse { apply(.get, fields) }

    @Test func datesInAllThreeFormats() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        for invalid in ["", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT",
                        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT"] {
            #expect(HTTPDate.parse(invalid) == nil, "\(invalid)")
        }
        #expect(HTTPDate.parse(HTTPDate.format(1_700_000_000)) == 1_700_000_000)
    }

    @Test func entityTagsAndTheirComparisons() {
        let strong = EntityTag("x"), weak = EntityTag("x", weak: true)
        #expect(strong.description == "\"x\"" && weak.description == "W/\"x\"")
        #expect(strong.strongMatches(strong) && !strong.strongMatches(weak) && strong.weakMatches(weak))
        #expect(EntityTag.condition(["\"a\", W/\"b\",\"c,d\""]) == .tags([EntityTag("a"), EntityTag("b", weak: true), EntityTag("c,d")]))
        #expect(EntityTag.condition([" * "]) == .any)
        #expect(EntityTag.condition(["abc"]) == .malformed)
        #expect(EntityTag.condition([]) == nil)
    }

    @Test func ifNoneMatchGives304WithValidatorsOnly() {
        let response = apply([("If-None-Match", "\"zzz\", W/\"abc\"")])
        #expect(response.status.code == 304)
        #expect(response.headers["ETag"] == "\"abc\"")
        #expect(response.headers["Cache-Control"] == "max-age=60")
        #expect(response.headers["Content-Type"] == nil)
        #expect(response.body == ResponseBody.empty)
        #expect(apply(.head, [("If-None-Match", "*")]).status.code == 304)
        #expect(apply([("If-None-Match", "\"other\"")]).status.code == 200)
        #expect(apply(.post, [("If-None-Match", "\"abc\"")]).status.code == 412)
    }

    @Test func ifNoneMatchTakesPrecedenceOverIfModifiedSince() {
        #expect(apply([("If-Modified-Since", Self.lastModified)]).status.code == 304)
        #expect(apply([("If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")]).status.code == 200)
        #expect(apply([("If-Modified-Since", "garbage")]).status.code == 200) // an invalid date is ignored
        #expect(apply([("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")]).status.code == 200) // so is a future one
        // §13.1.3: with If-None-Match present, If-Modified-Since is not looked at.
        #expect(apply([("If-None-Match", "\"other\""), ("If-Modified-Since", Self.lastModified)]).status.code == 200)
    }

    @Test func ifMatchAndIfUnmodifiedSinceGuardChanges() {
        #expect(apply(.put, [("If-Match", "\"abc\"")]).status.code == 200)
        #expect(apply(.put, [("If-Match", "W/\"abc\"")]).status.code == 412) // strong comparison
        #expect(apply(.put, [("If-Match", "\"old\"")]).status == HTTPStatus(code: 412, reason: "Precondition Failed"))
        #expect(apply(.put, [("If-Unmodified-Since", "Sat, 05 Nov 1994 08:49:37 GMT")]).status.code == 412)
        #expect(apply(.put, [("If-Unmodified-Since", Self.lastModified)]).status.code == 200)
    }

    @Test func singleRangesInEveryForm() {
        for (range, expected, body) in [("bytes=0-99", "bytes 0-99/1000", ResponseBody.file(path: "/f", offset: 0, length: 100)),
                                        ("bytes=900-", "bytes 900-999/1000", .file(path: "/f", offset: 900, length: 100)),
                                        ("bytes=-10", "bytes 990-999/1000", .file(path: "/f", offset: 990, length: 10)),
                                        ("bytes=500-5000", "bytes 500-999/1000", .file(path: "/f", offset: 500, length: 500))] {
            let response = apply([("Range", range)])
            #expect(response.status.code == 206, "\(range)")
            #expect(response.headers["Content-Range"] == expected)
            #expect(response.body == body)
        }
        // HEAD and other methods ignore Range (§14.2); bytes slices work as well as files.
        #expect(apply(.head, [("Range", "bytes=0-1")]).status.code == 200)
        var bytes = Self.file
        bytes.body = .bytes(Array("0123456789".utf8))
        let sliced = ConditionalResponse.apply(to: bytes, for: request([("Range", "bytes=2-4")]))
        #expect(sliced.body == .bytes(Array("234".utf8)))
        // Only a response that says Accept-Ranges takes ranges (not a JSON answer, not a gzip variant).
        var json = bytes
        json.headers.remove("Accept-Ranges")
        #expect(ConditionalResponse.apply(to: json, for: request([("Range", "bytes=2-4")])).status.code == 200)
    }

    @Test func unsatisfiableAndIgnoredRanges() {
        let refused = apply([("Range", "bytes=1000-")])
        #expect(refused.status.code == 416)
        #expect(refused.headers["Content-Range"] == "bytes */1000")
        #expect(apply([("Range", "bytes=-0")]).status.code == 416)
        for ignored in ["bytes=5-1", "items=0-1", "bytes=", "bytes=a-b", "bytes=0-1,0-5", String(repeating: "bytes=0-0,", count: 1) + Array(repeating: "1-1", count: 20).joined(separator: ","),
                        "bytes=99999999999999999999-"] {
            #expect(apply([("Range", ignored)]).status.code == 200, "\(ignored)")
        }
    }

    @Test func severalRangesAreMultipart() throws {
        let response = apply([("Range", "bytes=0-0,-1")])
        #expect(response.status.code == 206)
        let type = try #require(response.headers["Content-Type"])
        #expect(type.hasPrefix("multipart/byteranges; boundary="))
        let boundary = String(type.dropFirst("multipart/byteranges; boundary=".count))
        guard case .parts(let parts) = response.body else { Issue.record("not parts"); return }
        #expect(parts.count == 5)
        #expect(parts[0] == .bytes(Array("\r\n--\(boundary)\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/1000\r\n\r\n".utf8)))
        #expect(parts[1] == .file(path: "/f", offset: 0, length: 1))
        #expect(parts[3] == .file(path: "/f", offset: 999, length: 1))
        #expect(parts[4] == .bytes(Array("\r\n--\(boundary)--\r\n".utf8)))
        #expect(response.body.length == parts.compactMap(\.length).reduce(0, +))
    }

    @Test func ifRangeSendsTheWholeFileWhenThePartIsStale() {
        #expect(apply([("Range", "bytes=0-9"), ("If-Range", "\"abc\"")]).status.code == 206)
        #expect(apply([("Range", "bytes=0-9"), ("If-Range", "\"old\"")]).status.code == 200)
        #expect(apply([("Range", "bytes=0-9"), ("If-Range", "W/\"abc\"")]).status.code == 200) // weak never matches
        #expect(apply([("Range", "bytes=0-9"), ("If-Range", Self.lastModified)]).status.code == 206)
        #expect(apply([("Range", "bytes=0-9"), ("If-Range", "Mon, 07 Nov 1994 08:49:37 GMT")]).status.code == 200)
    }

    @Test func theFramingOfPartsIsTheSumOfThem() {
        var machine = HTTP1Connection(policy: .init())
        machine.receive(Array("GET /f HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0,5-6\r\n\r\n".utf8))
        guard case .request(let request)? = machine.nextAction() else { Issue.record("no request"); return }
        let response = ConditionalResponse.apply(to: Self.file, for: request)
        let actions = machine.respond(response, to: request, date: "D")
        guard case .write(let head)? = actions.first else { Issue.record("no head"); return }
        #expect(String(decoding: head, as: UTF8.self).contains("Content-Length: \(response.body.length!)\r\n"))
        #expect(actions.contains(.sendFile(path: "/f", offset: 5, length: 2)))
    }
}
