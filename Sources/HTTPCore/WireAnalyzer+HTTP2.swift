/// HTTP/2 frames in the wire analysis (RFC 9113 §3.4, §4.1, §6; RFC 7541 §6 for the header blocks). A capture
/// that starts with the client's connection preface (`PRI * HTTP/2.0␍␊␍␊SM␍␊␍␊`), or any frames with
/// `httpkit dump --h2`, is taken apart frame by frame, `nghttp -v` with the bytes beside it:
///
///     00 00 11 01 05 00 00 00 01   HEADERS  stream 1, length 17, flags 0x05 END_STREAM|END_HEADERS
///     82                           indexed 2 (static)  :method: GET
///     86                           indexed 6 (static)  :scheme: http
///     84                           indexed 4 (static)  :path: /
///     41 8c f1 e3 c2 e5 f2 3a …    literal with incremental indexing  :authority: www.example.com
///                                    name: index 1 (static); value: Huffman, 12 → 15 bytes
///                                    added to the dynamic table as 62 (1 entry, 57 of 4096 bytes)
///
/// The payload of each type field by field: SETTINGS by name, DATA with a text preview, WINDOW_UPDATE
/// increments, RST_STREAM and GOAWAY error codes by name, PING's opaque data, PRIORITY's fields, padding.
/// A header block is decoded representation by representation, with the HPACK dynamic table of its sender
/// kept in a `WireHTTP2Context`, so that a second capture of the same connection (the REPL's next read)
/// decodes the indices the first one added. Warnings for what a receiver would refuse: a frame on the wrong
/// stream, a wrong length, a frame over SETTINGS_MAX_FRAME_SIZE, a client stream with an even id, an index
/// past the tables, a table size update over the limit.

/// What the frames of one direction carried: who sent them, the streams, and the connection's events.
public struct WireHTTP2: Sendable {
    /// Who sent the frames: the client sends the preface and opens odd streams (§5.1.1).
    public enum Sender: String, Sendable, CaseIterable {
        case client, server

        public var peer: Sender { self == .client ? .server : .client }
    }

    /// One stream as this direction's frames showed it.
    public struct Stream: Sendable {
        public var id: UInt32
        /// The decoded fields of every header block on the stream (headers, then trailers).
        public var fields: [HPACKHeaderField] = []
        /// The DATA payloads, padding removed.
        public var data: [UInt8] = []
        public var dataFrames = 0
        public var endStream = false
        /// The code of a RST_STREAM this direction sent on the stream.
        public var reset: HTTP2ErrorCode?
    }

    public var sender: Sender
    /// The capture started with the client's connection preface.
    public var preface = false
    public var frames = 0
    /// The streams in the order they first appeared.
    public var streams: [Stream] = []
    /// What happened to the connection as a whole, a line each: "SETTINGS …", "PING …", "GOAWAY …".
    public var connectionEvents: [String] = []

    public init(sender: Sender) {
        self.sender = sender
    }

    mutating func stream(_ id: UInt32) -> Int {
        if let index = streams.firstIndex(where: { $0.id == id }) { return index }
        streams.append(Stream(id: id))
        return streams.count - 1
    }
}

/// What an observer of one HTTP/2 connection must remember from one capture to the next: the HPACK dynamic
/// table of each direction (RFC 7541 §2.3.2: a decoder that missed a block can no longer decode the next),
/// the settings each side announced, and the flow-control windows. Sans-I/O like the rest of the analysis:
/// the REPL keeps one per connection and passes it to every dump; `httpkit dump` starts a fresh one.
public struct WireHTTP2Context: Sendable {
    /// The dynamic table of each sender's encoder, as the receiving decoder rebuilds it.
    var tables: [WireHTTP2.Sender: HPACKDynamicTable] = [.client: HPACKDynamicTable(), .server: HPACKDynamicTable()]
    /// SETTINGS_HEADER_TABLE_SIZE as each side announced it: the largest table the other side's encoder may use.
    var headerTableLimit: [WireHTTP2.Sender: Int] = [.client: 4096, .server: 4096]
    /// SETTINGS_MAX_FRAME_SIZE as each side announced it: the longest payload it accepts.
    var maxFrameSize: [WireHTTP2.Sender: Int] = [.client: 16_384, .server: 16_384]
    /// SETTINGS_INITIAL_WINDOW_SIZE as each side announced it: the window of each stream it receives on.
    var initialWindow: [WireHTTP2.Sender: Int] = [.client: 65_535, .server: 65_535]
    /// How many more DATA octets each side may send: on the connection, and per stream (§6.9).
    var connectionWindow: [WireHTTP2.Sender: Int] = [.client: 65_535, .server: 65_535]
    var streamWindows: [WireHTTP2.Sender: [UInt32: Int]] = [.client: [:], .server: [:]]
    /// Which sides' frames this context has seen: the windows are known only when both have been.
    var seen: Set<WireHTTP2.Sender> = []
    /// A header block whose CONTINUATION frames are still to come, by sender.
    var pendingBlock: [WireHTTP2.Sender: PendingBlock] = [:]

