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
