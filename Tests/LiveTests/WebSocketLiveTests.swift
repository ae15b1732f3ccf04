import Foundation
import HTTPCore
import Sockets
import Testing

/// A raw WebSocket client for tests: the handshake by hand, masked frames out, frames in.
struct RawWebSocket {
    let client: RawClient
    var frames = WebSocketFrameParser(maxPayload: 64 << 20)
    /// What arrived after the 101's head.
    var handshake = ""

    init(port: UInt16, path: String = "/ws", extensions: String? = nil) throws {
        client = try RawClient(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let extensions { request += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        try client.send(request + "\r\n")
        var head: [UInt8] = []
        while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) { head += try client.read(count: 1) }
        handshake = String(decoding: head, as: UTF8.self)
    }

    func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) throws {
        try client.send(WebSocketFrame(fin: fin, opcode: opcode, maskingKey: masked ? [9, 8, 7, 6] : nil, payload: payload).encoded())
    }

    func send(text: String) throws { try send(.text, Array(text.utf8)) }

    /// The next frame; nil when the server closed the connection.
    mutating func next() throws -> WebSocketFrame? {
        while true {
            if let frame = try frames.next() { return frame }
            guard let bytes = try client.socket.read() else { throw TestFailure("no frame within the timeout") }
            if bytes.isEmpty { return nil }
            frames.append(bytes)
        }
    }

    mutating func nextText() throws -> String? {
        guard let frame = try next() else { return nil }
        return String(decoding: frame.payload, as: UTF8.self)
    }

    /// The code of the next frame, which must be a close frame.
    mutating func closeCode() throws -> UInt16? {
        guard let frame = try next(), frame.opcode == .close, frame.payload.count >= 2 else { return nil }
        return UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
    }
}

@Suite("the websocket stage", .serialized)
final class WebSocketLiveTests {
    let server: ServerProcess

    init() throws {
        server = try ServerProcess(["websocket", "--max-message", "2000000"])
    }

    deinit { server.stop() }

    @Test func handshakeAndEchoOfEveryLengthForm() throws {
        var ws = try RawWebSocket(port: server.port)
        #expect(ws.handshake.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(ws.handshake.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(ws.handshake.contains("\r\nUpgrade: websocket\r\n"))
        for size in [0, 125, 126, 65_535, 65_536, 1_000_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try ws.send(.binary, payload)
            let frame = try #require(try ws.next())
            #expect(frame.opcode == .binary && frame.payload == payload && frame.maskingKey == nil, "\(size) bytes")
        }
        // Fragments with a ping between them: the pong comes first, then the whole message.
        try ws.send(.text, Array("Hel".utf8), fin: false)
        try ws.send(.ping, Array("in between".utf8))
        try ws.send(.continuation, Array("lo".utf8))
        #expect(try ws.next() == WebSocketFrame(opcode: .pong, payload: Array("in between".utf8)))
        #expect(try ws.nextText() == "Hello")
        // The close handshake: our code echoed, then the server closes TCP.
        try ws.send(.close, [0x03, 0xE8])
        #expect(try ws.closeCode() == 1000)
        #expect(try ws.next() == nil)
    }

    @Test("protocol errors are answered with their close code, then the connection closes", arguments: [
        ("unmasked", 1002), ("reserved opcode", 1002), ("invalid UTF-8", 1007), ("too big", 1009), ("bad close code", 1002),
    ] as [(String, UInt16)])
    func protocolErrors(_ kind: String, _ code: UInt16) throws {
        var ws = try RawWebSocket(port: server.port)
        switch kind {
        case "unmasked": try ws.send(.text, Array("hi".utf8), masked: false)
        case "reserved opcode": try ws.send(WebSocketOpcode(rawValue: 5), [])
        case "invalid UTF-8": try ws.send(.text, [0x68, 0xC3, 0x28], fin: false)
        case "too big": try ws.send(.binary, [UInt8](repeating: 1, count: 2_000_001))
        default: try ws.send(.close, [0x03, 0xED]) // 1005 may not be sent
        }
        #expect(try ws.closeCode() == code, "\(kind)")
        #expect(try ws.next() == nil, "\(kind): the connection closes after the close frame")
    }

    @Test func handshakeRefusalsAreHTTPErrors() throws {
        let base = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nConnection: close\r\n"
        let noKey = try RawClient.exchange(port: server.port, base + "Sec-WebSocket-Version: 13\r\n\r\n")
        #expect(noKey.status == 400)
        #expect(noKey.text.contains("Sec-WebSocket-Key is missing"))
        let version = try RawClient.exchange(port: server.port, base + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        #expect(version.status == 426)
        #expect(version.header("Sec-WebSocket-Version") == "13")
        let plain = try curl(["-s", "-i", "http://127.0.0.1:\(server.port)/ws"])
        #expect(plain.stdout.hasPrefix("HTTP/1.1 426 Upgrade Required"))
        // The router's routes are all still there.
        #expect(try RawClient.exchange(port: server.port, "GET /echo/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text == "abc")
    }

    @Test func permessageDeflateIsNegotiatedAndUsed() throws {
        var ws = try RawWebSocket(port: server.port, extensions: "permessage-deflate; client_max_window_bits")
        #expect(ws.handshake.contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"))
        // RFC 7692 §7.2.3.1: "Hello", compressed, RSV1 set.
        try ws.client.send(WebSocketFrame(rsv1: true, opcode: .text, maskingKey: [1, 2, 3, 4],
                                          payload: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]).encoded())
        #expect(try ws.nextText() == "Hello") // short: sent back uncompressed
        let long = String(repeating: "permessage-deflate ", count: 100)
        var client = try WebSocketConnection(configuration: .init(deflate: PerMessageDeflate.Parameters()))
        var parser = WebSocketFrameParser(maxPayload: 1 << 20)
        parser.append(client.send(.text(long)))
        let compressed = try #require(try parser.next()).payload
        try ws.client.send(WebSocketFrame(rsv1: true, opcode: .text, maskingKey: [1, 2, 3, 4], payload: compressed).encoded())
        let echoed = try #require(try ws.next())
        #expect(echoed.rsv1, "a long message comes back compressed")
        #expect(echoed.payload.count < long.utf8.count / 4)
        _ = client.close(code: 1000, reason: "")
    }