    public init() {}

    /// The entries of a sender's dynamic table, newest (index 62) first.
    public func dynamicTable(of sender: WireHTTP2.Sender) -> [HPACKHeaderField] { tables[sender]?.fields ?? [] }

    struct PendingBlock: Sendable {
        var streamID: UInt32
        var block: [UInt8] = []
        /// Where each fragment came from: its range in `block`, its first byte on the wire, and the index of
        /// its placeholder element in the current analysis (nil for a fragment of an earlier capture).
        var fragments: [(blockRange: Range<Int>, wireStart: Int, element: Int?)] = []
        var endStream: Bool
    }

    func streamWindow(_ sender: WireHTTP2.Sender, _ id: UInt32) -> Int {
        streamWindows[sender]?[id] ?? initialWindow[sender.peer] ?? 65_535
    }
}

extension WireAnalyzer {
    /// The frames from `start` to the end of the bytes, all sent by `sender`, as one `.http2` message. A client's
    /// capture may start with the connection preface.
    func analyzeHTTP2(from start: Int, sender: WireHTTP2.Sender, context: inout WireHTTP2Context) -> WireMessage {
        var elements: [WireElement] = []
        var summary = WireHTTP2(sender: sender)
        context.seen.insert(sender)
        // Placeholders of an earlier capture cannot be replaced in this one.
        if var pending = context.pendingBlock[sender] {
            pending.fragments = pending.fragments.map { ($0.blockRange, $0.wireStart, nil) }
            context.pendingBlock[sender] = pending
        }
        var offset = start
        let preface = HTTP2Connection.clientPreface
        if bytes[offset...].starts(with: preface) {
            summary.preface = true
            var element = WireElement(range: offset..<(offset + preface.count),
                                      note: "client connection preface (§3.4): PRI * HTTP/2.0, then SM; a SETTINGS frame must follow",
                                      role: .startLine)
            if sender == .server { element.warnings.append("a server never sends the preface: its first frame is SETTINGS (§3.4)") }
            elements.append(element)
            offset += preface.count
        } else if offset < bytes.count, preface.starts(with: bytes[offset...]) {
            var element = WireElement(range: offset..<bytes.count, note: "client connection preface, cut short", role: .startLine)
            element.warnings.append("only \(bytes.count - offset) of the preface's 24 octets")
            elements.append(element)
            offset = bytes.count
        }
        while offset < bytes.count && summary.frames < 10_000 {
            summary.frames += 1
            offset = analyzeHTTP2Frame(at: offset, sender: sender, elements: &elements, summary: &summary, context: &context)
        }
        if let pending = context.pendingBlock[sender], let last = pending.fragments.last?.element {
            elements[last].warnings.append("the header block on stream \(pending.streamID) is not finished: a CONTINUATION with END_HEADERS must follow (§6.10)")
        }
        var message = WireMessage(kind: .http2, start: start, length: offset - start, elements: elements, body: nil)
        message.http2 = summary
        return message
    }

