import Testing
import HTTPCore

/// A client frame as a browser sends it: masked.
func clientFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false,
                 key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]) -> [UInt8] {
    WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskingKey: key, payload: payload).encoded()
}

/// Feeds bytes to a server-side machine and writes down what it asks for.
func run(_ machine: inout WebSocketConnection, _ bytes: [UInt8]) -> [WebSocketConnection.Action] {
    machine.receive(bytes)
    var actions: [WebSocketConnection.Action] = []
    while let action = machine.nextAction() { actions.append(action) }
    return actions
}

/// The close code in a close frame the server wrote.
func closeCode(_ actions: [WebSocketConnection.Action]) -> UInt16? {
    for action in actions {
        if case .close(let code, _) = action { return code }
    }
    return nil
}

@Suite("WebSocket vectors: SHA-1, the handshake, frames (RFC 3174, RFC 6455 §1.3 and §5.7, RFC 7692 §7.2.3)")
struct WebSocketVectorTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    @Test func sha1Vectors() {
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 1_000_000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test func acceptValueOfSection1_3() {
        #expect(WebSocketHandshake.accept(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func section5_7Examples() throws {
        #expect(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).encoded() == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(clientFrame(.text, Array("Hello".utf8)) == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        #expect(WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)).encoded() == [0x01, 0x03, 0x48, 0x65, 0x6C])
        #expect(WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8)).encoded() == [0x80, 0x02, 0x6C, 0x6F])
        #expect(WebSocketFrame(opcode: .ping, payload: Array("Hello".utf8)).encoded() == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(clientFrame(.pong, Array("Hello".utf8)) == [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        #expect(Array(WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 7, count: 256)).encoded().prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(Array(WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 7, count: 65536)).encoded().prefix(10))
                == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])

        var parser = WebSocketFrameParser(maxPayload: 1 << 20)
        parser.append([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        let frame = try #require(try parser.next())
        #expect(frame.payload == Array("Hello".utf8))
        #expect(frame.maskingKey == [0x37, 0xFA, 0x21, 0x3D])
        #expect(frame.fin && frame.opcode == .text)
    }

    @Test func aCompressedHelloFromRFC7692() throws {
        var parameters = PerMessageDeflate.Parameters()
        parameters.serverNoContextTakeover = true
        var machine = try WebSocketConnection(configuration: .init(deflate: parameters))
        // §7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00, sent with RSV1.
        let actions = run(&machine, clientFrame(.text, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], rsv1: true))
        #expect(actions == [.message(.text("Hello"))])
        // Fragmented with RSV1 on the first frame only (§7.2.3.1 second example).
        let split = run(&machine, clientFrame(.text, [0xF2, 0x48, 0xCD], fin: false, rsv1: true)
                        + clientFrame(.continuation, [0xC9, 0xC9, 0x07, 0x00]))
        #expect(split == [.message(.text("Hello"))])
    }

    @Test func utf8ValidatorRefusesWhatRFC3629Forbids() {
        #expect(UTF8Validator.isValid(Array("κόσμε €𝄞".utf8)))
        #expect(!UTF8Validator.isValid([0xC0, 0x80]))             // overlong NUL
        #expect(!UTF8Validator.isValid([0xED, 0xA0, 0x80]))       // a surrogate
        #expect(!UTF8Validator.isValid([0xF4, 0x90, 0x80, 0x80])) // past U+10FFFF
        #expect(!UTF8Validator.isValid([0xE2, 0x82]))             // cut short
        var streaming = UTF8Validator()
        #expect(streaming.feed([0xE2, 0x82]) && !streaming.isComplete)
        #expect(streaming.feed([0xAC]) && streaming.isComplete)   // € split across two fragments
    }
}

@Suite("WebSocketHandshake: what a server accepts and refuses (RFC 6455 §4.2)")
struct WebSocketHandshakeTests {
    func request(method: HTTPMethod = .get, version: HTTPVersion = .http1_1, _ fields: [(String, String)]) -> HTTPRequest {
        var headers = HTTPHeaders()
        headers.add("Host", "x")
        for (name, value) in fields { headers.add(name, value) }
        return HTTPRequest(method: method, target: "/ws", version: version, headers: headers)
    }

    let good: [(String, String)] = [("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"),
                                    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]

    func status(_ outcome: WebSocketHandshake.Outcome) -> (Int, HTTPResponse) {
        switch outcome {
        case .accepted(let response, _): return (response.status.code, response)
        case .refused(let response): return (response.status.code, response)
        }
    }

