import Testing
@testable import HTTPCore

/// Octets from the RFC's hex dumps, spaces and line breaks ignored.
private func octets(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// The HTTP/2 part of the wire analysis (WireAnalyzer+HTTP2.swift) on byte fixtures: RFC 7541 Appendix C's
/// header blocks inside HEADERS frames, every frame type, and the warnings.
@Suite("Wire analysis: HTTP/2 frames")
struct WireAnalysisHTTP2Tests {
    static let c4 = ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf",
                     "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"].map(octets)
    static let c3 = ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865",
                     "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"].map(octets)
    /// C.6 with the table size update to 256 that an HTTP/2 encoder sends first (the RFC's decoder starts at 256).
    static let c6 = [octets("3fe101") + octets("""
        4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
        2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3
        """), octets("4883 640e ffc1 c0bf"), octets("""
        88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
        77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
        9587 3160 65c0 03ed 4ee5 b106 3d50 07
        """)]

    static func headers(_ stream: UInt32, _ block: [UInt8], endStream: Bool = true) -> [UInt8] {
        HTTP2Frame(streamID: stream, payload: .headers(fieldBlock: block[...], endStream: endStream, endHeaders: true)).encoded()
    }

    /// A client's capture: the preface, SETTINGS, then C.4's three requests on streams 1, 3 and 5.
    static let clientCapture = HTTP2Connection.clientPreface
        + HTTP2Frame(streamID: 0, payload: .settings([HTTP2Setting(.enablePush, 0), HTTP2Setting(.initialWindowSize, 1_048_576)])).encoded()
        + headers(1, c4[0]) + headers(3, c4[1]) + headers(5, c4[2])

    func notes(_ analysis: WireAnalysis) -> [String] { analysis.messages.flatMap { $0.elements.map(\.note) } }
    func warnings(_ analysis: WireAnalysis) -> [String] { analysis.messages.flatMap { $0.elements.flatMap(\.warnings) } }

    @Test func thePrefaceIsFoundWithoutBeingTold() throws {
        let analysis = WireAnalysis(Self.clientCapture)
        let message = try #require(analysis.messages.first)
        #expect(analysis.messages.count == 1 && message.kind == .http2 && message.length == Self.clientCapture.count)
        #expect(message.elements[0].range == 0..<24 && message.elements[0].note.hasPrefix("client connection preface"))
        #expect(message.http2?.preface == true && message.http2?.frames == 4 && message.http2?.sender == .client)
        #expect(warnings(analysis).isEmpty, "\(warnings(analysis))")
        // An HTTP/1.1 request is still a request.
        #expect(WireAnalysis(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)).messages.first?.kind == .request)
    }

    @Test func theFrameHeaderIsOneElementWithTypeFlagsAndStream() {
        let notes = notes(WireAnalysis(Self.clientCapture))
        #expect(notes.contains("SETTINGS  stream 0, length 12, flags 0x00"))
        #expect(notes.contains("ENABLE_PUSH = 0 (no server push)"))
        #expect(notes.contains("INITIAL_WINDOW_SIZE = 1048576 (each stream's starting flow-control window)"))
        #expect(notes.contains("HEADERS  stream 1, length 17, flags 0x05 END_STREAM|END_HEADERS"))
    }

    /// RFC 7541 C.4: Huffman strings, and the dynamic table carried from one request to the next.
    @Test func appendixC4RequestsFieldByField() throws {
        let analysis = WireAnalysis(Self.clientCapture)
        let elements = try #require(analysis.messages.first).elements
        let authority = try #require(elements.first { $0.note == "literal with incremental indexing  :authority: www.example.com" })
        #expect(authority.details == ["name: index 1 (static); value: Huffman, 12 → 15 octets",
                                      "added to the dynamic table as 62 (1 entry, 57 of 4096 octets)"])
        #expect(authority.range.count == 14)
        let notes = notes(analysis)
        #expect(notes.contains("indexed 2 (static)  :method: GET"))
        #expect(notes.contains("indexed 62 (dynamic)  :authority: www.example.com")) // C.4.2's be
        #expect(notes.contains("literal with incremental indexing  cache-control: no-cache"))
        #expect(notes.contains("indexed 63 (dynamic)  :authority: www.example.com")) // C.4.3's bf, one entry later
        #expect(notes.contains("literal with incremental indexing  custom-key: custom-value"))
        let streams = try #require(analysis.messages.first?.http2?.streams)
        #expect(streams.map(\.id) == [1, 3, 5])
        #expect(streams[2].fields.map(\.description) == [":method: GET", ":scheme: https", ":path: /index.html",
                                                         ":authority: www.example.com", "custom-key: custom-value"])
    }

    /// RFC 7541 C.3: the same requests with raw strings; and new names are literal strings.
    @Test func appendixC3RawStrings() throws {
        let capture = HTTP2Connection.clientPreface + Self.headers(1, Self.c3[0]) + Self.headers(3, Self.c3[1]) + Self.headers(5, Self.c3[2])
        let elements = try #require(WireAnalysis(capture).messages.first).elements
        let custom = try #require(elements.first { $0.note.hasSuffix("custom-key: custom-value") })
        #expect(custom.details.first == "name: new, raw, 10 octets; value: raw, 12 octets")
    }

    /// RFC 7541 C.6: responses from a server (no preface: --h2 server), a size update, and evictions.
    @Test func appendixC6ResponsesWithEvictions() throws {
        let capture = Self.headers(1, Self.c6[0]) + Self.headers(3, Self.c6[1]) + Self.headers(5, Self.c6[2])
        let analysis = WireAnalysis(http2Frames: capture, from: .server)
        let notes = notes(analysis)
        #expect(notes.contains("dynamic table size update → 256 octets (§6.3)"))
        #expect(notes.contains("literal with incremental indexing  :status: 307"))
        let elements = try #require(analysis.messages.first).elements
        let status307 = try #require(elements.first { $0.note.hasSuffix(":status: 307") })
        #expect(status307.details.last == "added to the dynamic table as 62 (4 entries, 222 of 256 octets, 1 evicted)")
        let cookie = try #require(elements.first { $0.note.contains("set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU") })
        #expect(cookie.details.last == "added to the dynamic table as 62 (3 entries, 215 of 256 octets, 2 evicted)")
        #expect(analysis.messages.first?.http2?.streams.map(\.fields.count) == [4, 4, 6])
        #expect(warnings(analysis).isEmpty, "\(warnings(analysis))")
    }

    /// The REPL's case: a second capture of the same connection decodes indices the first one added.
    @Test func theContextCarriesTheTableAcrossCaptures() {
        var context = WireHTTP2Context()
        _ = WireAnalysis(http2Frames: HTTP2Connection.clientPreface + Self.headers(1, Self.c4[0]), from: .client, context: &context)
        let second = WireAnalysis(http2Frames: Self.headers(3, Self.c4[1]), from: .client, context: &context)
        #expect(notes(second).contains("indexed 62 (dynamic)  :authority: www.example.com"))
        #expect(context.dynamicTable(of: .client).count == 2)
        // Without the first capture, index 62 is past the tables: a COMPRESSION_ERROR.
        let alone = WireAnalysis(http2Frames: Self.headers(3, Self.c4[1]), from: .client)
        #expect(warnings(alone).contains { $0.contains("index 62 is past the tables") && $0.contains("COMPRESSION_ERROR") })
    }

    @Test func neverIndexedAndWithoutIndexing() throws {
        // C.2.2 (without indexing, :path /sample/path) and C.2.3 (never indexed, password: secret).
        let block = octets("040c 2f73 616d 706c 652f 7061 7468") + octets("1008 7061 7373 776f 7264 0673 6563 7265 74")
        let analysis = WireAnalysis(http2Frames: Self.headers(1, block), from: .client)
        let notes = notes(analysis)
        #expect(notes.contains("literal without indexing  :path: /sample/path"))
        #expect(notes.contains("literal never indexed  password: secret"))
        #expect(analysis.messages.first?.http2?.streams.first?.fields.last?.neverIndexed == true)
    }

    @Test func aHeaderBlockAcrossContinuationFrames() throws {
        // C.4.1 split after 5 octets, in the middle of the :authority literal.
        let block = Self.c4[0]
        let capture = HTTP2Frame(streamID: 1, payload: .headers(fieldBlock: block[..<5], endStream: true, endHeaders: false)).encoded()
            + HTTP2Frame(streamID: 1, payload: .continuation(fieldBlock: block[5...], endHeaders: true)).encoded()
        let analysis = WireAnalysis(http2Frames: capture, from: .client)
        let notes = notes(analysis)
        #expect(notes.contains("CONTINUATION  stream 1, length 12, flags 0x04 END_HEADERS"))
        #expect(notes.contains("literal with incremental indexing  :authority: www.example.com"))
        #expect(notes.contains("(the rest of the field above)"))
        #expect(analysis.messages.first?.http2?.streams.first?.fields.count == 4)
        // Elements cover every byte once, in order.
        let ranges = try #require(analysis.messages.first).elements.map(\.range)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound } && ranges.last?.upperBound == capture.count)
    }

    @Test func everyOtherFrameType() {
        let frames: [HTTP2Frame] = [
            HTTP2Frame(streamID: 1, payload: .data(Array("hello".utf8), endStream: true, padding: 3)),
            HTTP2Frame(streamID: 3, payload: .priority(HTTP2Priority(exclusive: true, dependency: 1, weight: 255))),
            HTTP2Frame(streamID: 3, payload: .rstStream(.cancel)),
            HTTP2Frame(streamID: 0, payload: .ping(Array("httpkit!".utf8), ack: true)),
            HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 1000)),
            HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: 3, errorCode: .enhanceYourCalm, debugData: Array("slow down".utf8))),
            HTTP2Frame(streamID: 0, payload: .unknown(type: 0xfa, flags: 0, payload: [1, 2])),
        ]
        let analysis = WireAnalysis(http2Frames: frames.flatMap { $0.encoded() }, from: .server)
        let notes = notes(analysis)
        #expect(notes.contains("DATA  stream 1, length 9, flags 0x09 END_STREAM|PADDED"))
        #expect(notes.contains("pad length 3"))
        #expect(notes.contains("data, 5 bytes → \"hello\""))
        #expect(notes.contains("padding, 3 bytes"))
        #expect(notes.contains("priority: exclusive, depends on stream 1, weight 256 (deprecated, §5.3.2: read and ignored)"))
        #expect(notes.contains("error code 0x8 CANCEL: stream 3 ends now"))
        #expect(notes.contains("opaque data 687474706b697421 (the peer's PING, echoed)"))
        #expect(notes.contains("increment 1000 for the connection"))
        #expect(notes.contains("error code 0xb ENHANCE_YOUR_CALM"))
        #expect(notes.contains("debug data \"slow down\""))
        #expect(notes.contains("unknown frame type 0xfa  stream 0, length 2, flags 0x00  (ignored, §5.5)"))
        #expect(warnings(analysis).isEmpty, "\(warnings(analysis))")
        #expect(analysis.messages.first?.http2?.connectionEvents.contains("GOAWAY last stream 3, ENHANCE_YOUR_CALM, \"slow down\"") == true)
    }

    @Test func warningsForWhatAReceiverRefuses() {
        func warned(_ bytes: [UInt8], _ words: String, from sender: WireHTTP2.Sender = .client) {
            let all = warnings(WireAnalysis(http2Frames: bytes, from: sender))
            #expect(all.contains { $0.contains(words) }, "expected a warning with '\(words)', got \(all)")
        }
        warned(Self.headers(2, Self.c4[0]), "odd ids")
        warned(HTTP2Frame(streamID: 1, payload: .ping(Array(repeating: 0, count: 8))).encoded(), "belongs to the connection")
        warned(octets("000004 08 00 00000000 00000000"), "an increment of 0")
        warned(octets("000003 06 00 00000000 010203"), "a PING frame of 3 octets")
        warned(octets("004001 00 00 00000001") + Array(repeating: 0, count: 16_385), "over SETTINGS_MAX_FRAME_SIZE")
        warned(octets("000006 04 00 00000000 0002 00000002"), "SETTINGS_ENABLE_PUSH = 2")
        warned(octets("000010 00 00 00000001 6869"), "frame cut short")
        warned(octets("000001 09 04 00000001 82"), "follows no unfinished HEADERS")
        warned(HTTP2Connection.clientPreface, "a server never sends the preface", from: .server)
    }

    @Test func windowsAreShownOnceBothDirectionsAreKnown() {
        var context = WireHTTP2Context()
        _ = WireAnalysis(http2Frames: HTTP2Connection.clientPreface + HTTP2Frame(streamID: 0, payload: .settings([HTTP2Setting(.initialWindowSize, 100)])).encoded()
                         + Self.headers(1, Self.c4[0]), from: .client, context: &context)
        let data = WireAnalysis(http2Frames: HTTP2Frame(streamID: 1, payload: .data(Array(repeating: 0x61, count: 60), endStream: false)).encoded(),
                                from: .server, context: &context)
        #expect(data.messages.first?.elements.flatMap(\.details).contains("flow control: −60 → the server may send 40 more on stream 1, 65475 on the connection") == true)
        let update = WireAnalysis(http2Frames: HTTP2Frame(streamID: 1, payload: .windowUpdate(increment: 60)).encoded(), from: .client, context: &context)
        #expect(notes(update).contains("increment 60 for the stream → the server may send 100 on stream 1"))
    }

    /// curl --http2 on http://: the request asks for h2c, the 101 switches, and frames follow on both sides.
    @Test func anH2cUpgradeSwitchesToFrames() throws {
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n".utf8)
        let client = WireAnalysis(request + HTTP2Connection.clientPreface + HTTP2Frame(streamID: 0, payload: .settings([])).encoded())
        #expect(client.messages.map(\.kind) == [.request, .http2])
        #expect(client.messages[0].elements.last?.note.hasSuffix("then HTTP/2 frames from the client (h2c upgrade)") == true)
        #expect(client.messages[1].http2?.preface == true)
        let response = Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8)
        let server = WireAnalysis(response + HTTP2Frame(streamID: 0, payload: .settings([])).encoded() + Self.headers(1, [0x88]), as: .response)
        #expect(server.messages.map(\.kind) == [.response, .http2])
        #expect(server.messages[1].http2?.sender == .server && server.messages[1].http2?.streams.first?.fields.first?.description == ":status: 200")
    }

    @Test func garbageNeverCrashes() {
        var seed: UInt64 = 11
        for length in [0, 1, 8, 9, 10, 30, 200, 2000] {
            for _ in 0..<30 {
                let bytes = (0..<length).map { _ -> UInt8 in
                    seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return UInt8(truncatingIfNeeded: seed >> 33)
                }
                for sender in WireHTTP2.Sender.allCases {
                    let analysis = WireAnalysis(http2Frames: bytes, from: sender)
                    #expect(analysis.messages.first.map { $0.length == bytes.count } ?? bytes.isEmpty)
                }
            }
        }
    }
}
