import Testing
@testable import HTTPCore

/// Feeds `bytes` to a fresh parser in the given pieces and collects what comes out.
func parse(_ bytes: [UInt8], pieces: [Int], limits: RequestLimits = RequestLimits())
    -> (requests: [HTTPRequest], error: RequestError?) {
    var parser = RequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    var offset = 0
    for size in pieces + [Int.max] where offset < bytes.count {
        let end = min(bytes.count, offset + size)
        parser.append(bytes[offset..<end])
        offset = end
        do {
            while let request = try parser.next() { requests.append(request) }
        } catch {
            return (requests, error)
        }
    }
    return (requests, nil)
}

/// A small deterministic generator, so a failing random split can be reproduced.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomPieces(total: Int, seed: UInt64) -> [Int] {
    var generator = SplitMix(state: seed)
    var pieces: [Int] = []
    var left = total
    while left > 0 {
        let size = Int.random(in: 1...max(1, min(left, 17)), using: &generator)
        pieces.append(size)
        left -= size
    }
    return pieces
}

@Suite("RequestParser on raw byte fixtures")
struct RequestParserTests {
    @Test("there are at least 50 fixtures")
    func fixtureCount() {
        #expect(ParserFixtures.all.count >= 50)
    }

    @Test("each fixture gives the same result whole, byte by byte, and in random splits",
          arguments: ParserFixtures.all)
    func fixture(_ fixture: Fixture) {
        var splits: [(String, [Int])] = [
            ("whole", [fixture.raw.count]),
            ("byte by byte", Array(repeating: 1, count: fixture.raw.count)),
        ]
        for seed in UInt64(1)...5 {
            splits.append(("random split #\(seed)", randomPieces(total: fixture.raw.count, seed: seed)))
        }
        for (label, pieces) in splits {
            let result = parse(fixture.raw, pieces: pieces, limits: fixture.limits)
            switch fixture.expected {
            case .requests(let expected):
                #expect(result.error == nil, "\(fixture.name) [\(label)]: unexpected \(String(describing: result.error))")
                #expect(result.requests == expected, "\(fixture.name) [\(label)]")
            case .error(let before, let status):
                #expect(result.requests == before, "\(fixture.name) [\(label)]")
                #expect(result.error?.status.code == status, "\(fixture.name) [\(label)]: got \(String(describing: result.error))")
                #expect(!(result.error?.reason.isEmpty ?? true), "every error carries a reason")
                #expect((result.error?.reason.utf8.count ?? 0) <= 256, "\(fixture.name): a reason is short")
            case .incomplete:
                #expect(result.error == nil && result.requests.isEmpty, "\(fixture.name) [\(label)]")
            }
        }
    }

    /// Long, non-UTF-8 client bytes in each part that a reason quotes: the method, the version, the request
    /// line, a header line, Content-Length, Host and Transfer-Encoding.
    static let hostileParts: [(String, [UInt8], Int)] = {
        let junk = [UInt8](repeating: 0xFF, count: 300) + Array("<script>'\\".utf8) + [UInt8](repeating: 0xC3, count: 300)
        func request(_ line: [UInt8], _ fields: [UInt8] = Array("Host: x\r\n".utf8)) -> [UInt8] {
            line + Array("\r\n".utf8) + fields + Array("\r\n".utf8)
        }
        let get = Array("GET / HTTP/1.1".utf8)
        return [
            ("method", request(Array("G".utf8) + junk + Array(" / HTTP/1.1".utf8)), 400),
            ("version", request(Array("GET / HTTP/".utf8) + junk), 400),
            ("request line", request(Array("GET".utf8) + junk), 400),
            ("header name", request(get, Array("X".utf8) + junk + Array(": v\r\n".utf8)), 400),
            ("header line without colon", request(get, Array("Host: x\r\nX".utf8) + junk + Array("\r\n".utf8)), 400),
            ("control character in a value", request(get, Array("Host: x\r\n".utf8) + [UInt8](repeating: 0x41, count: 300) + Array(": \u{1}\r\n".utf8)), 400),
            ("Content-Length", request(Array("POST / HTTP/1.1".utf8), Array("Host: x\r\nContent-Length: 1".utf8) + junk + Array("\r\n".utf8)), 400),
            ("Host", request(get, Array("Host: x".utf8) + junk + Array(":abc\r\n".utf8)), 400),
            ("Transfer-Encoding", request(Array("POST / HTTP/1.1".utf8), Array("Host: x\r\nTransfer-Encoding: ".utf8) + junk + Array("\r\n".utf8)), 501),
        ]
    }()