    @Test func aValidHandshakeIsAccepted() {
        let (code, response) = status(WebSocketHandshake.respond(to: request(good)))
        #expect(code == 101)
        #expect(response.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(response.headers["Upgrade"] == "websocket")
        #expect(response.headers["Sec-WebSocket-Extensions"] == nil)
        // Token lists compare case-insensitively.
        let shouting = [("Upgrade", "WebSocket"), ("Connection", "UPGRADE")] + good.dropFirst(2)
        #expect(status(WebSocketHandshake.respond(to: request(Array(shouting)))).0 == 101)
    }

    @Test func refusals() {
        func without(_ name: String) -> [(String, String)] { good.filter { $0.0 != name } }
        #expect(status(WebSocketHandshake.respond(to: request(without("Sec-WebSocket-Key")))).0 == 400)
        #expect(status(WebSocketHandshake.respond(to: request(without("Sec-WebSocket-Key") + [("Sec-WebSocket-Key", "short")]))).0 == 400)
        #expect(status(WebSocketHandshake.respond(to: request(without("Connection") + [("Connection", "keep-alive")]))).0 == 400)
        let (code, response) = status(WebSocketHandshake.respond(to: request(without("Sec-WebSocket-Version") + [("Sec-WebSocket-Version", "8")])))
        #expect(code == 426)
        #expect(response.headers["Sec-WebSocket-Version"] == "13")
        #expect(status(WebSocketHandshake.respond(to: request(method: .post, good))).0 == 405)
        #expect(status(WebSocketHandshake.respond(to: request(version: .http1_0, good))).0 == 426)
        let (plain, plainResponse) = status(WebSocketHandshake.respond(to: request([])))
        #expect(plain == 426)
        #expect(plainResponse.headers["Upgrade"] == "websocket")
    }

    @Test func permessageDeflateNegotiation() {
        let offer = good + [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
        let (_, response) = status(WebSocketHandshake.respond(to: request(offer)))
        #expect(response.headers["Sec-WebSocket-Extensions"] == "permessage-deflate")
        // An offer we cannot honour (a 256-byte window) is declined and the next one taken.
        let fallback = PerMessageDeflate.negotiate(["permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover"])
        #expect(fallback?.responseValue == "permessage-deflate; server_no_context_takeover")
        #expect(PerMessageDeflate.negotiate(["permessage-deflate; server_max_window_bits=10"])?.responseValue
                == "permessage-deflate; server_max_window_bits=10")
        #expect(PerMessageDeflate.negotiate(["permessage-deflate; foo=1"]) == nil)
        #expect(PerMessageDeflate.negotiate(["permessage-deflate; client_no_context_takeover; client_no_context_takeover"]) == nil)
        #expect(PerMessageDeflate.negotiate(["x-webkit-deflate-frame"]) == nil)
    }
}

@Suite("WebSocketConnection: RFC 6455's rules on bytes, no socket")
struct WebSocketConnectionTests {
    func machine(max: Int = 1 << 20) -> WebSocketConnection {
        try! WebSocketConnection(configuration: .init(maxMessageBytes: max))
    }

    @Test func messagesComeWholeWhateverTheSplit() {
        let bytes = clientFrame(.text, Array("Hel".utf8), fin: false) + clientFrame(.ping, [1, 2])
            + clientFrame(.continuation, Array("lo".utf8)) + clientFrame(.binary, [0, 255])
        for size in [1, 2, 5, bytes.count] {
            var ws = machine()
            var actions: [WebSocketConnection.Action] = []
            var rest = bytes[...]
            while !rest.isEmpty {
                actions += run(&ws, Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            #expect(actions == [.write([0x8A, 0x02, 1, 2]), .message(.text("Hello")),
                                .message(.init(opcode: .binary, payload: [0, 255]))], "pieces of \(size)")
        }
    }

