import Testing
import HTTPCore

/// The proxy's rewriting rules and its response reader, on bytes alone.
@Suite("proxy: request rewriting, hop-by-hop fields, the upstream's response read as it streams")
struct ProxyTests {
    static func parse(_ raw: String) throws -> HTTPRequest {
        var parser = RequestParser()
        parser.append(Array(raw.utf8))
        return try #require(try parser.next())
    }

    @Test func hopByHopFieldsAndTheFieldsConnectionNamesAreRemoved() throws {
        let request = try Self.parse("GET /a?b=1 HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n")
        let forwarded = ProxyRequest(request, clientAddress: "10.0.0.7")
        #expect(String(decoding: forwarded.head, as: UTF8.self) == """
            GET /a?b=1 HTTP/1.1\r
            Host: shop\r
            Accept: */*\r
            X-Forwarded-For: 10.0.0.7\r
            X-Forwarded-Proto: http\r
            Via: 1.1 httpkit\r
            \r

            """)
    }

    @Test("Connection may not name Host or Content-Length: they are not the connection's (cache poisoning)")
    func connectionCannotStripHost() {
        let headers: HTTPHeaders = ["Host": "victim.example", "Connection": "Host, Content-Length, X-Trace", "X-Trace": "1"]
        let kept = HopByHop.removing(from: headers)
        #expect(kept["Host"] == "victim.example")
        #expect(kept["X-Trace"] == nil && kept["Connection"] == nil)
    }

    /// `removing` decides on the names' octets; it must remove exactly what `names(in:)`, the set of lower-cased
    /// names, says, whatever the case of the names and of `Connection`'s tokens.
    @Test("Hop-by-hop fields are removed whatever their case, as names(in:) defines them")
    func hopByHopRemovalMatchesTheNames() {
        let sets: [HTTPHeaders] = [
            ["HOST": "x", "KEEP-ALIVE": "timeout=5", "Connection": "X-Trace , UPGRADE", "x-trace": "1", "Upgrade": "h2c",
             "Proxy-Connection": "X-Other", "X-OTHER": "2", "TE": "trailers", "Content-Length": "3", "Accept": "*/*",
             "Transfer-Encoding": "chunked", "Trailer": "X", "Proxy-Authorization": "Basic eA==", "Via": "1.1 a"],
            ["Host": "x", "Accept": "*/*", "Content-Type": "text/plain"],
            ["Connection": "host, CONTENT-LENGTH, x-a", "Host": "h", "content-length": "1", "X-A": "1", "X-B": "2"],
            [:],
        ]
        for headers in sets {
            let names = HopByHop.names(in: headers)
            let kept = HopByHop.removing(from: headers)
            #expect(kept.fields == headers.fields.filter { !names.contains($0.name.lowercased()) }, "\(headers)")
        }
        let first = HopByHop.removing(from: sets[0])
        #expect(first.fields.map(\.name) == ["HOST", "Content-Length", "Accept", "Via"])
        #expect(HopByHop.removing(from: sets[1]) == sets[1]) // nothing to remove: the same headers back
    }

    @Test func forwardedForAndViaExtendWhatEarlierHopsSaid() throws {
        let request = try Self.parse("GET / HTTP/1.0\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nVia: 1.1 edge\r\n\r\n")
        let forwarded = ProxyRequest(request, clientAddress: "10.0.0.7", scheme: "https")
        #expect(forwarded.headers["X-Forwarded-For"] == "1.2.3.4, 10.0.0.7")
        #expect(forwarded.headers["Via"] == "1.1 edge, 1.0 httpkit")
        #expect(forwarded.headers["X-Forwarded-Proto"] == "https")
        #expect(String(decoding: forwarded.head, as: UTF8.self).hasPrefix("GET / HTTP/1.1\r\n")) // 1.1 upstream
    }

    @Test func anHTTP10RequestWithoutHostGetsOneForTheHTTP11Hop() throws {
        let bare = ProxyRequest(try Self.parse("GET /a HTTP/1.0\r\n\r\n"), clientAddress: nil)
        #expect(String(decoding: bare.head, as: UTF8.self).hasPrefix("GET /a HTTP/1.1\r\nHost: \r\n"))
        let absolute = ProxyRequest(try Self.parse("GET http://shop:8081/a HTTP/1.0\r\n\r\n"), clientAddress: nil)
        #expect(absolute.headers["Host"] == "shop:8081" && absolute.target == "/a")
    }

    @Test func bodyFramingIsTheProxysOwn() throws {
        var parser = RequestParser()
        parser.streamsBodies = true
        parser.append(Array("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n".utf8))
        guard case .head(let chunked)? = try parser.nextEvent() else { Issue.record("no head"); return }
        let viaChunks = ProxyRequest(chunked, clientAddress: nil)
        #expect(viaChunks.bodyLength == nil)
        let head = String(decoding: viaChunks.head, as: UTF8.self)
        #expect(head.contains("Transfer-Encoding: chunked\r\n") && !head.contains("Expect"))
        #expect(viaChunks.frame(Array("hi".utf8)) == Array("2\r\nhi\r\n".utf8))
        #expect(viaChunks.bodyEnd == Array("0\r\n\r\n".utf8))

        let sized = ProxyRequest(try Self.parse("PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"), clientAddress: nil)
        #expect(sized.bodyLength == 2 && sized.frame(Array("hi".utf8)) == Array("hi".utf8) && sized.bodyEnd.isEmpty)
        #expect(String(decoding: sized.head, as: UTF8.self).hasSuffix("Content-Length: 2\r\n\r\n"))
        let emptyPost = ProxyRequest(try Self.parse("POST /f HTTP/1.1\r\nHost: x\r\n\r\n"), clientAddress: nil)
        #expect(String(decoding: emptyPost.head, as: UTF8.self).hasSuffix("Content-Length: 0\r\n\r\n"))
        #expect(!emptyPost.hasBody && !emptyPost.isIdempotent)
    }

    @Test func aWebSocketUpgradeKeepsItsUpgradeFieldsForTheNextHop() throws {
        let request = try Self.parse("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        #expect(HopByHop.asksForWebSocket(request))
        let forwarded = ProxyRequest(request, clientAddress: nil)
        #expect(forwarded.headers["Connection"] == "Upgrade" && forwarded.headers["Upgrade"] == "websocket")
        #expect(forwarded.headers["Sec-WebSocket-Key"] == "dGhlIHNhbXBsZSBub25jZQ==")
        let h2c = try Self.parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
        #expect(!HopByHop.asksForWebSocket(h2c))
        #expect(ProxyRequest(h2c, clientAddress: nil).headers.fields.map(\.name) == ["Host", "X-Forwarded-Proto", "Via"])
        let switching = ProxyResponse.clientHeaders(["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
                                                    version: .http1_1, switchingToWebSocket: true)
        #expect(switching.fields.map(\.name) == ["Sec-WebSocket-Accept", "Connection", "Upgrade", "Via"])
    }

    @Test func absoluteFormBecomesOriginForm() throws {
        let forwarded = ProxyRequest(try Self.parse("GET http://shop/a/b?c=d HTTP/1.1\r\nHost: shop\r\n\r\n"), clientAddress: nil)
        #expect(forwarded.target == "/a/b?c=d")
    }

    @Test func responseHeadersLoseHopByHopFieldsAndGainVia() {
        let upstream: HTTPHeaders = ["Content-Type": "text/plain", "Connection": "close, X-Internal", "X-Internal": "1",
                                     "Keep-Alive": "timeout=5", "Transfer-Encoding": "chunked", "Content-Length": "5"]
        let headers = ProxyResponse.clientHeaders(upstream, version: .http1_1)
        #expect(headers.fields.map(\.name) == ["Content-Type", "Via"])
        #expect(headers["Via"] == "1.1 httpkit")
    }

    // MARK: - The upstream's response, streamed

    /// Feeds `pieces` one after the other and writes down every event.
    static func read(_ pieces: [String], method: HTTPMethod = .get, end: Bool = false) -> [String] {
        var reader = UpstreamResponseReader(requestMethod: method)
        var log: [String] = []
        func drain() {
            do {
                while let event = try reader.next() {
                    switch event {
                    case .head(let status, _, let headers): log.append("head \(status.code) \(headers.count)")
                    case .body(let bytes): log.append("body \(String(decoding: bytes, as: UTF8.self))")
                    case .end(let reusable): log.append("end \(reusable ? "reusable" : "close")")
                    }
                }
            } catch {
                log.append("error \(error.reason)")
            }
        }
        for piece in pieces {
            reader.receive(Array(piece.utf8))
            drain()
        }
        if end {
            reader.receiveEnd()
            drain()
        }
        return log
    }

    @Test func contentLengthBodyArrivesInPiecesAndTheConnectionIsReusable() {
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", "llo"]) == ["head 200 1", "body he", "body llo", "end reusable"])
    }

    @Test func chunkedBodyIsDecodedAcrossAnySplit() {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        let whole = Self.read([raw])
        #expect(whole == ["head 200 1", "body abcde", "end reusable"])
        let bytewise = Self.read(raw.map(String.init))
        #expect(bytewise.first == "head 200 1" && bytewise.last == "end reusable")
        #expect(bytewise.filter { $0.hasPrefix("body") }.map { $0.dropFirst(5) }.joined() == "abcde")
    }

    @Test func interimResponsesAreSkipped() {
        #expect(Self.read(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"]) == ["head 204 0", "end reusable"])
    }

    @Test func headResponsesAnd304HaveNoBody() {
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"], method: .head) == ["head 200 1", "end reusable"])
        #expect(Self.read(["HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"]) == ["head 304 1", "end reusable"])
    }

    @Test func aBodyUntilCloseEndsAtTheCloseAndIsNotReusable() {
        #expect(Self.read(["HTTP/1.0 200 OK\r\n\r\nab", "cd"], end: true) == ["head 200 0", "body ab", "body cd", "end close"])
    }

    @Test func connectionCloseAndBothLengthsMakeTheConnectionUnusable() {
        #expect(Self.read(["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"]).last == "end close")
        // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3), and the connection is not trusted again.
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"]) == ["head 200 2", "body x", "end close"])
    }

    @Test func brokenResponsesAreErrorsThatSayWhy() {
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"], end: true).last == "error the upstream closed with 3 bytes of the body still to come")
        #expect(Self.read([], end: true) == ["error the upstream closed the connection without a response"])
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"]).last?.hasPrefix("error the upstream sent an invalid Content-Length") == true)
        #expect(Self.read(["HTTX/1.1 200 OK\r\n\r\n"]).last?.hasPrefix("error the upstream sent a malformed status line") == true)
        #expect(Self.read(["HTTP/1.1 200 OK\nContent-Length: 0\n\n"]).last?.hasPrefix("error bare LF") == true)
    }

    @Test func bytesBeyondTheFramedEndMakeTheConnectionUnusable() {
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy"]).last == "end close")
    }

    /// The status line is read on its octets: what it accepts and refuses, and the reason and version it keeps.
    @Test("status lines: the version, the code, the reason (or none), and malformed ones refused")
    func statusLines() throws {
        func head(_ line: String) -> String {
            var reader = UpstreamResponseReader(requestMethod: .get)
            reader.receive(Array((line + "\r\nContent-Length: 0\r\n\r\n").utf8))
            do {
                guard case .head(let status, let version, _)? = try reader.next() else { return "nothing" }
                return "\(version.major).\(version.minor) \(status.code) [\(status.reason)]"
            } catch {
                return "error"
            }
        }
        #expect(head("HTTP/1.1 200 OK") == "1.1 200 [OK]")
        #expect(head("HTTP/1.0 404 Not Found") == "1.0 404 [Not Found]")
        #expect(head("HTTP/1.1 599 ") == "1.1 599 []")
        #expect(head("HTTP/1.1 204") == "1.1 204 []") // no space and no reason: accepted, as before
        #expect(head("HTTP/1.1 200 Très bien") == "1.1 200 [Très bien]")
        for malformed in ["HTTP/1.1  200 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2x0 OK", "http/1.1 200 OK",
                          "HTTP/2.0 200 OK", "HTTP/1.x 200 OK", "HTTP/1.1", "HTTP/1.1 200OK", ""] {
            #expect(head(malformed) == "error", "\(malformed)")
        }
    }

    /// A pooled connection's reader is reset, not made again: it keeps its buffer and the last response's Strings,
    /// so each answer must still be read as itself (a value at the same place that changed is the new value).
    @Test("a reader reset for the next response reads it as itself, with the Strings of the last one reused")
    func aResetReaderReadsEachResponseAsItself() throws {
        var reader = UpstreamResponseReader(requestMethod: .get)
        let answers = [
            ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"a\"\r\nContent-Length: 2\r\n\r\nhi", "200 OK", [("Content-Type", "text/plain"), ("ETag", "\"a\""), ("Content-Length", "2")], "hi"),
            ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"b\"\r\nContent-Length: 3\r\n\r\nbye", "200 OK", [("Content-Type", "text/plain"), ("ETag", "\"b\""), ("Content-Length", "3")], "bye"),
            ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "404 Not Found", [("Content-Length", "0")], ""),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n2\r\nok\r\n0\r\n\r\n", "200 OK", [("Transfer-Encoding", "chunked"), ("X-A", "1")], "ok"),
            ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"a\"\r\nContent-Length: 2\r\n\r\nhi", "200 OK", [("Content-Type", "text/plain"), ("ETag", "\"a\""), ("Content-Length", "2")], "hi"),
        ]
        for (raw, status, fields, body) in answers {
            reader.reset(requestMethod: .get)
            // A pooled connection that turns out stale gives no byte: the proxy tells that from a failure by this.
            #expect(!reader.receivedAnything)
            reader.receive(Array(raw.utf8))
            var seenBody: [UInt8] = [], ended = false
            while let event = try reader.next() {
                switch event {
                case .head(let got, _, let headers):
                    #expect("\(got.code) \(got.reason)" == status)
                    #expect(headers.fields.map { [$0.name, $0.value] } == fields.map { [$0.0, $0.1] })
                case .body(let bytes): seenBody += bytes
                case .end(let reusable): ended = true; #expect(reusable, "\(raw)")
                }
            }
            #expect(ended && String(decoding: seenBody, as: UTF8.self) == body)
        }
        // After a response the connection cannot reuse, a reset reader still starts clean.
        reader.reset(requestMethod: .get)
        reader.receive(Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8))
        _ = try reader.next()
        #expect(try reader.next() == .end(reusable: false))
        reader.reset(requestMethod: .head)
        reader.receive(Array("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n".utf8))
        _ = try reader.next()
        #expect(try reader.next() == .end(reusable: true)) // HEAD: no body, whatever Content-Length says
    }

    @Test("Content-Length: one number, the same number repeated, or an error that says which values disagree")
    func contentLengthsAreReadAsRFC9112Says() {
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"]) == ["head 200 2", "body ab", "end reusable"])
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab"]) == ["head 200 1", "body ab", "end reusable"])
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n1234567"]) == ["head 200 1", "body 1234567", "end reusable"])
        // Two fields that disagree: the first one alone must not decide the framing.
        #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"]).last?.hasPrefix("error the upstream sent an invalid Content-Length") == true)
        for bad in ["-1", "+2", "", "1 2", "99999999999999999999999", "0x10", "2, 3"] {
            #expect(Self.read(["HTTP/1.1 200 OK\r\nContent-Length: \(bad)\r\n\r\n"]).last?.hasPrefix("error the upstream sent an invalid Content-Length") == true, "\(bad)")
        }
    }

    @Test("a response head with more fields than the limit is refused with a reason (the head's size is bounded too)")
    func tooManyFieldsAreRefused() {
        let fields = String(repeating: "a: b\r\n", count: 1001)
        #expect(Self.read(["HTTP/1.1 200 OK\r\n" + fields + "\r\n"]).last == "error the upstream's response head has more than 1000 fields")
        let allowed = String(repeating: "a: b\r\n", count: 999)
        #expect(Self.read(["HTTP/1.1 200 OK\r\n" + allowed + "Content-Length: 0\r\n\r\n"]).first == "head 200 1000")
    }

    /// The request is rewritten in one pass; these are the cases where the order of the old steps (remove the
    /// hop-by-hop fields, then remove, read and set each name) decided the result.
    @Test("request rewriting: Connection naming the forwarding fields, a client's X-Forwarded-For without an address")
    func rewritingEdgeCases() throws {
        // Connection names Via and X-Forwarded-For: they are this hop's, so dropped before their values are read.
        let listed = ProxyRequest(try Self.parse("GET / HTTP/1.1\r\nHost: h\r\nVia: 1.1 a\r\nX-Forwarded-For: 1.1.1.1\r\nConnection: via, X-FORWARDED-FOR\r\nExpect: 100-continue\r\nX-Forwarded-Proto: https\r\n\r\n"), clientAddress: "10.0.0.7")
        #expect(listed.headers.fields.map { "\($0.name): \($0.value)" } == ["Host: h", "X-Forwarded-For: 10.0.0.7", "X-Forwarded-Proto: http", "Via: 1.1 httpkit"])
        // No client address: the client's X-Forwarded-For stays where it was, untouched.
        let kept = ProxyRequest(try Self.parse("GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: h\r\nx-forwarded-for: 2.2.2.2\r\n\r\n"), clientAddress: nil)
        #expect(kept.headers.fields.map { "\($0.name): \($0.value)" } == ["X-Forwarded-For: 1.1.1.1", "Host: h", "x-forwarded-for: 2.2.2.2", "X-Forwarded-Proto: http", "Via: 1.1 httpkit"])
        // Several Via fields join in order, and an HTTP/1.0 client is said to have spoken 1.0.
        let vias = ProxyRequest(try Self.parse("GET / HTTP/1.0\r\nVia: 1.0 a\r\nHost: h\r\nVia: 1.1 b, 1.1 c\r\n\r\n"), clientAddress: "1.2.3.4", via: "edge")
        #expect(vias.headers["Via"] == "1.0 a, 1.1 b, 1.1 c, 1.0 edge")
        // A body's framing: Content-Length kept as a number, chunked when Transfer-Encoding came.
        let posted = ProxyRequest(try Self.parse("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"), clientAddress: nil)
        #expect(String(decoding: posted.head, as: UTF8.self) == "POST /u HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: http\r\nVia: 1.1 httpkit\r\nContent-Length: 3\r\n\r\n")
        let chunked = ProxyRequest(try Self.parse("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), clientAddress: nil)
        #expect(String(decoding: chunked.head, as: UTF8.self) == "POST /u HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: http\r\nVia: 1.1 httpkit\r\nTransfer-Encoding: chunked\r\n\r\n")
        let empty = ProxyRequest(try Self.parse("PUT /u HTTP/1.1\r\nHost: h\r\n\r\n"), clientAddress: nil)
        #expect(String(decoding: empty.head, as: UTF8.self).hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test("the answer's Via entries join in order; Content-Length and the fields Connection lists are dropped")
    func responseRewriting() {
        let upstream: HTTPHeaders = ["Via": "1.1 a", "Content-Type": "text/plain", "VIA": "1.0 b", "Content-Length": "4", "Connection": "x-a", "X-A": "1"]
        let headers = ProxyResponse.clientHeaders(upstream, version: .http1_0)
        #expect(headers.fields.map { "\($0.name): \($0.value)" } == ["Content-Type: text/plain", "Via: 1.1 a, 1.0 b, 1.0 httpkit"])
    }
}
