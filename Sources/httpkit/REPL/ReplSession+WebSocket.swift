import Foundation
import HTTPCore
import Sockets

/// The REPL's WebSocket mode: `:ws PATH` sends the opening handshake on the current connection and, once
/// the 101 is in, each typed line goes out as a masked text frame; `:ping`, `:close` and `:frame` send
/// control frames and frames with chosen bits. Every frame sent or received is dumped field by field.
struct ReplWebSocket {
    /// The path the handshake asked for.
    var path: String
    /// We sent a close frame: the server's close ends the closing handshake (§7.1.2).
    var closeSent = false
}

extension ReplSession {
    /// The WebSocket commands; false when `name` is not one of them (the HTTP commands handle it).
    func webSocketCommand(_ name: String, _ argument: String) -> Bool {
        switch name {
        case ":ws":
            openWebSocket(argument)
        case ":ping", ":frame":
            guard webSocket != nil else {
                output.line("!! \(name) needs WebSocket mode: :ws /ws first (the httpkit websocket stage serves /ws and /chat)")
                return true
            }
            if name == ":ping" {
                sendFrame(WebSocketFrame(opcode: .ping, maskingKey: Self.maskingKey(), payload: Array(argument.utf8)), what: "ping")
            } else {
                do {
                    let frame = try ReplInput.frame(argument, key: Self.maskingKey())
                    sendFrame(frame, what: "frame with chosen bits")
                } catch {
                    output.line("!! \(error.reason)")
                }
            }
        case ":close" where webSocket != nil:
            // :close [CODE [REASON]]: no code is an empty close payload (the receiver reports 1005).
            let words = argument.split(separator: " ", maxSplits: 1).map(String.init)
            var payload: [UInt8] = []
            if let first = words.first {
                guard let code = UInt16(first) else {
                    output.line("!! :close [CODE [REASON]], such as :close 1000 bye (a close code is a number, 1000 is normal)")
                    return true
                }
                payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array((words.count > 1 ? words[1] : "").utf8)
            }
            sendFrame(WebSocketFrame(opcode: .close, maskingKey: Self.maskingKey(), payload: payload), what: "close")
        default:
            return false
        }
        return true
    }

    /// A typed line in WebSocket mode: one masked text frame.
    func sendWebSocketText(_ line: String) {
        sendFrame(WebSocketFrame(opcode: .text, maskingKey: Self.maskingKey(), payload: Array(line.utf8)), what: "text frame")
    }

    /// A fresh masking key per frame, as §5.3 asks (unpredictable, so a proxy cannot be fed chosen bytes).
    static func maskingKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    // MARK: - The opening handshake

    private func openWebSocket(_ path: String) {
        if let webSocket {
            output.line("!! already in WebSocket mode on \(webSocket.path); :close 1000 ends it")
            return
        }
        guard path.hasPrefix("/"), !path.contains(" ") else {
            output.line("!! :ws PATH, such as :ws /ws (the httpkit websocket stage serves /ws and /chat)")
            return
        }
        guard let socket = ensureConnection() else { return }
        var generator = SystemRandomNumberGenerator()
        let key = Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let request = ReplInput.buildRequest(lines: ["GET \(path) HTTP/1.1", "Host: \(address)", "Upgrade: websocket", "Connection: Upgrade",
                                                     "Sec-WebSocket-Key: \(key)", "Sec-WebSocket-Version: 13"],
                                             host: address, body: nil)
        requestsOnConnection += 1
        output.line(">> sent \(request.count) bytes to \(address) (connection #\(connectionNumber), opening handshake for \(path))")
        output.dump(request, as: .request, settings: settings, method: nil)
        let started = Processes.monotonicSeconds()
        do {
            try write(request, to: socket)
        } catch {
            output.line("!! \(error): the server closed the connection before it had the handshake")
            closeConnection(note: nil)
            return
        }
        // The response head; a 101 ends there (frames may follow), any other response has its body read too.
        var received: [UInt8] = []
        var closedByServer = false, reads = 0
        let deadline = started + settings.timeout
        while !Self.responseIsComplete(received) {
            let remaining = deadline - Processes.monotonicSeconds()
            guard remaining > 0, waitReadable(socket, milliseconds: Int32(remaining * 1000)) else { break }
            guard let bytes = readChunk(socket) else { continue } // TLS: no whole record yet
            guard !bytes.isEmpty else {
                closedByServer = true
                break
            }
            reads += 1
            received += bytes
        }
        guard !received.isEmpty else {
            output.line("<< nothing received within \(settings.timeout) s")
            if closedByServer { closeConnection(note: "the server closed it") }
            return
        }
        output.line("<< received \(received.count) bytes from \(address)\(timing(since: started, reads: reads))")
        output.dump(received, as: .response, settings: settings, method: "GET")
        let analysis = WireAnalysis(received, as: .response)
        let status = analysis.messages.first?.elements.first?.note ?? ""
        let accept = Self.headerValue("Sec-WebSocket-Accept", in: received)
        let expected = WebSocketHandshake.accept(forKey: key)
        if status.hasPrefix("status-line  101") {
            guard accept == expected else {
                output.line("!! Sec-WebSocket-Accept is \(accept ?? "missing"), expected \(expected): a client must fail the connection (§4.1)")
                closeConnection(note: "we closed: the handshake is not valid")
                return
            }
            webSocket = ReplWebSocket(path: path)
            output.line("== switched to WebSocket on \(path): Sec-WebSocket-Accept \(expected) = base64(SHA-1(key + \(WebSocketHandshake.guid)))")
            output.line("-- a typed line goes out as a masked text frame; :ping [TEXT], :close [CODE [REASON]], :frame KEY=VALUE …")
            if closedByServer { closeConnection(note: "the server closed it") }
        } else {
            output.line("-- the server did not switch protocols: the connection still speaks HTTP")
            if closedByServer { closeConnection(note: "the server closed it") }
        }
    }