    @Test("protocol errors close with the right code", arguments: [
        ("unmasked", WebSocketFrame(opcode: .text, payload: [0x61]).encoded(), UInt16(1002)),
        ("RSV2", WebSocketFrame(rsv2: true, opcode: .text, maskingKey: [1, 2, 3, 4], payload: []).encoded(), 1002),
        ("RSV1 without deflate", clientFrame(.text, [0x61], rsv1: true), 1002),
        ("reserved opcode 3", clientFrame(WebSocketOpcode(rawValue: 3), []), 1002),
        ("reserved opcode 11", clientFrame(WebSocketOpcode(rawValue: 11), []), 1002),
        ("ping over 125 bytes", clientFrame(.ping, [UInt8](repeating: 0, count: 126)), 1002),
        ("fragmented ping", clientFrame(.ping, [], fin: false), 1002),
        ("continuation first", clientFrame(.continuation, [0x61]), 1002),
        ("new message mid-message", clientFrame(.text, [0x61], fin: false) + clientFrame(.text, [0x62]), 1002),
        ("invalid UTF-8", clientFrame(.text, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80]), 1007),
        ("text ends mid-character", clientFrame(.text, [0xE2, 0x82]), 1007),
        ("close with 1 byte", clientFrame(.close, [0x03]), 1002),
        ("close code 999", clientFrame(.close, [0x03, 0xE7]), 1002),
        ("close code 1005", clientFrame(.close, [0x03, 0xED]), 1002),
        ("close code 1015", clientFrame(.close, [0x03, 0xF7]), 1002),
        ("close code 2999", clientFrame(.close, [0x0B, 0xB7]), 1002),
        ("close code 5000", clientFrame(.close, [0x13, 0x88]), 1002),
        ("close reason not UTF-8", clientFrame(.close, [0x03, 0xE8, 0xFF]), 1007),
        ("message over the limit", clientFrame(.binary, [UInt8](repeating: 0, count: 2000)), 1009),
        ("64-bit length with its top bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], 1002),
    ] as [(String, [UInt8], UInt16)])
    func protocolErrors(_ name: String, _ bytes: [UInt8], _ code: UInt16) {
        var ws = machine(max: 1000)
        let actions = run(&ws, bytes)
        #expect(closeCode(actions) == code, "\(name): \(actions)")
        // The server says why in a close frame before it closes.
        if case .write(let frame)? = actions.first {
            #expect(frame.count >= 4 && frame[0] == 0x88 && UInt16(frame[2]) << 8 | UInt16(frame[3]) == code)
        } else {
            Issue.record("\(name): no close frame")
        }
        #expect(ws.state == .closed)
    }

    @Test func invalidUTF8FailsFastOnTheFirstFragment() {
        var ws = machine()
        let actions = run(&ws, clientFrame(.text, [0x61, 0xFF], fin: false))
        #expect(closeCode(actions) == 1007) // no need to wait for the rest of the message
    }

    @Test func theCloseHandshakeEchoesTheCode() {
        var ws = machine()
        let actions = run(&ws, clientFrame(.close, [0x03, 0xE8] + Array("bye".utf8)))
        #expect(actions == [.write([0x88, 0x02, 0x03, 0xE8]), .close(code: 1000, reason: "bye")])
        var empty = machine()
        #expect(run(&empty, clientFrame(.close, [])) == [.write([0x88, 0x00]), .close(code: 1005, reason: "")])
        #expect(run(&empty, clientFrame(.text, [0x61])).isEmpty) // nothing after the close
    }

    @Test func aCloseWeStartWaitsForTheClientsClose() {
        var ws = machine()
        #expect(ws.close(code: 1001, reason: "going") == [0x88, 0x07, 0x03, 0xE9] + Array("going".utf8))
        #expect(ws.state == .closeSent)
        #expect(run(&ws, clientFrame(.text, [0x61])).isEmpty) // data after our close is dropped
        #expect(run(&ws, clientFrame(.close, [0x03, 0xE9])) == [.close(code: 1000, reason: "the close handshake is complete")])
    }

    @Test func deflatedRoundTripWithContextTakeover() throws {
        var ws = try WebSocketConnection(configuration: .init(deflate: PerMessageDeflate.Parameters()))
        let text = String(repeating: "all work and no play makes jack a dull boy ", count: 50)
        let sent = ws.send(.text(text))
        #expect(sent[0] == 0xC1)      // FIN + RSV1 + text
        #expect(sent.count < text.utf8.count / 5)
        let again = ws.send(.text(text))
        #expect(again.count < sent.count) // the second copy refers back to the first (context takeover)
        // And the server reads what a client compresses the same way.
        let client = try WebSocketConnection(configuration: .init(deflate: PerMessageDeflate.Parameters()))
        var frames = WebSocketFrameParser(maxPayload: 1 << 20)
        frames.append(client.send(.text(text)))
        let payload = try #require(try frames.next()).payload
        #expect(run(&ws, clientFrame(.text, payload, rsv1: true)) == [.message(.text(text))])
    }

    @Test func aDeflateBombIsStoppedAtTheLimit() throws {
        var ws = try WebSocketConnection(configuration: .init(maxMessageBytes: 10_000, deflate: PerMessageDeflate.Parameters()))
        var sender = try WebSocketConnection(configuration: .init(deflate: PerMessageDeflate.Parameters()))
        var frames = WebSocketFrameParser(maxPayload: 1 << 20)
        frames.append(sender.send(.init(opcode: .binary, payload: [UInt8](repeating: 0, count: 1_000_000))))
        let payload = try #require(try frames.next()).payload
        #expect(payload.count < 10_000)
        #expect(closeCode(run(&ws, clientFrame(.binary, payload, rsv1: true))) == 1009)
        _ = sender.close(code: 1000, reason: "")
    }
}
