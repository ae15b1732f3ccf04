/// Annotates the bytes of HTTP messages for a person: every byte shown in hex and as text (CR and LF drawn
/// as ␍ and ␊), each protocol element on its own rows with a note saying what it is, warnings for the
/// classic mistakes, and a summary with the decoded body. Pure: bytes in, text out.
///
///       0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1␍␊|  request-line  method=GET target=/ version=HTTP/1.1
///
/// Two densities: `.full` (hexdump -C geometry, a row starts at each element, CR LF never split across
/// rows) and `.compact` (one line per element, the bodies summarised).
public struct WireDump: Sendable {
    public enum Kind: Sendable { case request, response, detect }
    public enum Density: String, Sendable, CaseIterable { case full, compact }

    public struct Options: Sendable {
        public var density: Density = .full
        /// Draw CR, LF and other bytes with ASCII only ('.') instead of ␍ ␊ ·.
        public var ascii = false
        /// ANSI colour (only for a terminal, and never with NO_COLOR).
        public var color = false
        /// The method of the request a response answers (a response to HEAD has no body).
        public var requestMethod: String?
        /// How many bytes of a decoded body to show under the summary.
        public var bodyPreviewBytes = 400

        public init(density: Density = .full, ascii: Bool = false, color: Bool = false, requestMethod: String? = nil) {
            self.density = density
            self.ascii = ascii
            self.color = color
            self.requestMethod = requestMethod
        }
    }

    public var options: Options

    public init(_ options: Options = Options()) {
        self.options = options
    }

    /// The annotated dump of `bytes`, which may hold several messages one after another (pipelining).
    public func annotate(_ bytes: [UInt8], as kind: Kind = .detect) -> String {
        let messages = WireAnalyzer(bytes: bytes, requestMethod: options.requestMethod).analyze(kind)
        var out: [String] = []
        for (index, message) in messages.enumerated() {
            if messages.count > 1 {
                out.append(paint("-- message \(index + 1) of \(messages.count) (\(message.kind == .request ? "request" : "response")) at offset \(hex(message.start, width: 4))", .dim))
            }
            out += render(message, bytes)
        }
        return out.joined(separator: "\n") + (out.isEmpty ? "" : "\n")
    }

    // MARK: - Rendering

    private func render(_ message: AnalyzedMessage, _ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        for element in message.elements {
            switch options.density {
            case .full: lines += fullRows(element, bytes, base: message.start)
            case .compact: lines.append(compactLine(element, bytes))
            }
        }
        lines += summary(message)
        return lines
    }

    /// hexdump -C rows for one element: 16 bytes a row (8 + 8), a CR and its LF kept on one row.
    private func fullRows(_ element: Element, _ bytes: [UInt8], base: Int) -> [String] {
        var rows: [String] = []
        var notes = [element.note].filter { !$0.isEmpty }.map { paint($0, element.style) }
            + element.warnings.map { paint("⚠ " + $0, .warning) }
        var offset = element.range.lowerBound
        if element.range.isEmpty {
            rows.append(row(offset: offset - base, [], note: notes.isEmpty ? "" : notes.removeFirst()))
        }
        while offset < element.range.upperBound {
            var end = min(offset + 16, element.range.upperBound)
            if end - offset == 16, bytes[end - 1] == ASCII.cr, end < element.range.upperBound, bytes[end] == ASCII.lf {
                end -= 1 // never split CR LF
            }
            rows.append(row(offset: offset - base, Array(bytes[offset..<end]), note: notes.isEmpty ? "" : notes.removeFirst()))
            offset = end
        }
        for note in notes { rows.append(row(offset: nil, [], note: note)) }
        return rows
    }

    private func row(offset: Int?, _ chunk: [UInt8], note: String) -> String {
        var hexPart = ""
        for index in 0..<16 {
            if index == 8 { hexPart += " " }
            hexPart += index < chunk.count ? hex(Int(chunk[index]), width: 2) + " " : "   "
        }
        let text = chunk.map(glyph).joined()
        let padded = text + String(repeating: " ", count: 16 - chunk.count)
        let offsetText = offset.map { hex($0, width: $0 > 0xFFFF ? 8 : 4) } ?? "    "
        let line = "  \(paint(offsetText, .dim))  \(paint(hexPart, .dim)) |\(padded)|"
        return note.isEmpty ? line : line + "  " + note
    }

