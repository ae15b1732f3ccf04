import Foundation
import Testing
@testable import HTTPCore

/// What the analysis says about bytes, checked on its data; how the dump draws it is tested (with the
/// golden files) in HTTPKitTests/WireDumpRendererTests.
@Suite("Wire analysis")
struct WireAnalysisTests {
    func analyze(_ text: String) -> WireAnalysis { WireAnalysis(Array(text.utf8)) }

    /// Every warning of every element of every message.
    func warnings(_ text: String) -> [String] {
        analyze(text).messages.flatMap { $0.elements.flatMap(\.warnings) }
    }

    @Test func elementsOfASimpleRequest() throws {
        let analysis = analyze("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let message = try #require(analysis.messages.first)
        #expect(analysis.messages.count == 1)
        #expect(message.kind == .request && message.start == 0 && message.length == analysis.bytes.count)
        #expect(message.elements.map(\.note) == ["request-line  method=GET target=/hello version=HTTP/1.1", "header  Host",
                                                 "end of headers → no body"])
        #expect(message.elements.map(\.role) == [.startLine, .header, .boundary])
        #expect(message.elements.map(\.range) == [0..<21, 21..<30, 30..<32])
        #expect(message.body == nil)
    }

    @Test func kindIsDetectedPerMessageUnlessGiven() {
        let bytes = Array("HTTP/1.1 204 No Content\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(WireAnalysis(bytes).messages.map(\.kind) == [.response, .request])
        #expect(WireAnalysis(Array("GET / HTTP/1.1\r\n\r\n".utf8), as: .response).messages.first?.kind == .response)
    }

    @Test func aResponseToHEADHasNoBody() {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 4130\r\n\r\n".utf8)
        #expect(WireAnalysis(bytes, requestMethod: "HEAD").messages.first?.body == nil)
        #expect(WireAnalysis(bytes).messages.first?.body?.wireBytes == 0)
    }

    @Test func chunkedGzipBodyIsUnframedAndDecoded() throws {
        let gzipped = try Gzip.compress(Array("hello, gzip".utf8))
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n\(String(gzipped.count, radix: 16))\r\n".utf8)
            + gzipped + Array("\r\n0\r\n\r\n".utf8)
        let body = try #require(WireAnalysis(bytes).messages.first?.body)
        #expect(body.chunks == 1 && body.payload == gzipped)
        guard case .decoded(let decoded)? = body.gzip else { Issue.record("gzip did not decode"); return }
        #expect(decoded == Array("hello, gzip".utf8))
    }

    @Test func warningsForTheClassicMistakes() {
        #expect(warnings("GET / HTTP/1.1\nHost: x\n\n").contains("bare LF (expected CRLF)"))
        #expect(warnings("GET / HTTP/1.1\r\n\r\n").contains { $0.hasPrefix("no Host header") })
        #expect(warnings("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").contains { $0.hasPrefix("Content-Length 10 ≠ body 3") })
        #expect(warnings("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabc").contains { $0.hasPrefix("Content-Length 2 ≠ body 3") })
        #expect(warnings("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n").contains { $0.hasPrefix("chunk-size says 3, got 5") })
        #expect(warnings("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").contains { $0.hasPrefix("both Content-Length and Transfer-Encoding") })
        #expect(warnings("GET / HTTP/1.1\r\nHost : x\r\n\r\n").contains { $0.hasPrefix("whitespace before ':'") })
    }

    /// Found by scripts/fuzz (wire-dump): a negative Content-Length crashed the annotator.
    @Test("fuzz finding: odd Content-Length values are warned about, not trusted", arguments: ["-1", "+5", "1e3", "99999999999999999999999", ""])
    func oddContentLength(_ value: String) {
        let found = warnings("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\nbody")
        #expect(found.contains { $0.hasSuffix("is not a number") }, "\(found)")
    }

    /// Found by scripts/fuzz (wire-dump): a non-ASCII byte in a chunk-size line trapped.
    @Test func fuzzFindingNonASCIIChunkSize() {
        let bytes = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffff".utf8) + [0xC1] + Array("ff\r\n".utf8)
        let notes = WireAnalysis(bytes).messages.flatMap { $0.elements.map(\.note) }
        #expect(notes.contains { $0.hasPrefix("chunk-size") })
    }

    @Test func garbageNeverCrashesAndStaysInBounds() {
        var generator = SplitMix(state: 7)
        var inputs: [[UInt8]] = ["\r\n", "\n\n\n", "HTTP/1.1", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                 "GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n"].map { Array($0.utf8) }
        for length in [0, 1, 2, 5, 17, 100, 1000] {
            for _ in 0..<20 { inputs.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        }
        for bytes in inputs {
            for kind in [nil, WireMessage.Kind.request, .response] {
                // Every range must index the bytes: the renderer slices them without checking.
                for message in WireAnalysis(bytes, as: kind).messages {
                    #expect(message.start >= 0 && message.start + message.length <= bytes.count)
                    for element in message.elements {
                        #expect(element.range.lowerBound >= 0 && element.range.upperBound <= bytes.count)
                    }
                }
            }
        }
    }
}

/// WebSocket frames after a handshake, on the RFCs' own bytes (RFC 6455 §5.7, RFC 7692 §7.2.3).
@Suite("Wire analysis: WebSocket frames")
struct WireAnalysisWebSocketTests {
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    static let handshake = Array("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)
    static func switching(_ extra: String = "") -> [UInt8] {
        Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\(extra)\r\n".utf8)
    }

    func frames(_ bytes: [UInt8], from sender: WireWebSocket.Sender, deflate: Bool = false) -> WireMessage? {
        WireAnalysis(webSocketFrames: bytes, from: sender, deflate: deflate).messages.first
    }

    func warnings(_ bytes: [UInt8], from sender: WireWebSocket.Sender, deflate: Bool = false) -> [String] {
        frames(bytes, from: sender, deflate: deflate)?.elements.flatMap(\.warnings) ?? []
    }

    @Test func rfc6455MaskedHelloFieldByField() throws {
        let message = try #require(frames(Self.maskedHello, from: .client))
        #expect(message.kind == .frames && message.length == 11)
        #expect(message.elements.map(\.range) == [0..<1, 1..<2, 2..<6, 6..<11])
        #expect(message.elements.map(\.note) == ["FIN=1 RSV=000 opcode=1 text", "MASK=1 length=5 (7-bit form)",
                                                 "masking key 37fa213d", "payload (masked) → \"Hello\""])
        #expect(message.elements.allSatisfy { $0.warnings.isEmpty })
        let summary = try #require(message.webSocket)
        #expect(summary.sender == .client && summary.frames == 1)
        #expect(summary.messages.map(\.payload) == [Array("Hello".utf8)])
    }

    @Test func framesFollowTheHandshakeInEitherDirection() throws {
        let client = WireAnalysis(Self.handshake + Self.maskedHello)
        #expect(client.messages.map(\.kind) == [.request, .frames])
        #expect(client.messages.last?.webSocket?.sender == .client)
        #expect(client.messages.last?.start == Self.handshake.count)
        // §5.7: a fragmented unmasked "Hel" + "lo", an unmasked ping "Hello", then close 1000.
        let serverFrames: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f, 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x88, 0x02, 0x03, 0xe8]
        let server = WireAnalysis(Self.switching() + serverFrames)
        #expect(server.messages.map(\.kind) == [.response, .frames])
        let summary = try #require(server.messages.last?.webSocket)
        #expect(summary.sender == .server && summary.frames == 4)
        #expect(summary.messages.map(\.opcode) == [.text, .ping, .close])
        #expect(summary.messages.map(\.frames) == [2, 1, 1])
        #expect(summary.messages[0].payload == Array("Hello".utf8))
        let notes = server.messages.last!.elements.map(\.note)
        #expect(notes.contains("payload → \"lo\"; message complete: 2 frames, 5 bytes"))
        #expect(notes.contains("payload → close 1000 normal closure"))
        #expect(server.messages.last!.elements.allSatisfy { $0.warnings.isEmpty })
    }

    @Test func aRequestFollowedByARequestIsNotFrames() {
        let bytes = Self.handshake + Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        #expect(WireAnalysis(bytes).messages.map(\.kind) == [.request, .request])
        // And a 200 with Upgrade is no switch: its body is a body.
        #expect(WireAnalysis(Array("HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nok".utf8)).messages.map(\.kind) == [.response])
    }

    @Test func rfc7692DeflatedHellosAreInflatedWithContextTakeover() throws {
        // §7.2.3.1 "Hello" compressed, then §7.2.3.2 the same again with the window of the first.
        let bytes = Self.switching("Sec-WebSocket-Extensions: permessage-deflate\r\n") + [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]
        let message = try #require(WireAnalysis(bytes).messages.last)
        let summary = try #require(message.webSocket)
        #expect(summary.deflate)
        #expect(summary.messages.map(\.payload) == [Array("Hello".utf8), Array("Hello".utf8)])
        #expect(summary.messages.map(\.compressedBytes) == [7, 5])
        #expect(message.elements[0].note.hasSuffix("(RSV1: permessage-deflate compressed)"))
        #expect(message.elements.flatMap(\.warnings).isEmpty)
        // Without the negotiation, RSV1 is a protocol error and the payload stays as it is.
        #expect(warnings([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], from: .server).contains { $0.hasPrefix("RSV1 set, but permessage-deflate was not negotiated") })
    }

    @Test func lengthForms() throws {
        let payload = [UInt8](repeating: 0x61, count: 300)
        let sixteen = try #require(frames([0x82, 0x7e, 0x01, 0x2c] + payload, from: .server))
        #expect(sixteen.elements.map(\.note).prefix(3) == ["FIN=1 RSV=000 opcode=2 binary", "MASK=0 length=126: a 16-bit length follows", "length=300 (16-bit form)"])
        let sixtyFour = try #require(frames([0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0x01, 0x2c] + payload, from: .server))
        #expect(sixtyFour.elements[2].note == "length=300 (64-bit form)")
        #expect(sixtyFour.elements[2].warnings == ["not minimal: 300 fits the 16-bit form (§5.2 requires the shortest)"])
        #expect(warnings([0x82, 0x7e, 0x00, 0x02, 0xca, 0xfe], from: .server) == ["not minimal: 2 fits the 7-bit form (§5.2 requires the shortest)"])
    }

    @Test func warningsForBrokenFrames() {
        func has(_ bytes: [UInt8], _ sender: WireWebSocket.Sender, _ prefix: String) -> Bool {
            let found = warnings(bytes, from: sender)
            let ok = found.contains { $0.hasPrefix(prefix) }
            if !ok { Issue.record("\(prefix) not in \(found)") }
            return ok
        }
        #expect(has([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], .client, "a client frame without MASK"))
        #expect(has(Self.maskedHello, .server, "a server frame with MASK"))
        #expect(has([0x89, 0x7e, 0x00, 0x7e] + [UInt8](repeating: 0x78, count: 126), .server, "a control frame of 126 bytes (at most 125"))
        #expect(has([0x09, 0x01, 0x78], .server, "a fragmented control frame"))
        #expect(has([0x83, 0x00], .server, "reserved opcode 3"))
        #expect(has([0xa1, 0x00], .server, "RSV2 set"))
        #expect(has([0x81, 0x05, 0x48, 0x65], .server, "frame cut short: the length says 5, got 2"))
        #expect(has([0x81], .server, "frame cut short: the second header byte"))
        #expect(has([0x81, 0x85, 0x37, 0xfa], .client, "frame cut short: the masking key takes 4 bytes, got 2"))
        #expect(has([0x81, 0x02, 0xc3, 0x28], .server, "text that is not UTF-8"))
        #expect(has([0x80, 0x01, 0x78], .server, "a continuation frame, but no message was started"))
        #expect(has([0x88, 0x02, 0x03, 0xed], .server, "close code 1005 may not be sent"))
        #expect(has([0x88, 0x01, 0x03], .server, "a close payload of 1 byte"))
    }

    @Test func closeCodeAndReasonAreNamed() throws {
        let message = try #require(frames([0x88, 0x05, 0x03, 0xea, 0x62, 0x61, 0x64], from: .server))
        #expect(message.elements.last?.note == "payload → close 1002 protocol error, reason \"bad\"")
    }

    @Test func garbageFramesStayInBounds() {
        var generator = SplitMix(state: 11)
        for length in [0, 1, 2, 3, 9, 17, 100, 1000] {
            for _ in 0..<30 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                for sender in WireWebSocket.Sender.allCases {
                    for deflate in [false, true] {
                        for message in WireAnalysis(webSocketFrames: bytes, from: sender, deflate: deflate).messages {
                            #expect(message.start + message.length <= bytes.count)
                            for element in message.elements { #expect(element.range.lowerBound >= 0 && element.range.upperBound <= bytes.count) }
                        }
                    }
                }
            }
        }
    }
}