    @Test func chatBroadcastsAndDropsAMemberTooSlowToRead() throws {
        var alice = try RawWebSocket(port: server.port, path: "/chat")
        let aliceName = try #require(try alice.nextText())
        #expect(aliceName.hasPrefix("* you are guest-"))
        var bob = try RawWebSocket(port: server.port, path: "/chat")
        _ = try bob.nextText()
        #expect(try alice.nextText()?.hasSuffix(" joined") == true)
        try bob.send(text: "hi alice")
        #expect(try alice.nextText()?.hasSuffix(": hi alice") == true)
        #expect(try bob.nextText()?.hasSuffix(": hi alice") == true)

        // A member that never reads: alice floods; the server drops the slow one instead of buffering
        // without bound, and alice hears about it.
        let slow = try RawWebSocket(port: server.port, path: "/chat")
        #expect(try alice.nextText()?.hasSuffix(" joined") == true)
        #expect(try bob.nextText()?.hasSuffix(" joined") == true)
        let before = try #require(server.memoryKB("VmRSS"))
        let line = String(repeating: "x", count: 60_000)
        var dropped = false
        for _ in 0..<400 where !dropped {
            try alice.send(text: line)
            // Alice and Bob read everything, so only the slow member falls behind.
            while let text = try alice.nextText() {
                if text.contains("was dropped") { dropped = true }
                if text.hasSuffix(line) { break }
            }
            while let text = try bob.nextText(), !text.hasSuffix(line) {}
        }
        #expect(dropped, "the slow member was dropped")
        let after = try #require(server.memoryKB("VmRSS"))
        #expect(after - before < 64 * 1024, "memory grew by \(after - before) kB")
        slow.client.close()
    }

    @Test func pythonWebsocketsLibraryAsAClient() throws {
        let script = """
        import asyncio, sys
        from websockets.asyncio.client import connect
        async def main():
            async with connect(sys.argv[1], max_size=None) as ws:
                big = bytes(range(256)) * 4096
                await ws.send(big)
                assert await ws.recv() == big, "1 MB binary"
                text = "κόσμε " * 100000
                await ws.send(text)
                assert await ws.recv() == text, "1 MB text"
                for i in range(1000):
                    await ws.send(f"message {i}")
                for i in range(1000):
                    assert await ws.recv() == f"message {i}", i
                await (await ws.ping(b"python"))
            print("ok", ws.response.headers.get("Sec-WebSocket-Extensions"))
        asyncio.run(main())
        """
        guard let python = which("python3"), (try? run(python, ["-c", "import websockets"]))?.status == 0 else {
            Issue.record("Python's websockets package is not installed (scripts/setup installs it)")
            return
        }
        let result = try run(python, ["-c", script, "ws://127.0.0.1:\(server.port)/ws"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok permessage-deflate"))
    }

    @Test func httpkitCheckPassesAgainstItsOwnWebSocketStage() throws {
        let result = try run(HTTPKitBinary.path, ["check", "--stage", "websocket", "--target", "127.0.0.1:\(server.port)"],
                             timeout: 60, environment: ["HTTPKIT_PROGRESS": NSTemporaryDirectory() + "httpkit-progress-\(UUID().uuidString)"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✔"))
    }

    @Test(.timeLimit(.minutes(2))) func twoBrowserPagesChatThroughTheServer() throws {
        guard let chromium = BrowserLiveTests.chromium else {
            if BrowserLiveTests.required { Issue.record("Chromium is not installed, and HTTPKIT_REQUIRE_BROWSER=1 (CI) requires it") }
            return
        }
        let script = HTTPKitBinary.repository.appendingPathComponent("Tests/LiveTests/Fixtures/chat_two_pages.py").path
        let result = try run(which("python3") ?? "/usr/bin/python3", [script, chromium, "http://127.0.0.1:\(server.port)"], timeout: 90)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr.suffix(800))")
        #expect(result.stdout.contains("Echo OK (extensions: permessage-deflate)"))
        #expect(result.stdout.contains("Connected (extensions: permessage-deflate)"))
    }

    /// A peer that goes quiet is pinged; one that does not answer is closed, one that answers is kept.
    @Test func quietPeersArePingedAndDeadOnesClosed() throws {
        let quick = try ServerProcess(["websocket", "--ping-interval", "0.5"])
        defer { quick.stop() }
        var alive = try RawWebSocket(port: quick.port)
        var dead = try RawWebSocket(port: quick.port)
        let started = Date()
        let ping = try #require(try alive.next())
        #expect(ping.opcode == .ping)
        #expect(Date().timeIntervalSince(started) < 2)
        try alive.send(.pong, ping.payload)
        #expect(try dead.next()?.opcode == .ping)
        // The dead one never answers: closed within about another interval.
        #expect(try dead.next() == nil)
        #expect(Date().timeIntervalSince(started) < 4)
        // The live one is still served.
        try alive.send(text: "still here")
        var text: String?
        repeat { text = try alive.nextText() } while text == "are you there?"
        #expect(text == "still here")
    }
}