    private func compactLine(_ element: Element, _ bytes: [UInt8]) -> String {
        let shown: String
        if element.isBody {
            shown = "<\(bytesText(element.range.count))\(element.bodyDescription.map { " " + $0 } ?? "")>"
        } else {
            let slice = bytes[element.range]
            let text = slice.prefix(100).map(glyph).joined()
            shown = slice.count > 100 ? text + "…" : text
        }
        var line = "  " + shown
        let notes = [element.note].filter { !$0.isEmpty }.map { paint($0, element.style) } + element.warnings.map { paint("⚠ " + $0, .warning) }
        if !notes.isEmpty {
            let width = 40
            let visible = shown.count + 2
            line += String(repeating: " ", count: max(2, width - visible)) + notes.joined(separator: "  ")
        }
        return line
    }

    private func summary(_ message: AnalyzedMessage) -> [String] {
        var lines: [String] = []
        var text = "== \(message.kind == .request ? "request" : "response"): \(bytesText(message.length))"
        if let body = message.body {
            text += "; body: \(bytesText(body.wireBytes))"
            if body.chunks > 0 { text += " in \(body.chunks) chunk\(body.chunks == 1 ? "" : "s") (+\(body.framingBytes) framing bytes)" }
            if let gzip = body.gzip {
                switch gzip {
                case .decoded(let decoded):
                    let ratio = body.payload.isEmpty ? 0 : Double(decoded.count) / Double(body.payload.count)
                    text += ", gzip → \(decoded.count) bytes decoded (ratio \(format(ratio)))"
                case .failed(let reason):
                    text += ", gzip that does not decode: \(reason)"
                }
            }
        } else {
            text += "; no body"
        }
        lines.append(paint(text, .summary))
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
    private func preview(_ body: [UInt8]) -> [String] {
        let head = body.prefix(options.bodyPreviewBytes)
        let binary = head.filter { $0 < 0x20 && $0 != ASCII.lf && $0 != ASCII.cr && $0 != ASCII.tab }.count
        if binary > head.count / 10 { return ["   <\(body.count) bytes of binary data>"] }
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            "   " + line.replacing("\r", with: options.ascii ? "\\r" : "␍")
        }
        if text.hasSuffix("\n") { lines.removeLast() }
        if body.count > head.count { lines.append("   … (\(body.count - head.count) more bytes)") }
        return lines
    }

    // MARK: - Glyphs and colour

    private func glyph(_ byte: UInt8) -> String {
        switch byte {
        case ASCII.cr: return options.ascii ? "." : "␍"
        case ASCII.lf: return options.ascii ? "." : "␊"
        case 0x20...0x7E: return String(UnicodeScalar(byte))
        default: return options.ascii ? "." : "·"
        }
    }

    enum Style { case plain, startLine, header, boundary, body, warning, summary, dim }

    private func paint(_ text: String, _ style: Style) -> String {
        guard options.color else { return text }
        let code: String
        switch style {
        case .plain: return text
        case .startLine: code = "1;36"
        case .header: code = "36"
        case .boundary: code = "35"
        case .body: code = "32"
        case .warning: code = "1;33"
        case .summary: code = "1"
        case .dim: code = "2"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    private func hex(_ value: Int, width: Int) -> String {
        String(value, radix: 16).leftPadded(to: width)
    }

    private func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(String(hundredths % 100).leftPadded(to: 2))"
    }
}

// MARK: - Analysis

/// One protocol element: a byte range and what it is.
struct Element: Sendable {
    var range: Range<Int>
    var note: String
    var warnings: [String] = []
    var style: WireDump.Style = .plain
    var isBody = false
    var bodyDescription: String?
}

enum GzipResult: Sendable {
    case decoded([UInt8])
    case failed(String)
}

struct BodySummary: Sendable {
    var wireBytes = 0
    var framingBytes = 0
    var chunks = 0
    /// The body with chunk framing removed.
    var payload: [UInt8] = []
    var gzip: GzipResult?
}

struct AnalyzedMessage: Sendable {
    var kind: WireDump.Kind
    var start: Int
    var length: Int
    var elements: [Element]
    var body: BodySummary?
}

/// Splits bytes into messages and elements. Lenient where a parser is strict: it never refuses, it
/// explains — a malformed message is annotated as far as it goes, with warnings.
struct WireAnalyzer {
    let bytes: [UInt8]
    let requestMethod: String?

    func analyze(_ kind: WireDump.Kind) -> [AnalyzedMessage] {
        var messages: [AnalyzedMessage] = []
        var offset = 0
        while offset < bytes.count && messages.count < 100 {
            let messageKind = kind == .detect ? detect(at: offset) : kind
            let message = analyzeMessage(at: offset, kind: messageKind, method: requestMethod)
            messages.append(message)
            guard message.length > 0 else { break }
            offset += message.length
        }
        return messages
    }

