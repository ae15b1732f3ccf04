/// WebSocket frames in the wire analysis (RFC 6455 §5.2). After a `101 Switching Protocols` the same byte
/// stream carries frames, and each is taken apart field by field, one element each:
///
///     81              FIN=1 RSV=000 opcode=1 text
///     85              MASK=1 length=5 (7-bit form)
///     37 fa 21 3d     masking key 37fa213d
///     7f 9f 4d 51 58  payload (masked) → "Hello"
///
/// with warnings for what a receiver would refuse: a client frame without MASK or a server frame with one
/// (§5.1), reserved bits and opcodes (§5.2), control frames over 125 bytes or fragmented (§5.5), a length
/// not in its shortest form, text that is not UTF-8 (§8.1), a frame cut short. Payloads marked RSV1 are
/// permessage-deflate compressed (RFC 7692) and shown inflated when the handshake negotiated it.

/// What the frames of one direction carried: who sent them, and the messages they make up.
public struct WireWebSocket: Sendable {
    /// Who sent the frames: a client masks every frame, a server none (§5.1).
    public enum Sender: String, Sendable, CaseIterable { case client, server }

    /// One message: a data message (all of its frames) or one control frame.
    public struct Message: Sendable {
        public var opcode: WebSocketOpcode
        /// Unmasked, and inflated when it was compressed and could be inflated.
        public var payload: [UInt8]
        public var frames: Int
        /// The payload's size on the wire when RSV1 marked it permessage-deflate compressed.
        public var compressedBytes: Int?
        /// False when the bytes end before the message does: a frame cut short, or no FIN frame yet.
        public var complete: Bool
    }

    public var sender: Sender
    /// permessage-deflate was negotiated: payloads marked RSV1 are inflated for display.
    public var deflate: Bool
    public var frames = 0
    public var messages: [Message] = []

    /// A payload for a person: quoted text (control characters escaped) when it is text, else hex bytes;
    /// at most `limit` bytes, then `…`.
    public static func show(_ payload: [UInt8], asText: Bool? = nil, limit: Int = 48) -> String {
        if payload.isEmpty { return "(empty)" }
        let head = Array(payload.prefix(limit))
        let more = payload.count > limit ? "…" : ""
        let text = asText ?? (UTF8Validator.isValid(payload) && !payload.contains { $0 < 0x20 && $0 != ASCII.tab && $0 != ASCII.lf && $0 != ASCII.cr })
        guard text else { return head.map { WireAnalyzer.hex2($0) }.joined(separator: " ") + (more.isEmpty ? "" : " …") }
        var out = ""
        for scalar in String(decoding: head, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\x" + WireAnalyzer.hex2(UInt8(scalar.value))
            default: out.unicodeScalars.append(scalar)
            }
        }
        return "\"\(out)\"\(more)"
    }

    /// A close frame's payload (§5.5.1): nothing, or a 2-byte code then a UTF-8 reason. nil code when empty.
    public static func closeFields(_ payload: [UInt8]) -> (code: UInt16?, reason: [UInt8]) {
        guard payload.count >= 2 else { return (nil, payload) }
        return (UInt16(payload[0]) << 8 | UInt16(payload[1]), Array(payload[2...]))
    }
}

extension WireAnalyzer {
    /// What a handshake message switched to: whose frames follow, and whether they may be compressed.
    struct WebSocketUpgrade {
        var sender: WireWebSocket.Sender
        var deflate: Bool
        var noContextTakeover: Bool
    }