    @Test("a reason quotes at most a short, escaped excerpt of the client's bytes",
          arguments: hostileParts.indices)
    func reasonsQuoteShortPrintableExcerpts(_ index: Int) throws {
        let (part, raw, status) = Self.hostileParts[index]
        let error = try #require(parse(raw, pieces: [raw.count]).error, "\(part)")
        #expect(error.status.code == status, "\(part): \(error)")
        #expect(error.reason.utf8.count <= 256, "\(part): \(error.reason.utf8.count) bytes")
        #expect(error.reason.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "\(part): \(error.reason)")
        #expect(error.reason.contains("..."), "\(part): the excerpt says it was cut: \(error.reason)")
    }

    @Test("quote escapes bytes and caps the excerpt")
    func quote() {
        #expect(RequestError.quote(Array("gzip".utf8)) == "'gzip'")
        #expect(RequestError.quote([0x41, 0x01, 0xFF, 0x27, 0x5C]) == "'A\\x01\\xff\\x27\\x5c'")
        #expect(RequestError.quote([UInt8](repeating: 0x61, count: 41)) == "'" + String(repeating: "a", count: 40) + "'...")
        #expect(RequestError.quote([UInt8](repeating: 0xFF, count: 10_000)).utf8.count == 40 * 4 + 5)
        #expect(RequestError.quote("é") == "'\\xc3\\xa9'")
    }

    @Test("bytes after a request are left for the next one")
    func leftovers() throws {
        var parser = RequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET".utf8))
        let request = try #require(try parser.next())
        #expect(request.body == Array("ok".utf8))
        #expect(try parser.next() == nil)
        #expect(Array(parser.unconsumedBytes) == Array("GET".utf8))
        #expect(parser.isMidRequest)
    }

    @Test("a Host found valid is remembered for the connection, and any other Host is still checked")
    func hostRememberedPerConnection() throws {
        var parser = RequestParser()
        for _ in 0..<3 { // the same Host again: the remembered answer
            parser.append(Array("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n".utf8))
            #expect(try parser.next()?.headers["Host"] == "example.com:8080")
        }
        parser.append(Array("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n".utf8)) // another valid one
        #expect(try parser.next()?.headers["Host"] == "[::1]:8080")
        parser.append(Array("GET / HTTP/1.1\r\nHost: example.com:80x\r\n\r\n".utf8)) // then an invalid one
        #expect(throws: RequestError.self) { try parser.next() }
        // A very long valid name is checked each time rather than kept (an idle connection holds no large value).
        var long = RequestParser()
        let name = String(repeating: "a", count: 300)
        for _ in 0..<2 {
            long.append(Array("GET / HTTP/1.1\r\nHost: \(name)\r\n\r\n".utf8))
            #expect(try long.next()?.headers["Host"] == name)
        }
    }