    /// One frame at `offset`: the 9-octet header as one element, then its payload's fields. Returns the
    /// offset after it.
    private func analyzeHTTP2Frame(at offset: Int, sender: WireHTTP2.Sender, elements: inout [WireElement],
                                   summary: inout WireHTTP2, context: inout WireHTTP2Context) -> Int {
        guard offset + HTTP2Frame.headerLength <= bytes.count else {
            var element = WireElement(range: offset..<bytes.count, note: "frame header?", role: .header)
            element.warnings.append("frame cut short: the header takes 9 octets, got \(bytes.count - offset)")
            elements.append(element)
            return bytes.count
        }
        let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
        let type = HTTP2FrameType(rawValue: bytes[offset + 3])
        let flags = bytes[offset + 4]
        let reservedBit = bytes[offset + 5] & 0x80 != 0
        let streamID = readUInt32(bytes[...], at: offset + 5) & 0x7FFF_FFFF
        let payloadStart = offset + HTTP2Frame.headerLength
        let available = min(length, bytes.count - payloadStart)
        let payload = payloadStart..<(payloadStart + available)

        var header = WireElement(range: offset..<payloadStart, note: "", role: .startLine)
        let flagNames = Self.http2FlagNames(flags, type: type)
        header.note = "\(type.description)  stream \(streamID), length \(length), flags 0x\(Self.hex2(flags))\(flagNames.isEmpty ? "" : " " + flagNames)"
        if reservedBit { header.warnings.append("the reserved bit R is set: sent as 0, ignored on receipt (§4.1)") }
        if length > (context.maxFrameSize[sender.peer] ?? 16_384) {
            header.warnings.append("length \(length) over SETTINGS_MAX_FRAME_SIZE = \(context.maxFrameSize[sender.peer] ?? 16_384): a FRAME_SIZE_ERROR (§4.2)")
        }
        let connectionTypes: [HTTP2FrameType] = [.settings, .ping, .goAway]
        let streamTypes: [HTTP2FrameType] = [.data, .headers, .priority, .rstStream, .pushPromise, .continuation]
        if connectionTypes.contains(type) && streamID != 0 {
            header.warnings.append("\(type) belongs to the connection (stream 0), not stream \(streamID): a PROTOCOL_ERROR (§6)")
        }
        if streamTypes.contains(type) && streamID == 0 {
            header.warnings.append("\(type) belongs to a stream, not stream 0: a PROTOCOL_ERROR (§6)")
        }
        if let pending = context.pendingBlock[sender], type != .continuation || streamID != pending.streamID {
            header.warnings.append("a header block on stream \(pending.streamID) is not finished: only a CONTINUATION on that stream may come now (§6.10)")
        }
        if type == .headers && sender == .client && streamID % 2 == 0 && streamID != 0 {
            header.warnings.append("a client opens streams with odd ids (§5.1.1): an even one is a PROTOCOL_ERROR")
        }
        if type == .pushPromise && sender == .client {
            header.warnings.append("a client never sends PUSH_PROMISE: a PROTOCOL_ERROR (§8.4)")
        }
        if available < length { header.warnings.append("frame cut short: the length says \(length), got \(available)") }
        elements.append(header)
        let headerIndex = elements.count - 1

        var parts: [WireElement] = []
        var cursor = payload.lowerBound
        /// Appends an element for the next `count` octets (at most what is there).
        func take(_ count: Int, _ note: String, role: WireElement.Role = .header) -> Range<Int> {
            let end = min(cursor + max(count, 0), payload.upperBound)
            let range = cursor..<end
            parts.append(WireElement(range: range, note: note, role: role))
            cursor = end
            return range
        }
        func warn(_ text: String) {
            if parts.isEmpty { elements[headerIndex].warnings.append(text) } else { parts[parts.count - 1].warnings.append(text) }
        }
        func word(_ at: Int) -> UInt32 { readUInt32(bytes[...], at: at) }

        // DATA, HEADERS and PUSH_PROMISE may be padded (§6.1): a Pad Length octet first, that many zeros last.
        var padding = 0
        let paddable: [HTTP2FrameType] = [.data, .headers, .pushPromise]
        if paddable.contains(type) && flags & HTTP2Flags.padded != 0 && available == length {
            if length == 0 {
                warn("PADDED with no Pad Length octet: a FRAME_SIZE_ERROR")
            } else {
                padding = Int(bytes[cursor])
                _ = take(1, "pad length \(padding)")
                if padding >= length { warn("\(padding) octets of padding in a payload of \(length): a PROTOCOL_ERROR (§6.1)"); padding = 0 }
            }
        }
        let contentEnd = payload.upperBound - (available == length ? padding : 0)

        switch type {
        case .data:
            let data = Array(bytes[cursor..<contentEnd])
            let index = summary.stream(streamID)
            summary.streams[index].data += data
            summary.streams[index].dataFrames += 1
            if flags & HTTP2Flags.endStream != 0 { summary.streams[index].endStream = true }
            var note = "data, \(WireAnalysis.bytesText(data.count))"
            if !data.isEmpty { note += " → " + WireWebSocket.show(data, limit: 40) }
            if !data.isEmpty {
                _ = take(data.count, note, role: .body)
                parts[parts.count - 1].isBody = true
                parts[parts.count - 1].bodyDescription = "of DATA"
            } else {
                elements[headerIndex].note += "  (no data)"
            }
            // Flow control (§6.9): the whole payload counts, padding included.
            let flowLength = length
            context.connectionWindow[sender, default: 65_535] -= flowLength
            let streamWindow = context.streamWindow(sender, streamID) - flowLength
            context.streamWindows[sender, default: [:]][streamID] = streamWindow
            if context.seen.count == 2 {
                let connection = context.connectionWindow[sender] ?? 0
                let detail = "flow control: −\(flowLength) → the \(sender) may send \(max(streamWindow, 0)) more on stream \(streamID), \(max(connection, 0)) on the connection"
                if parts.isEmpty { elements[headerIndex].details.append(detail) } else { parts[parts.count - 1].details.append(detail) }
                if streamWindow < 0 || connection < 0 { warn("more DATA than the window allowed: a FLOW_CONTROL_ERROR (§6.9.1)") }
            }

        case .headers:
            if flags & HTTP2Flags.priority != 0 {
                if contentEnd - cursor >= 5 {
                    _ = take(5, Self.priorityNote(word(cursor), bytes[cursor + 4]) + " (deprecated, §5.3.2)")
                } else {
                    warn("PRIORITY flag with fewer than 5 octets for its fields: a FRAME_SIZE_ERROR")
                }
            }
            let index = summary.stream(streamID)
            if flags & HTTP2Flags.endStream != 0 { summary.streams[index].endStream = true }
            startHeaderBlock(cursor..<max(cursor, contentEnd), streamID: streamID, endHeaders: flags & HTTP2Flags.endHeaders != 0,
                             endStream: flags & HTTP2Flags.endStream != 0, sender: sender, parts: &parts, elementsBefore: elements.count,
                             summary: &summary, context: &context)
            cursor = max(cursor, contentEnd)

        case .continuation:
            if var pending = context.pendingBlock[sender], pending.streamID == streamID {
                let fragment = Array(bytes[cursor..<payload.upperBound])
                let blockStart = pending.block.count
                pending.block += fragment
                parts.append(WireElement(range: cursor..<payload.upperBound, note: "header block fragment, \(WireAnalysis.bytesText(fragment.count))", role: .header))
                pending.fragments.append((blockStart..<pending.block.count, cursor, elements.count + parts.count - 1))
                cursor = payload.upperBound
                context.pendingBlock[sender] = pending
                if flags & HTTP2Flags.endHeaders != 0 {
                    elements += parts
                    parts = []
                    finishHeaderBlock(sender: sender, elements: &elements, summary: &summary, context: &context)
                }
            } else {
                _ = take(available, "header block fragment, \(WireAnalysis.bytesText(available))")
                warn("a CONTINUATION that follows no unfinished HEADERS or PUSH_PROMISE on stream \(streamID): a PROTOCOL_ERROR (§6.10)")
            }

        case .priority:
            if length == 5 && available == 5 {
                _ = take(5, Self.priorityNote(word(cursor), bytes[cursor + 4]) + " (deprecated, §5.3.2: read and ignored)")
            } else {
                _ = take(available, "priority fields?")
                warn("a PRIORITY frame of \(length) octets (5 expected): a FRAME_SIZE_ERROR (§6.3)")
            }

        case .rstStream:
            if length == 4 && available == 4 {
                let code = HTTP2ErrorCode(rawValue: word(cursor))
                _ = take(4, "error code 0x\(String(code.rawValue, radix: 16)) \(code): stream \(streamID) ends now")
                summary.streams[summary.stream(streamID)].reset = code
            } else {
                _ = take(available, "error code?")
                warn("a RST_STREAM frame of \(length) octets (4 expected): a FRAME_SIZE_ERROR (§6.4)")
            }

        case .settings:
            if flags & HTTP2Flags.ack != 0 {
                elements[headerIndex].note += "  (acknowledges the peer's SETTINGS)"
                summary.connectionEvents.append("SETTINGS ACK")
                if length != 0 { warn("a SETTINGS ACK carries no payload: a FRAME_SIZE_ERROR (§6.5)") }
                _ = available > 0 ? take(available, "payload?") : cursor..<cursor
            } else {
                if length % 6 != 0 { elements[headerIndex].warnings.append("a SETTINGS payload of \(length) octets, not a multiple of 6: a FRAME_SIZE_ERROR (§6.5)") }
                var said: [String] = []
                while cursor + 6 <= payload.upperBound {
                    let id = HTTP2SettingID(rawValue: UInt16(bytes[cursor]) << 8 | UInt16(bytes[cursor + 1]))
                    let value = word(cursor + 2)
                    let name = id.description.hasPrefix("SETTINGS_") ? String(id.description.dropFirst(9)) : Self.extensionSettings[id.rawValue] ?? id.description
                    _ = take(6, "\(name) = \(value)" + Self.settingMeaning(id, value))
                    said.append("\(name)=\(value)")
                    if id.rawValue > 6 { parts[parts.count - 1].note += " (ignored: §6.5.2)" }
                    do {
                        try HTTP2Setting(id, value).validate()
                    } catch {
                        warn("\(error.reason): a \(error.code) (§6.5.2)")
                    }
                    applySetting(id, value, from: sender, context: &context)
                }
                if cursor < payload.upperBound { _ = take(payload.upperBound - cursor, "a partial setting") }
                summary.connectionEvents.append("SETTINGS " + (said.isEmpty ? "(none: every value stays at its default)" : said.joined(separator: ", ")))
                if said.isEmpty { elements[headerIndex].note += "  (no parameters: the defaults)" }
            }

        case .pushPromise:
            if contentEnd - cursor >= 4 {
                let promised = word(cursor) & 0x7FFF_FFFF
                _ = take(4, "promised stream \(promised)")
                startHeaderBlock(cursor..<contentEnd, streamID: streamID, endHeaders: flags & HTTP2Flags.endHeaders != 0, endStream: false,
                                 sender: sender, parts: &parts, elementsBefore: elements.count, summary: &summary, context: &context)
                cursor = contentEnd
            } else {
                _ = take(contentEnd - cursor, "promised stream?")
                warn("a PUSH_PROMISE without its 4-octet promised stream id: a FRAME_SIZE_ERROR")
            }

        case .ping:
            let ack = flags & HTTP2Flags.ack != 0
            if length == 8 && available == 8 {
                let data = bytes[cursor..<(cursor + 8)].map(Self.hex2).joined()
                _ = take(8, "opaque data \(data)" + (ack ? " (the peer's PING, echoed)" : " (the peer answers with ACK and the same 8 octets)"))
                summary.connectionEvents.append("PING\(ack ? " ACK" : "") \(data)")
            } else {
                _ = take(available, "opaque data?")
                warn("a PING frame of \(length) octets (8 expected): a FRAME_SIZE_ERROR (§6.7)")
            }

        case .goAway:
            if length >= 8 && available == length {
                let last = word(cursor) & 0x7FFF_FFFF
                _ = take(4, "last stream id \(last): streams above it were not processed and may be retried")
                let code = HTTP2ErrorCode(rawValue: word(cursor))
                _ = take(4, "error code 0x\(String(code.rawValue, radix: 16)) \(code)" + (code == .noError ? " (a graceful shutdown)" : ""))
                var event = "GOAWAY last stream \(last), \(code)"
                if cursor < payload.upperBound {
                    let debug = Array(bytes[cursor..<payload.upperBound])
                    _ = take(debug.count, "debug data \(WireWebSocket.show(debug, asText: true, limit: 200))")
                    event += ", \(WireWebSocket.show(debug, asText: true, limit: 200))"
                }
                summary.connectionEvents.append(event)
            } else {
                _ = take(available, "GOAWAY fields?")
                warn("a GOAWAY frame of \(length) octets (at least 8 expected): a FRAME_SIZE_ERROR (§6.8)")
            }

        case .windowUpdate:
            if length == 4 && available == 4 {
                let increment = Int(word(cursor) & 0x7FFF_FFFF)
                let receiver = sender.peer
                var note = "increment \(increment) for the \(streamID == 0 ? "connection" : "stream")"
                if streamID == 0 {
                    context.connectionWindow[receiver, default: 65_535] += increment
                    if context.seen.count == 2 { note += " → the \(receiver) may send \(context.connectionWindow[receiver] ?? 0) on the connection" }
                    summary.connectionEvents.append("WINDOW_UPDATE +\(increment) (connection)")
                } else {
                    let window = context.streamWindow(receiver, streamID) + increment
                    context.streamWindows[receiver, default: [:]][streamID] = window
                    if context.seen.count == 2 { note += " → the \(receiver) may send \(window) on stream \(streamID)" }
                }
                _ = take(4, note)
                if increment == 0 { warn("an increment of 0: a PROTOCOL_ERROR (§6.9)") }
            } else {
                _ = take(available, "increment?")
                warn("a WINDOW_UPDATE frame of \(length) octets (4 expected): a FRAME_SIZE_ERROR (§6.9)")
            }

        default:
            if available > 0 {
                _ = take(available, "payload of an unknown frame type: ignored (§4.1, §5.5)")
            }
            elements[headerIndex].note += "  (ignored, §5.5)"
        }

        if cursor < contentEnd {
            _ = take(contentEnd - cursor, "more octets than the \(type) frame's fields")
            warn("the frame is longer than its type's fields: a FRAME_SIZE_ERROR")
        }
        if padding > 0 && available == length {
            cursor = contentEnd
            _ = take(padding, "padding, \(WireAnalysis.bytesText(padding))")
            if bytes[contentEnd..<payload.upperBound].contains(where: { $0 != 0 }) {
                warn("padding octets must be zero (§6.1: a receiver may treat others as a PROTOCOL_ERROR)")
            }
        }
        elements += parts
        return payload.upperBound
    }

