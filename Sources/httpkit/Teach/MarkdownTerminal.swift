/// Renders the Markdown the lessons use for a terminal: headings underlined, paragraphs and list items
/// wrapped to the width, code blocks indented and never wrapped, tables as they are. With colour,
/// headings are bold and code is dimmed; without, the text stays plain (for pipes and NO_COLOR).
struct MarkdownTerminal {
    let width: Int
    let color: Bool

    func render(_ markdown: String) -> String {
        var out: [String] = []
        var paragraph: [String] = []
        var listIndent = ""
        var inCode = false

        func flush() {
            guard !paragraph.isEmpty else { return }
            let text = inline(paragraph.joined(separator: " "))
            out += wrap(text, firstPrefix: listIndent.isEmpty ? "" : listIndent, restPrefix: String(repeating: " ", count: listIndent.count))
            paragraph = []
            listIndent = ""
        }

        for rawLine in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasPrefix("```") {
                flush()
                inCode.toggle()
                if inCode { out.append("") }
                continue
            }
            if inCode {
                out.append(paint("    " + line, "2"))
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                flush()
                if out.last != "" { out.append("") }
            } else if line.hasPrefix("#") {
                flush()
                let level = line.prefix { $0 == "#" }.count
                let title = inline(String(line.dropFirst(level)).trimmingCharacters(in: .whitespaces))
                out.append(paint(title, level == 1 ? "1;4" : "1"))
                if level <= 2 { out.append(String(repeating: level == 1 ? "=" : "-", count: min(width, visibleLength(title)))) }
            } else if line.hasPrefix("|") || line.hasPrefix("<!--") {
                flush()
                if !line.hasPrefix("<!--") { out.append(line) }
            } else if let marker = listMarker(trimmed) {
                flush()
                let indent = String(repeating: " ", count: line.count - line.drop { $0 == " " }.count)
                listIndent = indent + marker
                paragraph = [String(trimmed.dropFirst(marker.count))]
            } else {
                paragraph.append(trimmed)
            }
        }
        flush()
        return out.joined(separator: "\n") + "\n"
    }

    private func listMarker(_ line: String) -> String? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return "- " }
        let digits = line.prefix { $0.isNumber }
        if !digits.isEmpty, line.dropFirst(digits.count).hasPrefix(". ") { return digits + ". " }
        return nil
    }

    /// `code` and **bold**: coloured on a terminal, the markers dropped either way.
    private func inline(_ text: String) -> String {
        var out = ""
        var inCode = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "`" {
                inCode.toggle()
                if color { out += inCode ? "\u{1B}[36m" : "\u{1B}[0m" }
            } else if !inCode, text[index...].hasPrefix("**") {
                index = text.index(index, offsetBy: 2)
                continue
            } else {
                out.append(character)
            }
            index = text.index(after: index)
        }
        return out
    }

    private func wrap(_ text: String, firstPrefix: String, restPrefix: String) -> [String] {
        var lines: [String] = []
        var current = firstPrefix
        var currentLength = firstPrefix.count
        for word in text.split(separator: " ") {
            let length = visibleLength(String(word))
            if currentLength + length + 1 > width && currentLength > restPrefix.count {
                lines.append(current)
                current = restPrefix
                currentLength = restPrefix.count
            }
            if currentLength > (lines.isEmpty ? firstPrefix.count : restPrefix.count) {
                current += " "
                currentLength += 1
            }
            current += word
            currentLength += length
        }
        lines.append(current)
        return lines
    }

    private func visibleLength(_ text: String) -> Int {
        var length = 0, escape = false
        for character in text {
            if character == "\u{1B}" { escape = true; continue }
            if escape { if character == "m" { escape = false }; continue }
            length += 1
        }
        return length
    }

    private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
}