    /// Whether the bytes after `message` are frames: it is a `101` with `Upgrade: websocket` (the server's
    /// frames follow), or a request with `Upgrade: websocket` followed by bytes that are not another request
    /// (a capture of the client's side). nil when nothing follows.
    func webSocketUpgrade(_ message: WireMessage, next: Int) -> WebSocketUpgrade? {
        guard next < bytes.count, message.body == nil, message.elements.last?.role == .boundary else { return nil }
        let upgrade = headerValues(message, "Upgrade").flatMap { $0.split(separator: ",") }
            .contains { ASCII.caseInsensitiveEquals(String($0).trimmingASCIIWhitespace(), "websocket") }
        guard upgrade else { return nil }
        let extensions = headerValues(message, "Sec-WebSocket-Extensions").joined(separator: ", ").lowercased()
        let deflate = extensions.contains("permessage-deflate")
        switch message.kind {
        case .response:
            guard message.elements.first?.note.hasPrefix("status-line  101") == true else { return nil }
            return WebSocketUpgrade(sender: .server, deflate: deflate, noContextTakeover: extensions.contains("server_no_context_takeover"))
        case .request:
            guard !looksLikeMessage(at: next) else { return nil }
            return WebSocketUpgrade(sender: .client, deflate: deflate, noContextTakeover: extensions.contains("client_no_context_takeover"))
        case .frames, .tls, .http2:
            return nil
        }
    }

    /// The values of the header fields named `name` in an analysed message, read back from its elements.
    func headerValues(_ message: WireMessage, _ name: String) -> [String] {
        message.elements.compactMap { element in
            guard element.role == .header, element.note.hasPrefix("header  "),
                  ASCII.caseInsensitiveEquals(String(element.note.dropFirst(8)), name) else { return nil }
            var line = bytes[element.range]
            while let last = line.last, last == ASCII.lf || last == ASCII.cr { line = line.dropLast() }
            guard let colon = line.firstIndex(of: ASCII.colon) else { return nil }
            return String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingASCIIWhitespace()
        }
    }

    /// A data message whose last frame (FIN=1) has not come yet.
    private struct OpenMessage {
        var opcode: WebSocketOpcode
        var payload: [UInt8] = []
        var frames = 0
        var compressed: Bool

        func finished(_ payload: [UInt8], complete: Bool) -> WireWebSocket.Message {
            WireWebSocket.Message(opcode: opcode, payload: payload, frames: frames,
                                  compressedBytes: compressed ? self.payload.count : nil, complete: complete)
        }
    }