    /// The first fragment of a header block (HEADERS or PUSH_PROMISE). With END_HEADERS the block is decoded
    /// now; without, its fields are decoded once the last CONTINUATION arrives.
    private func startHeaderBlock(_ range: Range<Int>, streamID: UInt32, endHeaders: Bool, endStream: Bool, sender: WireHTTP2.Sender,
                                  parts: inout [WireElement], elementsBefore: Int, summary: inout WireHTTP2, context: inout WireHTTP2Context) {
        var pending = WireHTTP2Context.PendingBlock(streamID: streamID, endStream: endStream)
        pending.block = Array(bytes[range])
        parts.append(WireElement(range: range, note: "header block fragment, \(WireAnalysis.bytesText(range.count))", role: .header))
        pending.fragments.append((0..<range.count, range.lowerBound, elementsBefore + parts.count - 1))
        context.pendingBlock[sender] = pending
        guard endHeaders else { return }
        // Decode now: the fragment's element is replaced by the fields.
        var elements = parts
        var shifted = pending
        shifted.fragments = pending.fragments.map { ($0.blockRange, $0.wireStart, $0.element.map { $0 - elementsBefore }) }
        context.pendingBlock[sender] = shifted
        finishHeaderBlock(sender: sender, elements: &elements, summary: &summary, context: &context)
        parts = elements
    }

