/// Splits bytes into messages and elements for `WireAnalysis`: the start line, the header fields, the
/// framing decision and the body. Chunked bodies are in WireAnalyzer+Chunked.swift; validators, ranges
/// and multipart/byteranges bodies in WireAnalyzer+Caching.swift; TLS records in WireAnalyzer+TLS.swift; HTTP/2 frames in WireAnalyzer+HTTP2.swift.
struct WireAnalyzer {
    let bytes: [UInt8]
    let requestMethod: String?

    /// The messages in `bytes`; `kind` nil detects each one's kind from its first line.
    func analyze(_ kind: WireMessage.Kind?) -> [WireMessage] {
        // A TLS record header (content type 20–23, version 3.1–3.4) is never the start of an HTTP message.
        if kind == .tls || (kind == nil && Self.looksLikeTLS(bytes, at: 0)) {
            return bytes.isEmpty ? [] : [analyzeTLS(from: 0)]
        }
        // The HTTP/2 client preface is never the start of an HTTP/1.1 request either: frames follow it.
        if kind == .http2 || (kind == nil && Self.looksLikeHTTP2Preface(bytes, at: 0)) {
            var context = WireHTTP2Context()
            return bytes.isEmpty ? [] : [analyzeHTTP2(from: 0, sender: .client, context: &context)]
        }
        var messages: [WireMessage] = []
        var offset = 0
        while offset < bytes.count && messages.count < 100 {
            let messageKind = kind ?? detect(at: offset)
            let message = analyzeMessage(at: offset, kind: messageKind, method: requestMethod)
            messages.append(message)
            guard message.length > 0 else { break }
            offset += message.length
            // After a 101 (or a client's Upgrade: websocket) the connection carries frames, not HTTP.
            if let upgrade = webSocketUpgrade(message, next: offset) {
                messages[messages.count - 1].elements[message.elements.count - 1].note += "; then WebSocket frames from the \(upgrade.sender.rawValue)"
                messages.append(analyzeFrames(from: offset, sender: upgrade.sender, deflate: upgrade.deflate,
                                              noContextTakeover: upgrade.noContextTakeover))
                break
            }
            // After a 101 with Upgrade: h2c (or a client's Upgrade: h2c and its preface) the bytes are HTTP/2 frames.
            if let sender = h2cUpgrade(message, next: offset) {
                messages[messages.count - 1].elements[message.elements.count - 1].note += "; then HTTP/2 frames from the \(sender.rawValue) (h2c upgrade)"
                var context = WireHTTP2Context()
                messages.append(analyzeHTTP2(from: offset, sender: sender, context: &context))
                break
            }
        }
        return messages
    }

    func detect(at offset: Int) -> WireMessage.Kind {
        bytes[offset...].starts(with: "HTTP/".utf8) ? .response : .request
    }

    /// Whether the bytes at `offset` look like the start of another message (for pipelined input).
    func looksLikeMessage(at offset: Int) -> Bool {
        guard offset < bytes.count else { return false }
        if bytes[offset...].starts(with: "HTTP/".utf8) { return true }
        var index = offset
        while index < bytes.count, index - offset < 20, ASCII.isTokenChar(bytes[index]) { index += 1 }
        return index > offset && index < bytes.count && bytes[index] == ASCII.space
    }