    func detect(at offset: Int) -> WireDump.Kind {
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

    func analyzeMessage(at start: Int, kind: WireDump.Kind, method: String?) -> AnalyzedMessage {
        var elements: [Element] = []
        var offset = start
        var headers = HTTPHeaders()
        var version = ""
        var status = 0

        // Start line.
        guard let first = line(at: offset) else {
            var element = Element(range: offset..<bytes.count, note: "incomplete start line", style: .startLine)
            element.warnings.append("no line end: the message is cut off (or uses no LF at all)")
            return AnalyzedMessage(kind: kind, start: start, length: bytes.count - start, elements: [element], body: nil)
        }
        var startLine = Element(range: offset..<first.next, note: "", style: .startLine)
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
        var endOfHeaders: Element?
        while let current = line(at: offset) {
            if current.content.isEmpty {
                endOfHeaders = Element(range: offset..<current.next, note: "end of headers", style: .boundary)
                if current.bareLF { endOfHeaders?.warnings.append("bare LF (expected CRLF)") }
                offset = current.next
                break
            }
            var element = Element(range: offset..<current.next, note: "", style: .header)
            let content = bytes[current.content]
            if let colon = content.firstIndex(of: ASCII.colon) {
                let name = text(current.content.lowerBound..<colon)
                let value = text((colon + 1)..<current.content.upperBound).trimmingASCIIWhitespace()
                element.note = "header  \(name.trimmingASCIIWhitespace())"
                if let last = name.utf8.last, ASCII.isWhitespace(last) { element.warnings.append("whitespace before ':' (a 400 in HTTP/1.1)") }
                if let firstByte = content.first, ASCII.isWhitespace(firstByte) { element.warnings.append("starts with whitespace: obsolete line folding") }
                headers.add(name.trimmingASCIIWhitespace(), value)
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
                var rest = Element(range: offset..<bytes.count, note: "incomplete line", style: .header)
                rest.warnings.append("no line end: the header section is cut off")
                elements.append(rest)
            } else {
                elements[elements.count - 1].warnings.append("no empty line: the header section never ends")
            }
            return AnalyzedMessage(kind: kind, start: start, length: bytes.count - start, elements: elements, body: nil)
        }

        // The framing decision, from the headers (RFC 9112 §6.3).
        let hasCL = headers.contains("Content-Length"), hasTE = headers.contains("Transfer-Encoding")
        let chunked = headers.listElements("Transfer-Encoding").last.map { ASCII.caseInsensitiveEquals($0, "chunked") } ?? false
        // Digits only: Int("-1") would parse, and a negative length is not a length (a fuzzer found it).
        let length = headers["Content-Length"].flatMap { value in
            !value.isEmpty && value.utf8.allSatisfy(ASCII.isDigit) && value.utf8.count <= 18 ? Int(value) : nil
        }
        enum Framing { case none, length(Int), chunked, untilClose }
        let framing: Framing
        if kind == .response && (method == "HEAD" || (100...199).contains(status) || status == 204 || status == 304) {
            framing = .none
        } else if chunked {
            framing = .chunked
        } else if let length {
            framing = .length(length)
        } else if kind == .response {
            framing = hasTE ? .untilClose : .untilClose
        } else {
            framing = .none
        }
        switch framing {
        case .none: boundary.note += kind == .response ? " → no body (\(method == "HEAD" ? "HEAD" : "status \(status)"))" : " → no body"
        case .length(let n): boundary.note += " → body framing: Content-Length \(n)"
        case .chunked: boundary.note += " → body framing: chunked"
        case .untilClose: boundary.note += " → body framing: read until close"
        }
        if kind == .request && version == "HTTP/1.1" && !headers.contains("Host") { boundary.warnings.append("no Host header (HTTP/1.1 requires one)") }
        if hasCL && hasTE { boundary.warnings.append("both Content-Length and Transfer-Encoding (request smuggling risk)") }
        if hasCL && length == nil { boundary.warnings.append("Content-Length '\(headers["Content-Length"] ?? "")' is not a number") }
        elements.append(boundary)

        // The body.
        let gzipped = headers.listElements("Content-Encoding").contains { ASCII.caseInsensitiveEquals($0, "gzip") }
        var body = BodySummary()
        switch framing {
        case .none:
            return AnalyzedMessage(kind: kind, start: start, length: offset - start, elements: elements, body: nil)
        case .length(let n):
            let available = bytes.count - offset
            let take = min(n, available)
            elements += bodyElements(offset..<(offset + take), gzipped: gzipped)
            body.payload = Array(bytes[offset..<(offset + take)])
            body.wireBytes = take
            if take < n {
                elements[elements.count - 1].warnings.append("Content-Length \(n) ≠ body \(take): \(bytesText(n - take)) missing (cut off?)")
            }
            offset += take
            if offset < bytes.count && !looksLikeMessage(at: offset) {
                var extra = Element(range: offset..<bytes.count, note: "bytes after the body", style: .body)
                extra.warnings.append("Content-Length \(n) ≠ body \(n + bytes.count - offset): \(bytesText(bytes.count - offset)) extra")
                elements.append(extra)
                offset = bytes.count
            }
        case .untilClose:
            let range = offset..<bytes.count
            elements += bodyElements(range, gzipped: gzipped)
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
        return AnalyzedMessage(kind: kind, start: start, length: offset - start, elements: elements, body: body)
    }

    /// Body bytes as elements: a gzip member is split into its header, deflate data and trailer.
    func bodyElements(_ range: Range<Int>, gzipped: Bool, label: String = "body") -> [Element] {
        guard !range.isEmpty else { return [] }
        let data = bytes[range]
        if gzipped, data.count >= 18, data.starts(with: [0x1f, 0x8b]) {
            let headerEnd = range.lowerBound + 10, trailerStart = range.upperBound - 8
            let flags = bytes[range.lowerBound + 3]
            let os = bytes[range.lowerBound + 9]
            let mtime = (0..<4).reduce(0) { $0 | Int(bytes[range.lowerBound + 4 + $1]) << (8 * $1) }
            let osName = os == 3 ? "Unix" : os == 255 ? "unknown" : "\(os)"
            var header = Element(range: range.lowerBound..<headerEnd,
                                 note: "gzip header  1f8b magic, \(String(bytes[range.lowerBound + 2], radix: 16).leftPadded(to: 2))=deflate, flags \(String(flags, radix: 16).leftPadded(to: 2)), mtime \(mtime), OS \(String(os, radix: 16).leftPadded(to: 2))=\(osName)",
                                 style: .body, isBody: true, bodyDescription: "gzip header")
            if flags != 0 { header.note += " (flags set: extra fields follow)" }
            let deflate = Element(range: headerEnd..<trailerStart, note: "deflate data (\(trailerStart - headerEnd) bytes)",
                                  style: .body, isBody: true, bodyDescription: "deflate data")
            let crc = (0..<4).reduce(0) { $0 | Int(bytes[trailerStart + $1]) << (8 * $1) }
            let size = (0..<4).reduce(0) { $0 | Int(bytes[trailerStart + 4 + $1]) << (8 * $1) }
            let trailer = Element(range: trailerStart..<range.upperBound,
                                  note: "gzip trailer  CRC32 \(String(crc, radix: 16).leftPadded(to: 8)), ISIZE \(size)",
                                  style: .body, isBody: true, bodyDescription: "gzip trailer")
            return [header, deflate, trailer]
        }
        let description = gzipped ? "gzip data" : nil
        return [Element(range: range, note: "\(label) (\(bytesText(range.count))\(gzipped ? ", gzip" : ""))", style: .body, isBody: true, bodyDescription: description)]
    }

    /// The bytes after a chunked body broke: a receiver can no longer tell where anything ends.
    func framingLost(from offset: Int) -> Element {
        var element = Element(range: offset..<bytes.count, note: "the rest (\(bytes.count - offset) bytes)", style: .body, isBody: true,
                              bodyDescription: "unframed")
        element.warnings.append("framing lost: a server would answer 400 and close here")
        return element
    }

    /// chunk-size lines, chunk data, the last chunk, trailers and the final CRLF (RFC 9112 §7.1).
    func analyzeChunks(from start: Int, gzipped: Bool) -> ([Element], Int, BodySummary) {
        var elements: [Element] = []
        var summary = BodySummary()
        var offset = start
        var dataRanges: [Range<Int>] = []
        while offset < bytes.count {
            guard let sizeLine = line(at: offset) else {
                var element = Element(range: offset..<bytes.count, note: "chunk-size?", style: .boundary)
                element.warnings.append("no line end: the chunked body is cut off")
                elements.append(element)
                offset = bytes.count
                break
            }
            let sizeText = text(sizeLine.content)
            // On bytes: a fuzzer found that asking a non-ASCII character for its ASCII value traps.
            let hexDigits = String(decoding: bytes[sizeLine.content].prefix { ASCII.hexValue($0) != nil }, as: UTF8.self)
            var sizeElement = Element(range: offset..<sizeLine.next, note: "", style: .boundary)
            if sizeLine.bareLF { sizeElement.warnings.append("bare LF (expected CRLF)") }
            guard let size = Int(hexDigits, radix: 16), hexDigits.count <= 15 else {
                sizeElement.note = "chunk-size?"
                sizeElement.warnings.append("'\(sizeText)' is not a hexadecimal chunk size")
                elements.append(sizeElement)
                offset = sizeLine.next
                if offset < bytes.count { elements.append(framingLost(from: offset)) }
                offset = bytes.count
                break
            }
            let extensions = String(decoding: bytes[sizeLine.content].dropFirst(hexDigits.utf8.count), as: UTF8.self)
            summary.framingBytes += sizeLine.next - offset
            offset = sizeLine.next
            if size == 0 {
                sizeElement.note = "last-chunk (size 0)" + (extensions.isEmpty ? "" : ", extensions \(extensions)")
                elements.append(sizeElement)
                // Trailer fields, then the final CRLF.
                while let trailer = line(at: offset) {
                    if trailer.content.isEmpty {
                        var end = Element(range: offset..<trailer.next, note: "end of chunked body\(elements.last?.note.hasPrefix("trailer") == true ? "" : " (no trailers)")", style: .boundary)
                        if trailer.bareLF { end.warnings.append("bare LF (expected CRLF)") }
                        elements.append(end)
                        summary.framingBytes += trailer.next - offset
                        offset = trailer.next
                        break
                    }
                    let name = text(trailer.content).split(separator: ":").first.map(String.init) ?? "?"
                    elements.append(Element(range: offset..<trailer.next, note: "trailer  \(name)", style: .header))
                    summary.framingBytes += trailer.next - offset
                    offset = trailer.next
                }
                if elements.last?.note.hasPrefix("end of chunked body") != true {
                    elements[elements.count - 1].warnings.append("the chunked body never ends (no final CRLF)")
                }
                break
            }
            sizeElement.note = "chunk-size 0x\(hexDigits) = \(bytesText(size))" + (extensions.isEmpty ? "" : ", extensions '\(extensions)' ignored")
            elements.append(sizeElement)
            summary.chunks += 1
            let available = min(size, bytes.count - offset)
            if available == 0 {
                elements[elements.count - 1].warnings.append("chunk-size says \(size), got 0 (cut off)")
                break
            }
            let dataRange = offset..<(offset + available)
            dataRanges.append(dataRange)
            var dataElements = gzipped && summary.chunks == 1
                ? bodyElements(dataRange, gzipped: false, label: "chunk data")
                : bodyElements(dataRange, gzipped: false, label: "chunk data")
            if gzipped && summary.chunks == 1 && dataRange.count >= 10 && bytes[dataRange].starts(with: [0x1f, 0x8b]) {
                dataElements[0].note = "chunk data (\(dataRange.count) bytes), gzip member starts: 1f8b magic, 08=deflate"
            }
            summary.payload += bytes[dataRange]
            offset += available
            if available < size {
                dataElements[dataElements.count - 1].warnings.append("chunk-size says \(size), got \(available) (cut off)")
                elements += dataElements
                break
            }
            // The CRLF after the data; if it is not there, the size was wrong: find where the data really ended.
            if offset + 1 < bytes.count, bytes[offset] == ASCII.cr, bytes[offset + 1] == ASCII.lf {
                elements += dataElements
                elements.append(Element(range: offset..<(offset + 2), note: "end of chunk data", style: .boundary))
                summary.framingBytes += 2
                offset += 2
            } else {
                let actual = bytes[dataRange.lowerBound...].firstRange(of: ASCII.crlf).map { $0.lowerBound - dataRange.lowerBound }
                dataElements[dataElements.count - 1].warnings.append(
                    actual.map { "chunk-size says \(size), got \($0) (the data is not followed by CRLF)" } ?? "chunk data is not followed by CRLF")
                elements += dataElements
                elements.append(framingLost(from: offset))
                offset = bytes.count
                break
            }
        }
        summary.wireBytes = offset - start
        if gzipped && dataRanges.count > 1 {
            for index in elements.indices where elements[index].note.hasPrefix("chunk data") {
                elements[index].bodyDescription = "gzip data"
            }
        }
        return (elements, offset, summary)
    }
}

/// "1 byte", "2 bytes".
func bytesText(_ count: Int) -> String { count == 1 ? "1 byte" : "\(count) bytes" }