/// Validators, conditions and ranges (RFC 9110 §8.8, §13, §14), on bytes; WireAnalyzer+Caching.swift.
@Suite("Wire analysis: caching and ranges")
struct WireAnalysisCachingTests {
    /// The element of `field` in a response (or a request) that carries only that field.
    func header(_ field: String, request: Bool = false) -> WireElement {
        let text = request ? "GET / HTTP/1.1\r\nHost: x\r\n\(field)\r\n\r\n" : "HTTP/1.1 200 OK\r\n\(field)\r\nContent-Length: 0\r\n\r\n"
        let elements = WireAnalysis(Array(text.utf8)).messages[0].elements
        return elements[request ? 2 : 1]
    }

    @Test func entityTags() {
        #expect(header("ETag: \"674d-30\"").details == ["strong entity tag, opaque 674d-30"])
        #expect(header("ETag: W/\"v2\"").details == ["weak entity tag (W/: equivalent, not byte-for-byte), opaque v2"])
        #expect(header("ETag: 674d-30").warnings.first?.hasPrefix("not an entity tag") == true)
        #expect(header("ETag: \"674d-30\"").warnings.isEmpty)
    }

    @Test func datesAreShownAsParsed() {
        #expect(header("Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT").details == ["= 1994-11-06 08:49:37 UTC (IMF-fixdate)"])
        let obsolete = header("Last-Modified: Sunday, 06-Nov-94 08:49:37 GMT")
        #expect(obsolete.details == ["= 1994-11-06 08:49:37 UTC (obsolete RFC 850 format)"])
        #expect(obsolete.warnings == ["obsolete RFC 850 format: a sender must send IMF-fixdate (RFC 9110 §5.6.7)"])
        #expect(header("Last-Modified: Sun Nov  6 08:49:37 1994").details == ["= 1994-11-06 08:49:37 UTC (obsolete asctime format)"])
        #expect(header("Last-Modified: Mon, 06 Nov 1994 08:49:37 GMT").warnings == ["Mon is not that date's weekday: Sun"])
        let invalid = header("Last-Modified: yesterday")
        #expect(invalid.details.isEmpty && invalid.warnings.first?.hasPrefix("'yesterday' is not an HTTP date") == true)
        #expect(header("If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", request: true).details.first?.hasSuffix("→ 304 if not changed since (GET, HEAD; ignored with If-None-Match)") == true)
    }

