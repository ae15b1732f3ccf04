import Foundation
import HTTPCore
import Sockets
import Stages

/// A WebSocket client for the checks: the RFC's handshake, masked frames out, frames in.
struct WebSocketCheckClient {
    let client: CheckClient
    var parser = WebSocketFrameParser(maxPayload: 1 << 24)
    /// Everything received, for the wire dump of a failure.
    var raw: [UInt8] = []

    /// The §1.3 example key: the answer must be `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func handshakeRequest(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }

    /// Connects and upgrades; the error says what was wrong with the server's answer.
    static func open(_ target: CheckTarget, path: String = "/ws") throws -> WebSocketCheckClient {
        let client = try CheckClient.connect(target)
        guard client.send(handshakeRequest(path)) else {
            throw CheckProblem("the server stopped reading the handshake (\(client.reception.sendError ?? "write failed"))")
        }
        var head: [UInt8] = []
        let end = Array("\r\n\r\n".utf8)
        while head.suffix(4) != end[...] && head.count < 16 * 1024 {
            guard let bytes = try client.socket.read(maxBytes: 1), !bytes.isEmpty else { break }
            head += bytes
        }
        var socket = WebSocketCheckClient(client: client)
        socket.raw = head
        let text = String(decoding: head, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 101") else {
            throw CheckProblem("expected 101 Switching Protocols, got \(text.prefix { $0 != "\r" })")
        }
        guard text.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") else {
            throw CheckProblem("Sec-WebSocket-Accept is not base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11))")
        }
        return socket
    }

    func send(_ opcode: WebSocketOpcode, _ payload: [UInt8], masked: Bool = true) throws {
        guard client.send(WebSocketFrame(opcode: opcode, maskingKey: masked ? [0x12, 0x34, 0x56, 0x78] : nil, payload: payload).encoded()) else {
            throw CheckProblem("sending a frame failed (\(client.reception.sendError ?? "write failed")): the server closed the connection")
        }
    }

    /// The next frame from the server, or nil if it closed or went quiet for 3 s.
    mutating func next() throws -> WebSocketFrame? {
        while true {
            if let frame = try parser.next() { return frame }
            guard let bytes = try client.socket.read(), !bytes.isEmpty else { return nil }
            raw += bytes
            parser.append(bytes)
        }
    }
}

struct CheckProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension CheckCatalog {
    static func reproduceWebSocket(_ target: CheckTarget) -> String {
        "python3 -m websockets ws://\(target.host):\(target.shownPort ?? target.port)/ws"
    }

    /// Runs `body` against a fresh WebSocket connection to /ws; any thrown problem is a failure.
    static func withWebSocket(_ target: CheckTarget, expected: String,
                              _ body: (inout WebSocketCheckClient) throws -> String?) -> CheckOutcome {
        var socket: WebSocketCheckClient
        do {
            socket = try WebSocketCheckClient.open(target)
        } catch {
            return .fail(expected: "101 Switching Protocols with the right Sec-WebSocket-Accept", got: Reception(failure: error), note: nil,
                         reproduce: Reproduce.raw(target, WebSocketCheckClient.handshakeRequest("/ws")))
        }
        defer { socket.client.close() }
        do {
            if let problem = try body(&socket) {
                return .fail(expected: expected, got: Reception(bytes: socket.raw), note: problem, reproduce: reproduceWebSocket(target))
            }
            return .pass
        } catch {
            return .fail(expected: expected, got: Reception(bytes: socket.raw), note: "\(error)", reproduce: reproduceWebSocket(target))
        }
    }

    static let webSocket: [Check] = [
        Check(stage: .websocket, name: "answers the RFC 6455 §1.3 key with the right Sec-WebSocket-Accept") { target in
            withWebSocket(target, expected: "101 and s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") { _ in nil }
        },
        Check(stage: .websocket, name: "refuses a handshake with Sec-WebSocket-Version 8 with 426 and the version it speaks") { target in
            let request = WebSocketCheckClient.handshakeRequest("/ws").replacing("Version: 13", with: "Version: 8")
            let (response, raw) = exchange(target, request)
            guard response?.status == 426, response?.headers["Sec-WebSocket-Version"] == "13" else {
                return .fail(expected: "426 with Sec-WebSocket-Version: 13", got: raw, note: nil, reproduce: Reproduce.raw(target, request))
            }
            return .pass
        },
        Check(stage: .websocket, name: "echoes text and binary messages of 0, 125, 126 and 65,536 bytes (all three length forms)") { target in
            withWebSocket(target, expected: "each message back, same opcode, same bytes") { socket in
                for (opcode, size) in [(WebSocketOpcode.text, 0), (.text, 125), (.binary, 126), (.binary, 65_536)] {
                    let payload = opcode == .text ? [UInt8](repeating: 0x61, count: size) : (0..<size).map { UInt8(truncatingIfNeeded: $0) }
                    try socket.send(opcode, payload)
                    guard let frame = try socket.next() else { return "no answer to a \(size)-byte \(opcode) message" }
                    guard frame.opcode == opcode, frame.payload == payload, frame.fin else {
                        return "a \(size)-byte \(opcode) message came back as \(frame.payload.count) bytes of \(frame.opcode)"
                    }
                    guard frame.maskingKey == nil else { return "server frames must not be masked (RFC 6455 §5.1)" }
                }
                return nil
            }
        },
        Check(stage: .websocket, name: "answers a ping with a pong carrying the same bytes") { target in
            withWebSocket(target, expected: "a pong with payload 'hi'") { socket in
                try socket.send(.ping, Array("hi".utf8))
                guard let frame = try socket.next() else { return "no pong" }
                return frame.opcode == .pong && frame.payload == Array("hi".utf8) ? nil : "got \(frame.opcode) with \(frame.payload.count) bytes"
            }
        },
        Check(stage: .websocket, name: "closes with 1002 when a client frame is not masked") { target in
            withWebSocket(target, expected: "a close frame with code 1002, then the connection closed") { socket in
                try socket.send(.text, Array("unmasked".utf8), masked: false)
                guard let frame = try socket.next() else { return "the connection closed without a close frame" }
                let code = frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : 0
                return frame.opcode == .close && code == 1002 ? nil : "got \(frame.opcode) with code \(code)"
            }
        },
        Check(stage: .websocket, name: "answers a close frame with a close frame and closes the connection") { target in
            withWebSocket(target, expected: "a close frame echoing 1000, then EOF") { socket in
                try socket.send(.close, [0x03, 0xE8])
                guard let frame = try socket.next() else { return "the connection closed without a close frame" }
                guard frame.opcode == .close else { return "got \(frame.opcode) instead of close" }
                return socket.client.closes(within: 3) ? nil : "the connection stayed open after the close handshake"
            }
        },
    ]
}