    @Test("the parser stays failed after an error")
    func staysFailed() {
        var parser = RequestParser()
        parser.append(Array("BAD\r\n\r\n".utf8))
        #expect(throws: RequestError.self) { try parser.next() }
        parser.append(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(throws: RequestError.self) { try parser.next() }
    }

    @Test("keep-alive follows the version and the Connection header")
    func keepAlive() {
        #expect(get("/").wantsKeepAlive)
        #expect(!get("/", ["Host": "x", "Connection": "close"]).wantsKeepAlive)
        #expect(!get("/", [:], version: .http1_0).wantsKeepAlive)
        #expect(get("/", ["Connection": "Keep-Alive"], version: .http1_0).wantsKeepAlive)
        #expect(!get("/", ["Host": "x", "Connection": "upgrade, close"]).wantsKeepAlive)
    }

    @Test("path and query are split from the target")
    func pathAndQuery() {
        #expect(get("/a/b?x=1").path == "/a/b")
        #expect(get("/a/b?x=1").query == "x=1")
        #expect(get("/a").query == nil)
        #expect(get("http://host:80/p?q").path == "/p")
        #expect(get("http://host").path == "/")
    }

    @Test("Expect: 100-continue is reported until the interim response is sent")
    func expectContinue() throws {
        var parser = RequestParser()
        parser.append(Array("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.requestAwaitingContinue?.method == "PUT" && parser.awaitsContinue())
        parser.markContinueSent()
        #expect(parser.requestAwaitingContinue == nil && !parser.awaitsContinue())
        parser.append(Array("abc".utf8))
        #expect(try parser.next()?.body == Array("abc".utf8))
    }
}

@Suite("Request limits, at the edge and one byte over")
struct RequestLimitTests {
    let limits = RequestLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 3, maxBodyBytes: 10)

    func status(_ raw: String, pieces: Int? = nil) -> Int? {
        let bytes = Array(raw.utf8)
        return parse(bytes, pieces: [pieces ?? bytes.count], limits: limits).error?.status.code
    }

    @Test func requestLine() {
        let exact = "GET /" + String(repeating: "a", count: 18) + " HTTP/1.1" // 32 bytes
        #expect(exact.utf8.count == 32)
        #expect(status(exact + "\r\nHost: x\r\n\r\n") == nil)
        #expect(status("GET /" + String(repeating: "a", count: 19) + " HTTP/1.1\r\nHost: x\r\n\r\n") == 414)
        // Detected before the LF arrives, so a client cannot make the server buffer without bound.
        #expect(status("GET /" + String(repeating: "a", count: 100)) == 414)
    }

    /// Found by scripts/fuzz (request-parser): an over-long line ending in a bare LF was a 400 when it
    /// arrived in one read and a 414 when it trickled in. Every split must give the same status.
    @Test("fuzz finding: the verdict does not depend on how the bytes were split", arguments: [
        "\r\nGET /" + String(repeating: "G", count: 40) + " HTTP/1.1\nHost: x\r\n\r\n",
        "GET /" + String(repeating: "a", count: 27) + " HTTP/1.1\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "v", count: 60) + "\nA: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "v", count: 49) + "\r\n\r\n", // exactly at the limit: passes
    ])
    func verdictIndependentOfSplits(_ raw: String) {
        let bytes = Array(raw.utf8)
        let whole = parse(bytes, pieces: [bytes.count], limits: limits).error?.status.code
        let byteByByte = parse(bytes, pieces: Array(repeating: 1, count: bytes.count), limits: limits).error?.status.code
        #expect(whole == byteByByte, "whole: \(String(describing: whole)), byte by byte: \(String(describing: byteByByte))")
    }

    @Test func headerBytes() {
        let field = "X: " + String(repeating: "v", count: 51) // 54 + CRLF = 56; with "Host: x" (7 + CRLF) = 65 > 64
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\n" + String(field.dropLast(3)) + "\r\n\r\n") == nil)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\n" + field + "\r\n\r\n") == 431)
    }

    @Test func headerCount() {
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n") == nil)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n") == 431)
    }

    @Test func body() {
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789") == nil)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890") == 413)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n") == nil)
        #expect(status("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n") == 413)
    }
}