    @Test func conditionsListTheirTags() {
        #expect(header("If-None-Match: *", request: true).details == ["* (any current representation) → 304 if one matches (weak comparison)"])
        #expect(header("If-None-Match: \"a\", W/\"b\"", request: true).details == ["2 tags \"a\" (strong), W/\"b\" (weak) → 304 if one matches (weak comparison)"])
        let weakIfMatch = header("If-Match: W/\"a\"", request: true)
        #expect(weakIfMatch.warnings.first?.hasPrefix("a weak tag never matches here") == true)
        #expect(header("If-None-Match: a, b", request: true).warnings.first?.hasPrefix("not * or a list of entity tags") == true)
        #expect(header("If-Range: \"a\"", request: true).details.first?.hasPrefix("tag \"a\" → the range if it is the current ETag") == true)
        #expect(header("If-Range: Sun, 06 Nov 1994 08:49:37 GMT", request: true).details.first?.hasPrefix("date = 1994-11-06 08:49:37 UTC") == true)
        #expect(header("If-Range: W/\"a\"", request: true).warnings.count == 1)
    }

    @Test func rangesAreListedAndMalformedOnesWarned() {
        #expect(header("Range: bytes=0-99, 500-,-50", request: true).details == [
            "3 ranges → a 206 answers with a multipart/byteranges body",
            "0-99: offsets 0 to 99, 100 bytes", "500-: from offset 500 to the end", "-50: the last 50 bytes"])
        let backwards = header("Range: bytes=0-9,9-5", request: true)
        #expect(backwards.details == ["0-9: offsets 0 to 9, 10 bytes"])
        #expect(backwards.warnings == ["'9-5' is not a byte range (last before first): the whole Range is ignored → 200"])
        #expect(header("Range: bytes=abc", request: true).warnings == ["'abc' is not a byte range (first-last, first- or -count): the whole Range is ignored → 200"])
        #expect(header("Range: items=0-5", request: true).warnings.first?.hasPrefix("unit 'items' is not bytes") == true)
    }

    @Test func contentRangeIsDecoded() {
        #expect(WireAnalyzer.contentRange("bytes 0-99/1000") == .init(range: 0...99, total: 1000))
        #expect(WireAnalyzer.contentRange("bytes */1000") == .init(range: nil, total: 1000))
        #expect(WireAnalyzer.contentRange("bytes 0-99/*") == .init(range: 0...99, total: nil))
        for malformed in ["bytes 9-0/10", "bytes */*", "bytes 0-9", "items 0-9/10", "bytes -9/10"] {
            #expect(WireAnalyzer.contentRange(malformed) == nil, "\(malformed)")
        }
        #expect(header("Content-Range: bytes 0-99/1000").details == ["first byte 0, last 99, complete length 1000 → 100 bytes here"])
        #expect(header("Content-Range: bytes */1000").details == ["unsatisfiable: no requested range is inside the 1000 bytes (the answer of a 416)"])
        #expect(header("Content-Range: bytes 0-1000/1000").warnings == ["last byte 1000 is past the end of a 1000-byte representation"])
    }

    @Test func cacheControlOneRowPerDirective() {
        let response = header("Cache-Control: max-age=3600, public, x-custom")
        #expect(response.details == ["max-age=3600: fresh for 3600 s (1 h): reused without asking until then",
                                     "public: any cache may store it, shared ones too", "x-custom: not a standard directive: caches ignore it"])
        #expect(header("Cache-Control: no-cache", request: true).details == ["no-cache: the client wants an answer from the server, not a stored copy"])
        #expect(header("Cache-Control: max-age=soon").warnings == ["max-age needs a number of seconds, got 'soon'"])
        #expect(header("Accept-Ranges: bytes").details.first?.hasPrefix("the server takes Range") == true)
    }

    @Test func statusesAreNoted() {
        let notModified = WireAnalysis(Array("HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n".utf8)).messages[0]
        #expect(notModified.elements[0].details.first?.hasPrefix("the client's stored copy is still current") == true)
        #expect(notModified.body == nil)
        let refused = WireAnalysis(Array("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n".utf8)).messages[0]
        #expect(refused.elements.flatMap(\.warnings) == ["a 416 should say the length: Content-Range: bytes */LENGTH"])
        let good416 = WireAnalysis(Array("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */48\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(good416.messages[0].elements.flatMap(\.warnings).isEmpty)
        let partial = WireAnalysis(Array("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/48\r\nContent-Length: 12\r\n\r\n0123456789ab".utf8))
        #expect(partial.messages[0].elements.flatMap(\.warnings) == ["Content-Range says 10 bytes, Content-Length 12"])
        let bare = WireAnalysis(Array("HTTP/1.1 206 Partial Content\r\nContent-Length: 2\r\n\r\nab".utf8))
        #expect(bare.messages[0].elements.flatMap(\.warnings).first?.hasPrefix("a 206 needs Content-Range") == true)
    }

    static func byteranges(_ secondData: String) -> [UInt8] {
        let body = "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/48\r\n\r\nHello"
            + "\r\n--B\r\nContent-Range: bytes 39-47/48\r\n\r\n\(secondData)\r\n--B--\r\n"
        return Array("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    @Test func multipartByterangesIsSplitIntoItsParts() throws {
        let bytes = Self.byteranges("httpkit.\n")
        let message = try #require(WireAnalysis(bytes).messages.first)
        #expect(message.length == bytes.count)
        let notes = message.elements.dropFirst(4).map(\.note)
        #expect(notes == ["part 1 boundary  --B", "part 1 header  Content-Type", "part 1 header  Content-Range", "part 1 end of headers",
                          "part 1 data (5 bytes)", "part 2 boundary  --B", "part 2 header  Content-Range", "part 2 end of headers",
                          "part 2 data (9 bytes)", "closing boundary: end of the 2 parts"])
        #expect(message.elements.flatMap(\.warnings).isEmpty)
        let data = message.elements.filter { $0.note.hasPrefix("part") && $0.note.contains("data") }
        #expect(data.map { String(decoding: bytes[$0.range], as: UTF8.self) } == ["Hello", "httpkit.\n"])
        #expect(message.elements[6].details == ["first byte 0, last 4, complete length 48 → 5 bytes here"])
        // The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1).
        #expect(String(decoding: bytes[message.elements[4].range], as: UTF8.self) == "\r\n--B\r\n")
    }

    @Test func aPartThatDisagreesWithItsContentRangeIsWarned() {
        let warnings = WireAnalysis(Self.byteranges("httpkit!!!\n")).messages[0].elements.flatMap(\.warnings)
        #expect(warnings == ["Content-Range 39-47 says 9 bytes, the part has 11"])
    }

    @Test func aCutMultipartBodyIsWarnedAndStaysInBounds() {
        let bytes = Self.byteranges("httpkit.\n")
        for cut in stride(from: 60, to: bytes.count, by: 3) {
            let analysis = WireAnalysis(Array(bytes.prefix(cut)))
            for element in analysis.messages.flatMap(\.elements) {
                #expect(element.range.lowerBound >= 0 && element.range.upperBound <= cut)
            }
        }
        let cut = WireAnalysis(Array(bytes.dropLast(9))).messages[0].elements.flatMap(\.warnings)
        #expect(cut.contains { $0.hasPrefix("no closing '--B--'") }, "\(cut)")
    }
}

