import HTTPCore

/// Draws a `WireAnalysis` for a person: every byte shown in hex and as text (CR and LF drawn as ␍ and ␊),
/// each protocol element on its own rows with its note, its details indented under it (an ETag decoded, each
/// range of a Range), warnings after a ⚠, and a summary with the decoded body. The analysis decides what the bytes are; this decides only how they look on a terminal.
///
///       0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1␍␊|  request-line  method=GET target=/ version=HTTP/1.1
///
/// Two densities: `.full` (hexdump -C geometry, a row starts at each element, CR LF never split across
/// rows) and `.compact` (one line per element, the bodies summarised). The summary and body preview are in
/// WireDumpRenderer+Summary.swift, glyphs and colour in WireDumpPalette.swift.
struct WireDumpRenderer: Sendable {
    enum Density: String, Sendable, CaseIterable { case full, compact }

    struct Options: Sendable {
        var density: Density = .full
        /// Draw CR, LF and other bytes with ASCII only ('.') instead of ␍ ␊ ·.
        var ascii = false
        /// ANSI colour (only for a terminal, and never with NO_COLOR).
        var color = false
        /// How many bytes of a decoded body to show under the summary.
        var bodyPreviewBytes = 400

        init(density: Density = .full, ascii: Bool = false, color: Bool = false) {
            self.density = density
            self.ascii = ascii
            self.color = color
        }
    }

    var options: Options

    init(_ options: Options = Options()) {
        self.options = options
    }

    var palette: WireDumpPalette { WireDumpPalette(ascii: options.ascii, color: options.color) }

    /// The dump of every message in `analysis`, one line per row, each line ending in a newline.
    func render(_ analysis: WireAnalysis) -> String {
        let messages = analysis.messages
        var out: [String] = []
        for (index, message) in messages.enumerated() {
            if messages.count > 1 {
                out.append(palette.paint("-- message \(index + 1) of \(messages.count) (\(message.kind.rawValue)) at offset \(Self.hex(message.start, width: 4))", .dim))
            }
            out += render(message, analysis.bytes)
        }
        return out.joined(separator: "\n") + (out.isEmpty ? "" : "\n")
    }

    private func render(_ message: WireMessage, _ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        for element in message.elements {
            switch options.density {
            case .full: lines += fullRows(element, bytes, base: message.start)
            case .compact: lines.append(compactLine(element, bytes, hex: message.kind == .tls || message.kind == .http2))
            }
        }
        lines += summary(message)
        return lines
    }

    /// The note, its details (indented under it) and each warning: one per row in full density, side by
    /// side in compact.
    private func notes(_ element: WireElement) -> [String] {
        let style = palette.style(for: element.role)
        return [element.note].filter { !$0.isEmpty }.map { palette.paint($0, style) }
            + element.details.map { palette.paint((options.density == .full ? "  " : "") + $0, style) }
            + element.warnings.map { palette.paint("⚠ " + $0, .warning) }
    }

    /// hexdump -C rows for one element: 16 bytes a row (8 + 8), a CR and its LF kept on one row.
    private func fullRows(_ element: WireElement, _ bytes: [UInt8], base: Int) -> [String] {
        var rows: [String] = []
        var notes = notes(element)
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
        // More notes than rows (a short element with warnings): the rest go on rows of their own.
        for note in notes { rows.append(row(offset: nil, [], note: note)) }
        return rows
    }

    private func row(offset: Int?, _ chunk: [UInt8], note: String) -> String {
        var hexPart = ""
        for index in 0..<16 {
            if index == 8 { hexPart += " " }
            hexPart += index < chunk.count ? Self.hex(Int(chunk[index]), width: 2) + " " : "   "
        }
        let text = chunk.map(palette.glyph).joined()
        let padded = text + String(repeating: " ", count: 16 - chunk.count)
        let offsetText = offset.map { Self.hex($0, width: $0 > 0xFFFF ? 8 : 4) } ?? "    "
        let line = "  \(palette.paint(offsetText, .dim))  \(palette.paint(hexPart, .dim)) |\(padded)|"
        return note.isEmpty ? line : line + "  " + note
    }

    /// One line: the element's text (or `<N bytes …>` for body bytes), then its notes from column 40.
    /// Binary protocols (`hex`: TLS records, HTTP/2 frames) show their first 8 bytes in hex instead of as text.
    private func compactLine(_ element: WireElement, _ bytes: [UInt8], hex: Bool = false) -> String {
        let shown: String
        if element.isBody {
            shown = "<\(WireAnalysis.bytesText(element.range.count))\(element.bodyDescription.map { " " + $0 } ?? "")>"
        } else if hex {
            let slice = bytes[element.range]
            shown = slice.prefix(8).map { Self.hex(Int($0), width: 2) }.joined(separator: " ") + (slice.count > 8 ? " …" : "")
        } else {
            let slice = bytes[element.range]
            let text = slice.prefix(100).map(palette.glyph).joined()
            shown = slice.count > 100 ? text + "…" : text
        }
        var line = "  " + shown
        let notes = notes(element)
        if !notes.isEmpty {
            let width = 40
            let visible = shown.count + 2
            line += String(repeating: " ", count: max(2, width - visible)) + notes.joined(separator: "  ")
        }
        return line
    }

    /// Lowercase hex, zero-padded to `width` digits.
    static func hex(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