    /// Every frame from `start` to the end of the bytes, all sent by `sender`, as one `.frames` message.
    func analyzeFrames(from start: Int, sender: WireWebSocket.Sender, deflate: Bool, noContextTakeover: Bool = false) -> WireMessage {
        var elements: [WireElement] = []
        var summary = WireWebSocket(sender: sender, deflate: deflate)
        let inflater = deflate ? try? PerMessageDeflate.Inflater() : nil
        var open: OpenMessage?
        var offset = start
        while offset < bytes.count && summary.frames < 10_000 {
            summary.frames += 1
            var parts: [WireElement] = []
            // Byte 0: FIN, RSV1-3, opcode.
            let b0 = bytes[offset]
            let fin = b0 & 0x80 != 0, rsv1 = b0 & 0x40 != 0, rsv2 = b0 & 0x20 != 0, rsv3 = b0 & 0x10 != 0
            let opcode = WebSocketOpcode(rawValue: b0)
            let isData = opcode == .text || opcode == .binary
            let compressed = rsv1 && deflate && isData
            var first = WireElement(range: offset..<(offset + 1), note: "FIN=\(fin ? 1 : 0) RSV=\(rsv1 ? 1 : 0)\(rsv2 ? 1 : 0)\(rsv3 ? 1 : 0) "
                                    + "opcode=\(String(opcode.rawValue, radix: 16, uppercase: true)) \(opcode.isReserved ? "reserved" : opcode.description)",
                                    role: .startLine)
            if compressed { first.note += "  (RSV1: permessage-deflate compressed)" }
            if rsv1 && !deflate { first.warnings.append("RSV1 set, but permessage-deflate was not negotiated (a protocol error, §5.2)") }
            if rsv1 && deflate && !isData {
                first.warnings.append("RSV1 on a \(opcode.isControl ? "control" : "continuation") frame: only a message's first frame carries it (RFC 7692 §6.1)")
            }
            if rsv2 || rsv3 { first.warnings.append("\(rsv2 ? "RSV2" : "RSV3")\(rsv2 && rsv3 ? " and RSV3" : "") set: no negotiated extension defines it (a protocol error, §5.2)") }
            if opcode.isReserved { first.warnings.append("reserved opcode \(opcode.rawValue): a protocol error, the receiver closes with 1002 (§5.2)") }
            if opcode.isControl && !fin { first.warnings.append("a fragmented control frame (control frames are never fragmented, §5.5)") }
            if opcode == .continuation && open == nil { first.warnings.append("a continuation frame, but no message was started (§5.4)") }
            if isData, let unfinished = open {
                first.warnings.append("a new \(opcode) message before the last one ended (expected a continuation frame, §5.4)")
                summary.messages.append(unfinished.finished(unfinished.payload, complete: false))
                open = nil
            }
            parts.append(first)

            // Byte 1: MASK and the 7-bit length (126 and 127 say a longer length follows).
            guard offset + 1 < bytes.count else {
                parts[0].warnings.append("frame cut short: the second header byte (MASK, length) is missing")
                elements += parts
                offset = bytes.count
                break
            }
            let b1 = bytes[offset + 1]
            let masked = b1 & 0x80 != 0
            let length7 = Int(b1 & 0x7F)
            var second = WireElement(range: (offset + 1)..<(offset + 2), note: "MASK=\(masked ? 1 : 0) length=\(length7)", role: .header)
            switch length7 {
            case 126: second.note += ": a 16-bit length follows"
            case 127: second.note += ": a 64-bit length follows"
            default: second.note += " (7-bit form)"
            }
            if sender == .client && !masked { second.warnings.append("a client frame without MASK: the server must close the connection (1002, §5.1)") }
            if sender == .server && masked { second.warnings.append("a server frame with MASK: the client must close the connection (§5.1)") }
            parts.append(second)
            var cursor = offset + 2
            var length = UInt64(length7)
            if length7 >= 126 {
                let size = length7 == 126 ? 2 : 8
                guard cursor + size <= bytes.count else {
                    if cursor < bytes.count { parts.append(WireElement(range: cursor..<bytes.count, note: "extended length?", role: .header)) }
                    parts[parts.count - 1].warnings.append("frame cut short: the \(size * 8)-bit length takes \(size) bytes, got \(bytes.count - cursor)")
                    elements += parts
                    offset = bytes.count
                    break
                }
                length = (0..<size).reduce(0) { $0 << 8 | UInt64(bytes[cursor + $1]) }
                var extended = WireElement(range: cursor..<(cursor + size), note: "length=\(length) (\(size * 8)-bit form)", role: .header)
                if size == 2 && length < 126 { extended.warnings.append("not minimal: \(length) fits the 7-bit form (§5.2 requires the shortest)") }
                if size == 8 && length <= 0xFFFF { extended.warnings.append("not minimal: \(length) fits the 16-bit form (§5.2 requires the shortest)") }
                if size == 8 && length >> 63 != 0 { extended.warnings.append("the top bit of a 64-bit length must be 0 (§5.2)") }
                parts.append(extended)
                cursor += size
            }
            if opcode.isControl && length > 125 {
                parts[parts.count - 1].warnings.append("a control frame of \(length) bytes (at most 125, §5.5)")
            }

            // The masking key: 4 bytes, client frames only.
            var key: [UInt8]?
            if masked {
                guard cursor + 4 <= bytes.count else {
                    if cursor < bytes.count { parts.append(WireElement(range: cursor..<bytes.count, note: "masking key?", role: .header)) }
                    parts[parts.count - 1].warnings.append("frame cut short: the masking key takes 4 bytes, got \(bytes.count - cursor)")
                    elements += parts
                    offset = bytes.count
                    break
                }
                key = Array(bytes[cursor..<(cursor + 4)])
                parts.append(WireElement(range: cursor..<(cursor + 4), note: "masking key \(key!.map(Self.hex2).joined())", role: .header))
                cursor += 4
            }

            // The payload, unmasked.
            let available = Int(min(length, UInt64(bytes.count - cursor)))
            let cut = UInt64(available) < length
            var payload = Array(bytes[cursor..<(cursor + available)])
            if let key { WebSocketFrameParser.unmask(&payload, key: key) }
            var message: OpenMessage
            if opcode == .continuation, let current = open {
                message = current
            } else {
                message = OpenMessage(opcode: opcode, compressed: compressed)
            }
            message.payload += payload
            message.frames += 1
            let attributes = [masked ? "masked" : nil, message.compressed ? "compressed" : nil].compactMap { $0 }
            var payloadElement = WireElement(range: cursor..<(cursor + available),
                                             note: "payload" + (attributes.isEmpty ? "" : " (\(attributes.joined(separator: ", ")))"),
                                             role: .body, isBody: true, bodyDescription: attributes.isEmpty ? "payload" : attributes.joined(separator: " ") + " payload")
            var warnings: [String] = []
            var shown = ""
            if opcode == .close {
                let (code, reason) = WireWebSocket.closeFields(payload)
                if let code {
                    shown = "close \(code) \(WebSocketCloseCode.name(code))" + (reason.isEmpty ? "" : ", reason \(WireWebSocket.show(reason, asText: true))")
                    if !WebSocketCloseCode.isSendable(code) { warnings.append("close code \(code) may not be sent in a close frame (§7.4.2)") }
                    if !UTF8Validator.isValid(reason) { warnings.append("a close reason that is not UTF-8 (§5.5.1)") }
                } else if payload.count == 1 {
                    warnings.append("a close payload of 1 byte (a code takes 2, §5.5.1)")
                }
            } else if payload.isEmpty {
                shown = ""
            } else if opcode.isControl || opcode.isReserved {
                shown = WireWebSocket.show(payload, asText: opcode.isReserved ? false : nil)
            } else if !message.compressed {
                shown = WireWebSocket.show(payload, asText: message.opcode == .text ? true : message.opcode == .binary ? false : nil)
            }
            if opcode.isControl || opcode.isReserved {
                summary.messages.append(WireWebSocket.Message(opcode: opcode, payload: payload, frames: 1, compressedBytes: nil, complete: !cut))
            } else if fin && !cut {
                // The message is complete: inflate it, check its text, count its frames.
                var whole = message.payload
                if message.compressed {
                    if let inflater {
                        do {
                            whole = try inflater.inflate(message.payload)
                            if noContextTakeover { inflater.reset() }
                            shown = "inflated \(message.payload.count) → \(WireAnalysis.bytesText(whole.count)): "
                                + WireWebSocket.show(whole, asText: message.opcode == .text ? true : message.opcode == .binary ? false : nil)
                        } catch {
                            warnings.append("the compressed message does not inflate: \(error.reason)")
                        }
                    } else {
                        warnings.append("zlib could not start: the compressed message is not inflated")
                    }
                }
                if message.opcode == .text && !UTF8Validator.isValid(whole) {
                    warnings.append("text that is not UTF-8: the receiver closes with 1007 (§8.1)")
                }
                if message.frames > 1 { shown += (shown.isEmpty ? "" : "; ") + "message complete: \(message.frames) frames, \(WireAnalysis.bytesText(whole.count))" }
                summary.messages.append(message.finished(whole, complete: true))
                open = nil
            } else {
                open = message
            }
            if cut { warnings.append("frame cut short: the length says \(length), got \(available)") }
            if !shown.isEmpty { payloadElement.note += " → " + shown }
            if available > 0 {
                payloadElement.warnings = warnings
                parts.append(payloadElement)
            } else {
                if !shown.isEmpty { parts[parts.count - 1].note += " → " + shown }
                parts[parts.count - 1].warnings += warnings
            }
            elements += parts
            offset = cursor + available
            if cut { break }
        }
        if let unfinished = open {
            summary.messages.append(unfinished.finished(unfinished.payload, complete: false))
        }
        var message = WireMessage(kind: .frames, start: start, length: offset - start, elements: elements, body: nil)
        message.webSocket = summary
        return message
    }

    /// A byte as two lowercase hex digits.
    static func hex2(_ byte: UInt8) -> String {
        String(byte, radix: 16).leftPadded(to: 2)
    }
}