    /// The line starting at `start`: its range without the line end, the index after it, and whether the
    /// line ended in a bare LF. nil end when no LF follows.
    func line(at start: Int) -> (content: Range<Int>, next: Int, bareLF: Bool)? {
        guard let lf = bytes[start...].firstIndex(of: ASCII.lf) else { return nil }
        let crlf = lf > start && bytes[lf - 1] == ASCII.cr
        return (start..<(crlf ? lf - 1 : lf), lf + 1, !crlf)
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    func analyzeMessage(at start: Int, kind: WireMessage.Kind, method: String?) -> WireMessage {
        var elements: [WireElement] = []
        var offset = start
        var headers = HTTPHeaders()
        var version = ""
        var status = 0

        // Start line.
        guard let first = line(at: offset) else {
            var element = WireElement(range: offset..<bytes.count, note: "incomplete start line", role: .startLine)
            element.warnings.append("no line end: the message is cut off (or uses no LF at all)")
            return WireMessage(kind: kind, start: start, length: bytes.count - start, elements: [element], body: nil)
        }
        var startLine = WireElement(range: offset..<first.next, note: "", role: .startLine)
        let parts = text(first.content).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        if kind == .request {
            if parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty {
                startLine.note = "request-line  method=\(parts[0]) target=\(parts[1]) version=\(parts[2])"
                version = parts[2]
                if !parts[2].hasPrefix("HTTP/") { startLine.warnings.append("'\(parts[2])' is not an HTTP version") }
            } else {
                startLine.note = "request-line?"
                startLine.warnings.append("malformed: expected METHOD SP TARGET SP HTTP/1.1 (\(parts.count) space-separated parts)")
            }
        } else {
            version = parts.first ?? ""
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            let reason = parts.count > 2 ? parts[2...].joined(separator: " ") : ""
            startLine.note = status > 0 ? "status-line  \(status) \(reason)" : "status-line?"
            if status == 0 { startLine.warnings.append("malformed: expected HTTP/1.1 SP STATUS SP REASON") }
        }
        if first.bareLF { startLine.warnings.append("bare LF (expected CRLF)") }
        elements.append(startLine)
        offset = first.next

        // Header fields, up to the empty line.
        var endOfHeaders: WireElement?
        while let current = line(at: offset) {
            if current.content.isEmpty {
                endOfHeaders = WireElement(range: offset..<current.next, note: "end of headers", role: .boundary)
                if current.bareLF { endOfHeaders?.warnings.append("bare LF (expected CRLF)") }
                offset = current.next
                break
            }
            var element = WireElement(range: offset..<current.next, note: "", role: .header)
            let content = bytes[current.content]
            if let colon = content.firstIndex(of: ASCII.colon) {
                let name = text(current.content.lowerBound..<colon)
                let value = text((colon + 1)..<current.content.upperBound).trimmingASCIIWhitespace()
                element.note = "header  \(name.trimmingASCIIWhitespace())"
                if let last = name.utf8.last, ASCII.isWhitespace(last) { element.warnings.append("whitespace before ':' (a 400 in HTTP/1.1)") }
                if let firstByte = content.first, ASCII.isWhitespace(firstByte) { element.warnings.append("starts with whitespace: obsolete line folding") }
                headers.add(name.trimmingASCIIWhitespace(), value)
                Self.annotateCaching(&element, name: name.trimmingASCIIWhitespace(), value: value, kind: kind) // WireAnalyzer+Caching.swift
            } else {
                element.note = "header?"
                element.warnings.append("no ':' — not a header field")
            }
            if current.bareLF { element.warnings.append("bare LF (expected CRLF)") }
            elements.append(element)
            offset = current.next
        }
        guard var boundary = endOfHeaders else {
            if offset < bytes.count {
                var rest = WireElement(range: offset..<bytes.count, note: "incomplete line", role: .header)
                rest.warnings.append("no line end: the header section is cut off")
                elements.append(rest)
            } else {
                elements[elements.count - 1].warnings.append("no empty line: the header section never ends")
            }
            return WireMessage(kind: kind, start: start, length: bytes.count - start, elements: elements, body: nil)
        }

        // The framing decision, from the headers (RFC 9112 §6.3).
        let hasCL = headers.contains("Content-Length"), hasTE = headers.contains("Transfer-Encoding")
        let chunked = headers.listElements("Transfer-Encoding").last.map { ASCII.caseInsensitiveEquals($0, "chunked") } ?? false
        // Digits only: Int("-1") would parse, and a negative length is not a length (a fuzzer found it).
        let length = headers["Content-Length"].flatMap { value in
            !value.isEmpty && value.utf8.allSatisfy(ASCII.isDigit) && value.utf8.count <= 18 ? Int(value) : nil
        }
        let framing: BodyFraming
        if kind == .response && (method == "HEAD" || (100...199).contains(status) || status == 204 || status == 304) {
            framing = .none
        } else if chunked {
            framing = .chunked
        } else if let length {
            framing = .contentLength(length)
        } else if kind == .response {
            framing = .untilClose
        } else {
            framing = .none
        }
        switch framing {
        case .none: boundary.note += kind == .response ? " → no body (\(method == "HEAD" ? "HEAD" : "status \(status)"))" : " → no body"
        case .contentLength(let n): boundary.note += " → body framing: Content-Length \(n)"
        case .chunked: boundary.note += " → body framing: chunked"
        case .untilClose: boundary.note += " → body framing: read until close"
        }
        if kind == .request && version == "HTTP/1.1" && !headers.contains("Host") { boundary.warnings.append("no Host header (HTTP/1.1 requires one)") }
        if hasCL && hasTE { boundary.warnings.append("both Content-Length and Transfer-Encoding (request smuggling risk)") }
        if hasCL && length == nil { boundary.warnings.append("Content-Length '\(headers["Content-Length"] ?? "")' is not a number") }
        if kind == .response { Self.annotateCaching(status: status, headers: headers, startLine: &elements[0], endOfHeaders: &boundary) }
        elements.append(boundary)

        // The body.
        let gzipped = headers.listElements("Content-Encoding").contains { ASCII.caseInsensitiveEquals($0, "gzip") }
        var body = WireBody()
        switch framing {
        case .none:
            return WireMessage(kind: kind, start: start, length: offset - start, elements: elements, body: nil)
        case .contentLength(let n):
            let available = bytes.count - offset
            let take = min(n, available)
            elements += bodyElements(offset..<(offset + take), gzipped: gzipped, headers: headers)
            body.payload = Array(bytes[offset..<(offset + take)])
            body.wireBytes = take
            if take < n {
                elements[elements.count - 1].warnings.append("Content-Length \(n) ≠ body \(take): \(WireAnalysis.bytesText(n - take)) missing (cut off?)")
            }
            offset += take
            if offset < bytes.count && !looksLikeMessage(at: offset) {
                var extra = WireElement(range: offset..<bytes.count, note: "bytes after the body", role: .body)
                extra.warnings.append("Content-Length \(n) ≠ body \(n + bytes.count - offset): \(WireAnalysis.bytesText(bytes.count - offset)) extra")
                elements.append(extra)
                offset = bytes.count
            }
        case .untilClose:
            let range = offset..<bytes.count
            elements += bodyElements(range, gzipped: gzipped, headers: headers)
            body.payload = Array(bytes[range])
            body.wireBytes = range.count
            offset = bytes.count
        case .chunked:
            let (chunkElements, end, summary) = analyzeChunks(from: offset, gzipped: gzipped)
            elements += chunkElements
            body = summary
            offset = end
        }
        if gzipped {
            do {
                body.gzip = .decoded(try Gzip.decompress(body.payload, limit: 16 << 20))
            } catch {
                body.gzip = .failed(error.message)
            }
        }
        return WireMessage(kind: kind, start: start, length: offset - start, elements: elements, body: body)
    }

    /// Body bytes as elements: a gzip member is split into its header, deflate data and trailer.
    func bodyElements(_ range: Range<Int>, gzipped: Bool, label: String = "body") -> [WireElement] {
        guard !range.isEmpty else { return [] }
        let data = bytes[range]
        if gzipped, data.count >= 18, data.starts(with: [0x1f, 0x8b]) {
            let headerEnd = range.lowerBound + 10, trailerStart = range.upperBound - 8
            let flags = bytes[range.lowerBound + 3]
            let os = bytes[range.lowerBound + 9]
            let mtime = (0..<4).reduce(0) { $0 | Int(bytes[range.lowerBound + 4 + $1]) << (8 * $1) }
            let osName = os == 3 ? "Unix" : os == 255 ? "unknown" : "\(os)"
            var header = WireElement(range: range.lowerBound..<headerEnd,
                                     note: "gzip header  1f8b magic, \(String(bytes[range.lowerBound + 2], radix: 16).leftPadded(to: 2))=deflate, flags \(String(flags, radix: 16).leftPadded(to: 2)), mtime \(mtime), OS \(String(os, radix: 16).leftPadded(to: 2))=\(osName)",
                                     role: .body, isBody: true, bodyDescription: "gzip header")
            if flags != 0 { header.note += " (flags set: extra fields follow)" }
            let deflate = WireElement(range: headerEnd..<trailerStart, note: "deflate data (\(trailerStart - headerEnd) bytes)",
                                      role: .body, isBody: true, bodyDescription: "deflate data")
            let crc = (0..<4).reduce(0) { $0 | Int(bytes[trailerStart + $1]) << (8 * $1) }
            let size = (0..<4).reduce(0) { $0 | Int(bytes[trailerStart + 4 + $1]) << (8 * $1) }
            let trailer = WireElement(range: trailerStart..<range.upperBound,
                                      note: "gzip trailer  CRC32 \(String(crc, radix: 16).leftPadded(to: 8)), ISIZE \(size)",
                                      role: .body, isBody: true, bodyDescription: "gzip trailer")
            return [header, deflate, trailer]
        }
        let description = gzipped ? "gzip data" : nil
        return [WireElement(range: range, note: "\(label) (\(WireAnalysis.bytesText(range.count))\(gzipped ? ", gzip" : ""))", role: .body, isBody: true, bodyDescription: description)]
    }

    /// The bytes after a chunked body broke: a receiver can no longer tell where anything ends.
    func framingLost(from offset: Int) -> WireElement {
        var element = WireElement(range: offset..<bytes.count, note: "the rest (\(bytes.count - offset) bytes)", role: .body, isBody: true,
                                  bodyDescription: "unframed")
        element.warnings.append("framing lost: a server would answer 400 and close here")
        return element
    }
}