    /// Decodes a complete header block field by field (RFC 7541 §6) and replaces each fragment's placeholder
    /// element with the fields it holds (a field split across two fragments shows in both).
    private func finishHeaderBlock(sender: WireHTTP2.Sender, elements: inout [WireElement], summary: inout WireHTTP2,
                                   context: inout WireHTTP2Context) {
        guard let pending = context.pendingBlock.removeValue(forKey: sender) else { return }
        var table = context.tables[sender] ?? HPACKDynamicTable()
        let fields = Self.decodeHeaderBlock(pending.block, table: &table, limit: context.headerTableLimit[sender.peer] ?? 4096)
        context.tables[sender] = table
        let index = summary.stream(pending.streamID)
        summary.streams[index].fields += fields.compactMap(\.field)
        for fragment in pending.fragments.reversed() {
            guard let placeholder = fragment.element else { continue }
            var replacement: [WireElement] = []
            for field in fields {
                let lower = max(field.range.lowerBound, fragment.blockRange.lowerBound)
                let upper = min(field.range.upperBound, fragment.blockRange.upperBound)
                guard lower < upper else { continue }
                let wire = (lower - fragment.blockRange.lowerBound + fragment.wireStart)..<(upper - fragment.blockRange.lowerBound + fragment.wireStart)
                if field.range.lowerBound >= fragment.blockRange.lowerBound {
                    var element = WireElement(range: wire, note: field.note, role: .header)
                    element.details = field.details
                    element.warnings = field.warnings
                    if field.range.upperBound > fragment.blockRange.upperBound { element.details.append("(continued in the next CONTINUATION frame)") }
                    replacement.append(element)
                } else {
                    replacement.append(WireElement(range: wire, note: "(the rest of the field above)", role: .header))
                }
            }
            if pending.block.isEmpty || fragment.blockRange.isEmpty {
                var empty = elements[placeholder]
                empty.note = pending.block.isEmpty ? "an empty header block" : "an empty fragment"
                if pending.block.isEmpty { empty.warnings.append("a request or response needs pseudo-header fields (§8.3)") }
                replacement = [empty]
            }
            elements.replaceSubrange(placeholder...placeholder, with: replacement)
        }
    }