/// TLS records (RFC 8446 §5.1), on real bytes: an OpenSSL 3.0 ClientHello and the server flights that
/// answered it (the hex files beside the golden dumps, Tests/HTTPKitTests/Golden/*.hex).
@Suite("Wire analysis: TLS records")
struct WireAnalysisTLSTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("HTTPKitTests/Golden/\(name).hex")
        let digits = Array(try String(contentsOf: url, encoding: .utf8).utf8.filter { ASCII.hexValue($0) != nil })
        return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(ASCII.hexValue(digits[$0])! * 16 + ASCII.hexValue(digits[$0 + 1])!) }
    }

    func notes(_ message: WireMessage) -> [String] { message.elements.map { $0.note.trimmingCharacters(in: .whitespaces) } }

    @Test func clientHelloFieldByField() throws {
        let analysis = WireAnalysis(try Self.fixture("tls13-client-hello"))
        let message = try #require(analysis.messages.first)
        #expect(analysis.messages.count == 1 && message.kind == .tls && message.length == 333)
        let notes = notes(message)
        #expect(Array(notes.prefix(4)) == ["record: handshake (22)", "legacy version 0x0301 (TLS 1.0; ignored in TLS 1.3)", "length 328", "ClientHello, 324 bytes"])
        #expect(notes.contains("0x1301 TLS_AES_128_GCM_SHA256"))
        #expect(notes.contains("0xc02f TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"))
        #expect(notes.contains("ALPN protocols [h2, http/1.1]"))
        #expect(notes.contains("supported versions [TLS 1.3, TLS 1.2, TLS 1.1, TLS 1.0]"))
        #expect(notes.contains("x25519, 32-byte public key"))
        #expect(notes.contains { $0.hasPrefix("host_name localhost") })
        let tls = try #require(message.tls)
        #expect(tls.sender == "client" && tls.serverName == "localhost" && tls.alpn == ["h2", "http/1.1"])
        #expect(tls.offeredSuites == 31 && tls.keyShareGroups == ["x25519"] && tls.handshakeMessages == ["ClientHello"])
        #expect(message.elements.allSatisfy { $0.warnings.isEmpty })
        // Every byte belongs to exactly one element, in order.
        #expect(message.elements.map(\.range.count).reduce(0, +) == 333)
        #expect(zip(message.elements, message.elements.dropFirst()).allSatisfy { $0.range.upperBound == $1.range.lowerBound })
    }

    @Test func tls13ServerHelloThenEncrypted() throws {
        let message = try #require(WireAnalysis(try Self.fixture("tls13-server-flight")).messages.first)
        let tls = try #require(message.tls)
        #expect(tls.sender == "server" && tls.version == "TLS 1.3" && tls.cipherSuite == "TLS_AES_256_GCM_SHA384")
        #expect(tls.keyShareGroups == ["x25519"] && tls.records == 6 && tls.encryptedRecords == 4)
        let notes = notes(message)
        #expect(notes.contains { $0.hasPrefix("selected version TLS 1.3") })
        #expect(notes.contains { $0.hasPrefix("change_cipher_spec: a no-op in TLS 1.3") })
        #expect(notes.contains { $0.hasPrefix("encrypted application data (38 bytes)") })
    }

    @Test func tls12ServerFlightInClearWithDowngradeSentinel() throws {
        let message = try #require(WireAnalysis(try Self.fixture("tls12-server-flight")).messages.first)
        let tls = try #require(message.tls)
        #expect(tls.version == "TLS 1.2" && tls.cipherSuite == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
        #expect(tls.handshakeMessages == ["ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone"])
        #expect(notes(message).contains { $0.contains("DOWNGRD\\x01") })
    }

    @Test func helloRetryRequestAlertsAndGREASE() throws {
        // A HelloRetryRequest (§4.1.3) choosing secp256r1, then a fatal handshake_failure alert.
        var hello: [UInt8] = [0x03, 0x03] + WireAnalyzer.helloRetryRandom + [0x00, 0x13, 0x01, 0x00]
        let extensions: [UInt8] = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x00, 0x17]
        hello += [0x00, UInt8(extensions.count)] + extensions
        let handshake: [UInt8] = [0x02, 0x00, 0x00, UInt8(hello.count)] + hello
        let bytes: [UInt8] = [0x16, 0x03, 0x03, 0x00, UInt8(handshake.count)] + handshake + [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]
        let message = try #require(WireAnalysis(bytes).messages.first)
        let tls = try #require(message.tls)
        #expect(tls.helloRetryRequest && tls.version == nil && tls.keyShareGroups == ["secp256r1"])
        #expect(tls.handshakeMessages == ["HelloRetryRequest"] && tls.alerts == ["fatal handshake_failure"])
        #expect(notes(message).contains { $0.hasPrefix("selected group secp256r1") })
        #expect(notes(message).contains("alert description 40 handshake_failure"))
        #expect(WireAnalyzer.suiteNote(0x0a0a).contains("GREASE") && WireAnalyzer.suiteNote(0x1a1a).contains("GREASE"))
        #expect(!WireAnalyzer.isGREASE(0x0a1a))
    }

    @Test func warningsForOversizedUnknownAndCutRecords() {
        func warnings(_ bytes: [UInt8]) -> [String] { WireAnalysis(tlsRecords: bytes).messages.flatMap { $0.elements.flatMap(\.warnings) } }
        #expect(warnings([0x17, 0x03, 0x03, 0x41, 0x01] + [UInt8](repeating: 0, count: 0x4101)).contains { $0.contains("record_overflow") })
        #expect(warnings([0x19, 0x03, 0x03, 0x00, 0x01, 0x00]).contains { $0.hasPrefix("unknown content type 25") })
        #expect(warnings([0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00]).contains { $0.hasPrefix("record cut short: the length says 256, got 2") })
        #expect(warnings([0x16, 0x03]).contains { $0.hasPrefix("record cut short: a header takes 5 bytes") })
    }

    @Test func detectionNeedsARecordHeader() {
        #expect(WireAnalysis([0x16, 0x03, 0x01, 0x00, 0x00]).messages.first?.kind == .tls)
        #expect(WireAnalysis(Array("GET / HTTP/1.1\r\n\r\n".utf8)).messages.first?.kind == .request)
        #expect(WireAnalysis([0x16, 0x03, 0x05, 0x00, 0x00]).messages.first?.kind == .request)
    }

    @Test func garbageRecordsStayInBounds() throws {
        var generator = SplitMix(state: 11)
        var inputs = [try Self.fixture("tls13-client-hello"), try Self.fixture("tls12-server-flight")]
        for cut in stride(from: 1, to: 333, by: 7) { inputs.append(Array(inputs[0].prefix(cut))) }
        for _ in 0..<200 {
            var bytes = inputs[0]
            for _ in 0..<4 { bytes[Int.random(in: 5..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            inputs.append(bytes)
        }
        for bytes in inputs {
            for message in WireAnalysis(tlsRecords: bytes).messages {
                #expect(message.start + message.length <= bytes.count)
                for element in message.elements { #expect(element.range.lowerBound >= 0 && element.range.upperBound <= bytes.count) }
            }
        }
    }
}
