import HTTPCore

extension WireDumpRenderer {
    /// The line under each message (`== response: 192 bytes; body: …`), then its body as text. WebSocket
    /// frames have their own summary (WireDumpRenderer+WebSocket.swift), and so do TLS records (+TLS.swift) and HTTP/2 frames (+HTTP2.swift).
    func summary(_ message: WireMessage) -> [String] {
        if let frames = message.webSocket { return webSocketSummary(message, frames) }
        if let tls = message.tls { return tlsSummary(message, tls) }
        if let http2 = message.http2 { return http2Summary(message, http2) }
        var lines: [String] = []
        var text = "== \(message.kind.rawValue): \(WireAnalysis.bytesText(message.length))"
        if let body = message.body {
            text += "; body: \(WireAnalysis.bytesText(body.wireBytes))"
            if body.chunks > 0 { text += " in \(body.chunks) chunk\(body.chunks == 1 ? "" : "s") (+\(body.framingBytes) framing bytes)" }
            if let gzip = body.gzip {
                switch gzip {
                case .decoded(let decoded):
                    let ratio = body.payload.isEmpty ? 0 : Double(decoded.count) / Double(body.payload.count)
                    text += ", gzip → \(decoded.count) bytes decoded (ratio \(Self.twoDecimals(ratio)))"
                case .failed(let reason):
                    text += ", gzip that does not decode: \(reason)"
                }
            }
        } else {
            text += "; no body"
        }
        lines.append(palette.paint(text, .summary))
        if let body = message.body {
            let shown: [UInt8]
            switch body.gzip {
            case .decoded(let decoded)?: shown = decoded
            case .failed?: shown = []
            case nil: shown = body.payload
            }
            if !shown.isEmpty { lines += preview(shown) }
        }
        return lines
    }

    /// The body as text, lines prefixed, ⏎ for each newline; binary bodies are only counted.
    func preview(_ body: [UInt8]) -> [String] {
        let head = body.prefix(options.bodyPreviewBytes)
        // More than one byte in ten a control character: printing it would only garble the terminal.
        let binary = head.filter { $0 < 0x20 && $0 != ASCII.lf && $0 != ASCII.cr && $0 != ASCII.tab }.count
        if binary > head.count / 10 { return ["   <\(body.count) bytes of binary data>"] }
        // CR before the split: "\r\n" is one Character, which a split on "\n" would not see.
        let text = String(decoding: head, as: UTF8.self).replacing("\r\n", with: (options.ascii ? "\\r" : "␍") + "\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            "   " + line.replacing("\r", with: options.ascii ? "\\r" : "␍")
        }
        if text.hasSuffix("\n") { lines.removeLast() }
        if body.count > head.count { lines.append("   … (\(body.count - head.count) more bytes)") }
        return lines
    }

    /// "1.43": two decimals without Foundation's locale-dependent formatting, so golden files stay stable.
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = String(hundredths % 100)
        return "\(hundredths / 100).\(String(repeating: "0", count: 2 - fraction.count))\(fraction)"
    }
}
