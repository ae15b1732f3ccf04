import HTTPCore

extension WireDumpRenderer {
    /// The line under a run of WebSocket frames, then one line per message they carried:
    ///
    ///     == websocket frames from the server: 13 bytes, 3 frames, 3 messages
    ///        text: "Hello"
    ///        ping: "x"
    ///        close: 1000 normal closure
    func webSocketSummary(_ message: WireMessage, _ frames: WireWebSocket) -> [String] {
        let count = frames.messages.count
        var text = "== \(message.kind.rawValue) from the \(frames.sender.rawValue): \(WireAnalysis.bytesText(message.length)), "
            + "\(frames.frames) frame\(frames.frames == 1 ? "" : "s"), \(count) message\(count == 1 ? "" : "s")"
        if frames.deflate { text += " (permessage-deflate)" }
        var lines = [palette.paint(text, .summary)]
        let limit = max(1, options.bodyPreviewBytes / 20)
        for item in frames.messages.prefix(limit) {
            var label = item.opcode.isReserved ? "opcode \(item.opcode.rawValue)" : item.opcode.description
            var details: [String] = []
            if item.frames > 1 { details.append("\(item.frames) frames") }
            if let compressed = item.compressedBytes { details.append("\(compressed) bytes compressed → \(item.payload.count)") }
            if !item.complete { details.append("unfinished: \(WireAnalysis.bytesText(item.payload.count)) so far") }
            if !details.isEmpty { label += " (\(details.joined(separator: ", ")))" }
            let shown: String
            if item.opcode == .close {
                let (code, reason) = WireWebSocket.closeFields(item.payload)
                shown = code.map { "\($0) \(WebSocketCloseCode.name($0))" + (reason.isEmpty ? "" : ", reason \(WireWebSocket.show(reason, asText: true))") }
                    ?? "no status code"
            } else {
                let asText: Bool? = item.opcode == .text ? true : item.opcode == .binary ? false : nil
                shown = WireWebSocket.show(item.payload, asText: asText, limit: options.bodyPreviewBytes / 2)
            }
            lines.append("   \(label): \(shown)")
        }
        if count > limit { lines.append("   … (\(count - limit) more messages)") }
        return lines
    }
}