    /// Whether `bytes` hold a whole response: a 101's head, or any other response with its body.
    private static func responseIsComplete(_ bytes: [UInt8]) -> Bool {
        guard bytes.firstRange(of: Array("\r\n\r\n".utf8)) != nil else { return false }
        if bytes.starts(with: Array("HTTP/1.1 101".utf8)) { return true }
        var parser = ResponseParser(requestMethod: "GET")
        parser.append(bytes)
        do {
            return try parser.next() != nil
        } catch {
            return true // it will not parse however long we wait: show what there is
        }
    }

    /// The first value of header `name` in a response head.
    private static func headerValue(_ name: String, in bytes: [UInt8]) -> String? {
        let head = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n").first ?? ""
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    // MARK: - Frames

    /// Sends one frame, dumps it, then dumps the frames that come back.
    private func sendFrame(_ frame: WebSocketFrame, what: String) {
        guard let socket = connection else {
            output.line("!! the connection is gone")
            webSocket = nil
            return
        }
        let bytes = frame.encoded()
        output.line(">> sent \(bytes.count) bytes to \(address) (connection #\(connectionNumber), \(what))")
        output.dump(WireAnalysis(webSocketFrames: bytes, from: .client), settings: settings)
        let started = Processes.monotonicSeconds()
        do {
            try write(bytes, to: socket)
        } catch {
            output.line("!! \(error): the server closed the connection")
            closeConnection(note: nil)
            return
        }
        if frame.opcode == .close { webSocket?.closeSent = true }
        receiveFrames(on: socket, started: started)
    }

    /// Reads until whole frames have arrived and nothing more follows for a moment, the server closes, or
    /// the timeout passes; dumps them; answers a server's close (§5.5.1) and ends the mode after a close.
    private func receiveFrames(on socket: any ClientStream, started: Double) {
        var received: [UInt8] = []
        var reads = 0
        var closedByServer = false, timedOut = false
        let deadline = started + settings.timeout
        while true {
            let whole = !received.isEmpty && Self.frames(in: received).whole
            // Once whole frames are in, wait only a moment for more (an echo and a close can come together).
            let wait = whole ? 0.2 : deadline - Processes.monotonicSeconds()
            guard wait > 0, waitReadable(socket, milliseconds: Int32(wait * 1000)) else {
                timedOut = !whole
                break
            }
            guard let bytes = readChunk(socket) else { continue } // TLS: no whole record yet
            guard !bytes.isEmpty else {
                closedByServer = true
                break
            }
            reads += 1
            received += bytes
        }
        if received.isEmpty {
            output.line(timedOut ? "<< nothing received within \(settings.timeout) s" : "<< nothing received")
        } else {
            output.line("<< received \(received.count) bytes from \(address)\(timing(since: started, reads: reads))")
            output.dump(WireAnalysis(webSocketFrames: received, from: .server), settings: settings)
        }
        if let close = Self.frames(in: received).frames.first(where: { $0.opcode == .close }) {
            let code = WireWebSocket.closeFields(close.payload).code
            let said = code.map { "close \($0) \(WebSocketCloseCode.name($0))" } ?? "close without a code"
            if webSocket?.closeSent == true {
                output.line("== the closing handshake is complete (the server answered: \(said))")
            } else if !closedByServer {
                // §5.5.1: an endpoint that receives a close answers with one, echoing the code.
                let payload = code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []
                let reply = WebSocketFrame(opcode: .close, maskingKey: Self.maskingKey(), payload: payload).encoded()
                output.line(">> sent \(reply.count) bytes to \(address) (connection #\(connectionNumber), the close reply §5.5.1 asks for)")
                output.dump(WireAnalysis(webSocketFrames: reply, from: .client), settings: settings)
                try? socket.writeAll(reply)
            }
            closeConnection(note: closedByServer ? "the server closed it" : "the closing handshake is complete")
        } else if closedByServer {
            closeConnection(note: "the server closed it")
        }
    }

    /// The whole frames in `bytes`, and whether they end on a frame boundary (nothing cut short).
    private static func frames(in bytes: [UInt8]) -> (frames: [WebSocketFrame], whole: Bool) {
        var parser = WebSocketFrameParser(maxPayload: 1 << 40)
        parser.append(bytes)
        var frames: [WebSocketFrame] = []
        do {
            while let frame = try parser.next() { frames.append(frame) }
        } catch {
            return (frames, true) // a length no parser accepts: show what there is
        }
        return (frames, parser.pendingBytes == 0)
    }

    private func timing(since started: Double, reads: Int) -> String {
        guard settings.showTiming else { return "" }
        let elapsed = (Processes.monotonicSeconds() - started) * 1000
        return " in \(String(format: "%.1f", elapsed)) ms (\(reads) read\(reads == 1 ? "" : "s"))"
    }
}