    /// One representation of a header block, as the dump shows it.
    struct HeaderRepresentation {
        var range: Range<Int>
        var note: String
        var details: [String] = []
        var warnings: [String] = []
        /// nil for a dynamic table size update, or a representation that could not be decoded.
        var field: HPACKHeaderField?
    }

    /// Decodes `block` one representation at a time (§6), updating `table` as a decoder would. An error stops
    /// the decoding: the rest of the block becomes one element with the reason.
    static func decodeHeaderBlock(_ block: [UInt8], table: inout HPACKDynamicTable, limit: Int) -> [HeaderRepresentation] {
        var out: [HeaderRepresentation] = []
        var index = 0
        var sawField = false
        while index < block.count {
            let start = index
            let first = block[index]
            do {
                if first & 0x80 != 0 {
                    let tableIndex = try HPACKInteger.decode(block, at: &index, prefixBits: 7)
                    let field = try lookUp(tableIndex, table)
                    out.append(HeaderRepresentation(range: start..<index, note: "indexed \(tableIndex) (\(tableIndex <= HPACKStaticTable.count ? "static" : "dynamic"))  \(show(field))",
                                                    field: field))
                } else if first & 0xE0 == 0x20 {
                    let size = try HPACKInteger.decode(block, at: &index, prefixBits: 5)
                    let before = table.count
                    table.setMaxSize(size)
                    var item = HeaderRepresentation(range: start..<index, note: "dynamic table size update → \(size) octets (§6.3)")
                    if before > table.count { item.details.append("evicted \(before - table.count) entr\(before - table.count == 1 ? "y" : "ies")") }
                    if size > limit { item.warnings.append("over the \(limit) octets SETTINGS_HEADER_TABLE_SIZE allows: a COMPRESSION_ERROR (§4.2)") }
                    if sawField { item.warnings.append("a size update after a field: it must come at the start of the block (§4.2)") }
                    out.append(item)
                    continue
                } else {
                    let (kind, prefix): (String, Int) = first & 0xC0 == 0x40 ? ("literal with incremental indexing", 6)
                        : first & 0xF0 == 0x10 ? ("literal never indexed", 4) : ("literal without indexing", 4)
                    let nameIndex = try HPACKInteger.decode(block, at: &index, prefixBits: prefix)
                    var details: [String] = []
                    let name: [UInt8]
                    if nameIndex == 0 {
                        let (decoded, how) = try string(block, at: &index)
                        name = decoded
                        details.append("name: new, \(how)")
                    } else {
                        name = try lookUp(nameIndex, table).name
                        details.append("name: index \(nameIndex) (\(nameIndex <= HPACKStaticTable.count ? "static" : "dynamic"))")
                    }
                    let (value, how) = try string(block, at: &index)
                    details[0] += "; value: \(how)"
                    let field = HPACKHeaderField(name: name, value: value, neverIndexed: prefix == 4 && first & 0x10 != 0)
                    if prefix == 6 {
                        let before = table.count
                        table.add(field)
                        let evicted = before + 1 - table.count
                        details.append("added to the dynamic table as 62 (\(table.count) entr\(table.count == 1 ? "y" : "ies"), \(table.size) of \(table.maxSize) octets"
                                       + (evicted > 0 ? ", \(evicted) evicted" : "") + ")")
                    } else if field.neverIndexed {
                        details.append("not added to any table, here or downstream (§6.2.3: a secret)")
                    }
                    out.append(HeaderRepresentation(range: start..<index, note: "\(kind)  \(show(field))", details: details, field: field))
                }
                sawField = true
            } catch {
                var item = HeaderRepresentation(range: start..<block.count, note: "undecodable from here")
                item.warnings.append("\(error.reason): a COMPRESSION_ERROR, the connection is over (§4.3)")
                out.append(item)
                break
            }
        }
        return out
    }