@Suite("The field-line checks on buffer pointers, and Strings reused from the previous request")
struct FieldLineCheckTests {
    @Test("allFieldValueChars agrees with isFieldValueChar for every octet at every position (words and tail)")
    func valueOctets() {
        let plain = Array("abcdefghijklmnopqrstu".utf8) // 21 octets: two 8-octet words and a 5-octet tail
        for position in plain.indices {
            for octet in 0...255 {
                var value = plain
                value[position] = UInt8(octet)
                let allowed = value.withUnsafeBufferPointer(ASCII.allFieldValueChars)
                #expect(allowed == ASCII.isFieldValueChar(UInt8(octet)), "0x\(String(octet, radix: 16)) at \(position)")
            }
        }
        let empty: [UInt8] = []
        #expect(empty.withUnsafeBufferPointer(ASCII.allFieldValueChars))
        // Every length from 1 to 24: shorter than a word, a word and a tail (read as the last word, overlapping),
        // whole words; a bad octet at every position is found, allowed ones (tab, obs-text) are not refused.
        for length in 1...24 {
            for position in 0..<length {
                for (octet, expected) in [(0x00, false), (0x1F, false), (0x7F, false), (0x0A, false),
                                          (0x09, true), (0x80, true), (0xFF, true), (0x20, true)] {
                    var value = Array(repeating: UInt8(ascii: "v"), count: length)
                    value[position] = UInt8(octet)
                    #expect(value.withUnsafeBufferPointer(ASCII.allFieldValueChars) == expected,
                            "0x\(String(octet, radix: 16)) at \(position) of \(length)")
                }
            }
        }
    }

    @Test("allTokenChars agrees with isTokenChar for every octet")
    func nameOctets() {
        for octet in 0...255 {
            let name = Array("x-name".utf8) + [UInt8(octet)] + Array("-end".utf8)
            #expect(name.withUnsafeBufferPointer(ASCII.allTokenChars) == ASCII.isTokenChar(UInt8(octet)))
        }
    }

    @Test("a request's Strings are the previous request's where the octets are the same, and new where not")
    func stringsReused() throws {
        var parser = RequestParser()
        func request(_ text: [UInt8]) throws -> HTTPRequest? {
            parser.append(text)
            return try parser.next()
        }
        let first = try #require(try request(Array("GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: a-long-user-agent/1.0 (reused)\r\nX-Bin: \u{FF}\r\n\r\n".utf8)
            .map { $0 == 0xC3 ? 0xFF : $0 }.filter { $0 != 0xBF }))
        #expect(first.headers["User-Agent"] == "a-long-user-agent/1.0 (reused)")
        #expect(first.headers["X-Bin"] == "\u{FFFD}", "an invalid octet is repaired as String(decoding:) does")
        // Same octets except the path and one value; then fewer fields; then more.
        let second = try #require(try request(Array("GET /b HTTP/1.1\r\nHost: y\r\nUser-Agent: a-long-user-agent/1.0 (reused)\r\nX-Bin: \u{FF}\r\n\r\n".utf8)
            .map { $0 == 0xC3 ? 0xFF : $0 }.filter { $0 != 0xBF }))
        #expect(second.target == "/b" && second.headers["Host"] == "y")
        #expect(second.headers["User-Agent"] == "a-long-user-agent/1.0 (reused)" && second.headers["X-Bin"] == "\u{FFFD}")
        let third = try #require(try request(Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        #expect(third.headers.fields.map(\.name) == ["Host"] && third.target == "/a")
        let fourth = try #require(try request(Array("GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nAccept: text/html\r\n\r\n".utf8)))
        #expect(fourth.headers.values("Accept") == ["*/*", "text/html"])
        #expect(first.headers["Host"] == "x" && first.target == "/a", "earlier requests keep their own values")
    }

    @Test("the Strings kept for the next request stay within 4 KB; larger ones are made each time, and right")
    func stringsBounded() {
        var strings = RepeatedStrings()
        let big = Array(repeating: UInt8(ascii: "c"), count: 3000), other = Array(repeating: UInt8(ascii: "d"), count: 3000)
        for round in 0..<3 {
            strings.rewind()
            let first = big.withUnsafeBufferPointer { strings.string(Span(_unsafeElements: $0)) }
            let second = other.withUnsafeBufferPointer { strings.string(Span(_unsafeElements: $0)) }
            let small = Array("x".utf8).withUnsafeBufferPointer { strings.string(Span(_unsafeElements: $0)) }
            #expect(first.utf8.count == 3000 && first.utf8.allSatisfy { $0 == UInt8(ascii: "c") }, "round \(round)")
            #expect(second.utf8.count == 3000 && second.utf8.allSatisfy { $0 == UInt8(ascii: "d") }, "round \(round)")
            #expect(small == "x")
            #expect(strings.keptOctets == 3001, "the second 3,000 octets would pass the bound: not kept")
        }
        strings.rewind()
        _ = Array("short".utf8).withUnsafeBufferPointer { strings.string(Span(_unsafeElements: $0)) }
        #expect(strings.keptOctets == 5 + 0 + 1, "a place taken by a shorter String gives its octets back")
    }

    @Test("a String of another length at one place leaves the later places' Strings given back, and their octets compared right")
    func stringsAfterALengthChange() {
        func storage(_ string: String) -> UnsafePointer<UInt8>? {
            string.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil
        }
        func made(_ texts: [String], _ strings: inout RepeatedStrings) -> [String] {
            strings.rewind()
            return texts.map { text in Array(text.utf8).withUnsafeBufferPointer { strings.string(Span(_unsafeElements: $0)) } }
        }
        var strings = RepeatedStrings()
        let long = "a-host-name-longer-than-fifteen", agent = "an-agent-longer-than-fifteen/1.0"
        let first = made(["/one-path-longer-than-fifteen", long, agent], &strings)
        let second = made(["/a-much-longer-path-than-the-one-before", long, agent], &strings)
        #expect(second == ["/a-much-longer-path-than-the-one-before", long, agent])
        #expect(storage(second[1]) == storage(first[1]) && storage(second[2]) == storage(first[2]),
                "the places after the longer path are given back, not made again")
        let third = made(["/", long, "an-agent-longer-than-fifteen/2.0"], &strings)
        #expect(third == ["/", long, "an-agent-longer-than-fifteen/2.0"])
        #expect(storage(third[1]) == storage(first[1]) && storage(third[2]) != storage(first[2]))
        #expect(strings.keptOctets == 1 + long.utf8.count + agent.utf8.count)
    }

    @Test("header lookups by name stay right after add (which takes its field), set, remove and removeAll, for long names too")
    func headerLookupsAfterChanges() {
        let long = String(repeating: "x", count: 70), otherLong = String(repeating: "y", count: 64)
        var headers: HTTPHeaders = ["Host": "a", "Range": "bytes=0-1"]
        #expect(headers["host"] == "a" && headers["RANGE"] == "bytes=0-1")
        #expect(headers["Origin"] == nil && headers["Rang"] == nil)
        #expect(headers["Hast"] == nil, "the same length as Host, another name")
        headers.add(long, "1")
        #expect(headers[long] == "1" && headers[otherLong] == nil, "long names compared in full")
        headers.add("Connection", "keep-alive, Close")
        #expect(headers.contains("connection", token: "close") && !headers.contains("Connection", token: "upgrade"))
        #expect(headers.values("Connection") == ["keep-alive, Close"])
        headers.set("Range", "bytes=2-3")
        #expect(headers.values("Range") == ["bytes=2-3"])
        headers.remove("Range")
        #expect(headers["Range"] == nil && headers.values("Range").isEmpty)
        headers.removeAll(keepingCapacity: true)
        #expect(headers["Host"] == nil && headers[long] == nil && !headers.contains("Connection", token: "close"))
        headers.add("Origin", "https://example.com")
        #expect(headers["origin"] == "https://example.com")
        let built = HTTPHeaders([HeaderField("If-None-Match", "\"x\"")])
        #expect(built["if-none-match"] == "\"x\"")
    }

    @Test("a new parser given a closed connection's Strings hands back the same Strings for the same octets")
    func stringsPassToTheNextConnection() throws {
        let head = Array("GET /a-path-longer-than-fifteen HTTP/1.1\r\nHost: a-host-name-longer-than-15\r\n\r\n".utf8)
        func storage(_ string: String) -> UnsafePointer<UInt8>? {
            string.utf8.withContiguousStorageIfAvailable { $0.baseAddress } ?? nil
        }
        var first = RequestParser()
        first.append(head)
        let earlier = try #require(try first.next())
        var next = RequestParser(strings: first.takeStrings())
        next.append(head)
        let later = try #require(try next.next())
        #expect(later.target == earlier.target && later.headers["Host"] == earlier.headers["Host"])
        #expect(storage(later.target) == storage(earlier.target), "the same String, not one made again")
        #expect(storage(later.headers["Host"]!) == storage(earlier.headers["Host"]!))
        // Different octets at the same place get their own String; the parser that gave its Strings away makes new ones.
        var other = RequestParser(strings: next.takeStrings())
        other.append(Array("GET /another-path-longer-than-15 HTTP/1.1\r\nHost: a-host-name-longer-than-15\r\n\r\n".utf8))
        let different = try #require(try other.next())
        #expect(different.target == "/another-path-longer-than-15" && different.headers["Host"] == "a-host-name-longer-than-15")
        first.append(head)
        let fresh = try #require(try first.next())
        #expect(fresh.target == earlier.target && storage(fresh.target) != storage(earlier.target))
    }

    @Test("a repeated target keeps its shape, a changed one gets its own")
    func shapeReused() throws {
        var parser = RequestParser()
        for (target, normal, path) in [("/a/../b", false, "/a/../b"), ("/a/../b", false, "/a/../b"), ("/b", true, "/b"),
                                       ("/b?x=1", true, "/b"), ("/b?x=1", true, "/b"), ("/%62", false, "/%62"), ("/b", true, "/b")] {
            parser.append(Array("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let request = try #require(try parser.next())
            #expect(request.hasNormalPath == normal && request.path == path, "\(target)")
            #expect(try request.normalizedPath().path == URLPath.normalize(path).path, "\(target)")
        }
    }
}
