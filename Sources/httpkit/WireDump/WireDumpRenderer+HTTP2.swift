import HTTPCore

extension WireDumpRenderer {
    /// The lines under a run of HTTP/2 frames: what the connection said, then each stream — its request or
    /// status line from the pseudo-header fields, its data, how it ended — and its body as text.
    ///
    ///     == http2 frames from the server: 170 bytes, 4 frames
    ///        connection: SETTINGS MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=1048576; SETTINGS ACK
    ///        stream 1: 200, 5 fields, 48 bytes of DATA in 1 frame, END_STREAM
    ///           Hello from httpkit!⏎
    func http2Summary(_ message: WireMessage, _ http2: WireHTTP2) -> [String] {
        var text = "== \(message.kind.rawValue) from the \(http2.sender.rawValue): \(WireAnalysis.bytesText(message.length)), "
            + (http2.preface ? "preface + " : "") + "\(http2.frames) frame\(http2.frames == 1 ? "" : "s")"
        if !http2.streams.isEmpty { text += " on \(http2.streams.count) stream\(http2.streams.count == 1 ? "" : "s")" }
        var lines = [palette.paint(text, .summary)]
        if !http2.connectionEvents.isEmpty { lines.append("   connection: " + http2.connectionEvents.joined(separator: "; ")) }
        for stream in http2.streams {
            lines.append("   stream \(stream.id): " + Self.describe(stream))
            if !stream.data.isEmpty { lines += preview(stream.data).map { "   " + $0 } }
        }
        return lines
    }

    /// "GET /hello.txt (host 127.0.0.1:8080), 4 fields, END_STREAM" or "200, 5 fields, 48 bytes of DATA in 1 frame".
    static func describe(_ stream: WireHTTP2.Stream) -> String {
        func value(_ name: String) -> String? { stream.fields.first { $0.nameString == name }?.valueString }
        var parts: [String] = []
        if let status = value(":status") {
            parts.append(status)
        } else if let method = value(":method") {
            parts.append("\(method) \(value(":path") ?? "?")" + (value(":authority").map { " (authority \($0))" } ?? ""))
        }
        if !stream.fields.isEmpty { parts.append("\(stream.fields.count) field\(stream.fields.count == 1 ? "" : "s")") }
        if stream.dataFrames > 0 {
            parts.append("\(WireAnalysis.bytesText(stream.data.count)) of DATA in \(stream.dataFrames) frame\(stream.dataFrames == 1 ? "" : "s")")
        }
        if stream.endStream { parts.append("END_STREAM") }
        if let reset = stream.reset { parts.append("reset: \(reset)") }
        return parts.isEmpty ? "no headers or data here" : parts.joined(separator: ", ")
    }
}