    private static func lookUp(_ index: Int, _ table: HPACKDynamicTable) throws(HTTP2Error) -> HPACKHeaderField {
        if index == 0 { throw .compression("index 0 is not a field (§6.1)") }
        if index <= HPACKStaticTable.count { return HPACKStaticTable.fields[index - 1] }
        guard index - HPACKStaticTable.count <= table.count else {
            throw .compression("index \(index) is past the tables (61 static + \(table.count) dynamic)")
        }
        return table[index - HPACKStaticTable.count]
    }

    /// A string literal (§5.2) and how it was sent: "Huffman, 12 → 15 octets" or "raw, 8 octets".
    private static func string(_ block: [UInt8], at index: inout Int) throws(HTTP2Error) -> ([UInt8], String) {
        let huffman = index < block.count && block[index] & 0x80 != 0
        let before = index
        let decoded = try HPACKString.decode(block, at: &index)
        var lengthPrefix = before
        let wire = try HPACKInteger.decode(block, at: &lengthPrefix, prefixBits: 7)
        return (decoded, huffman ? "Huffman, \(wire) → \(decoded.count) octet\(decoded.count == 1 ? "" : "s")" : "raw, \(wire) octet\(wire == 1 ? "" : "s")")
    }

    private static func show(_ field: HPACKHeaderField) -> String {
        let value = field.valueString
        return "\(field.nameString): \(value.count > 80 ? String(value.prefix(80)) + "…" : value)"
    }

    private static func priorityNote(_ word: UInt32, _ weight: UInt8) -> String {
        "priority: \(word & 0x8000_0000 != 0 ? "exclusive, " : "")depends on stream \(word & 0x7FFF_FFFF), weight \(Int(weight) + 1)"
    }

    /// Settings that later RFCs define, which this server does not use: named, still ignored.
    static let extensionSettings: [UInt16: String] = [0x8: "ENABLE_CONNECT_PROTOCOL (RFC 8441)", 0x9: "NO_RFC7540_PRIORITIES (RFC 9218)"]

    /// A setting's meaning for a person, after its value.
    private static func settingMeaning(_ id: HTTP2SettingID, _ value: UInt32) -> String {
        switch id {
        case .headerTableSize: return " (the largest HPACK table the sender decodes with)"
        case .enablePush: return value == 0 ? " (no server push)" : " (server push allowed)"
        case .maxConcurrentStreams: return " (streams the peer may open at once)"
        case .initialWindowSize: return " (each stream's starting flow-control window)"
        case .maxFrameSize: return " (the longest frame payload the sender accepts)"
        case .maxHeaderListSize: return " (advisory: the largest header list)"
        default: return ""
        }
    }

    /// What a setting from `sender` changes for the analysis of later frames (§6.5.2).
    private func applySetting(_ id: HTTP2SettingID, _ value: UInt32, from sender: WireHTTP2.Sender, context: inout WireHTTP2Context) {
        switch id {
        case .headerTableSize: context.headerTableLimit[sender] = Int(value)
        case .maxFrameSize: context.maxFrameSize[sender] = Int(value)
        case .initialWindowSize:
            // §6.9.2: the change applies to every stream's window the peer sends on, by the difference.
            let delta = Int(value) - (context.initialWindow[sender] ?? 65_535)
            context.initialWindow[sender] = Int(value)
            for (id, window) in context.streamWindows[sender.peer] ?? [:] { context.streamWindows[sender.peer]?[id] = window + delta }
        default: break
        }
    }

    /// The flags a type defines, by name: "END_STREAM|END_HEADERS".
    static func http2FlagNames(_ flags: UInt8, type: HTTP2FrameType) -> String {
        var names: [String] = []
        switch type {
        case .data:
            if flags & HTTP2Flags.endStream != 0 { names.append("END_STREAM") }
            if flags & HTTP2Flags.padded != 0 { names.append("PADDED") }
        case .headers:
            if flags & HTTP2Flags.endStream != 0 { names.append("END_STREAM") }
            if flags & HTTP2Flags.endHeaders != 0 { names.append("END_HEADERS") }
            if flags & HTTP2Flags.padded != 0 { names.append("PADDED") }
            if flags & HTTP2Flags.priority != 0 { names.append("PRIORITY") }
        case .settings, .ping:
            if flags & HTTP2Flags.ack != 0 { names.append("ACK") }
        case .pushPromise:
            if flags & HTTP2Flags.endHeaders != 0 { names.append("END_HEADERS") }
            if flags & HTTP2Flags.padded != 0 { names.append("PADDED") }
        case .continuation:
            if flags & HTTP2Flags.endHeaders != 0 { names.append("END_HEADERS") }
        default:
            break
        }
        return names.joined(separator: "|")
    }

    /// Who sends the HTTP/2 frames after `message` when it is an h2c upgrade (RFC 7540 §3.2): a `101` with
    /// `Upgrade: h2c` (the server's frames follow), or a request with `Upgrade: h2c` followed by the preface (the
    /// client's). nil otherwise.
    func h2cUpgrade(_ message: WireMessage, next: Int) -> WireHTTP2.Sender? {
        guard next < bytes.count, message.elements.last?.role == .boundary else { return nil }
        let upgrade = headerValues(message, "Upgrade").flatMap { $0.split(separator: ",") }
            .contains { ASCII.caseInsensitiveEquals(String($0).trimmingASCIIWhitespace(), "h2c") }
        guard upgrade else { return nil }
        switch message.kind {
        case .response: return message.elements.first?.note.hasPrefix("status-line  101") == true ? .server : nil
        case .request: return bytes[next...].starts(with: HTTP2Connection.clientPreface) ? .client : nil
        default: return nil
        }
    }

    /// Whether `bytes` at `offset` start with the client preface (or all of them are the start of it).
    static func looksLikeHTTP2Preface(_ bytes: [UInt8], at offset: Int) -> Bool {
        let preface = HTTP2Connection.clientPreface
        return offset < bytes.count && bytes.count - offset >= 16 && (bytes[offset...].starts(with: preface) || preface.starts(with: bytes[offset...]))
    }
}
