import HTTPCore

/// How the wire dump looks on the terminal at hand: control pictures or ASCII dots for the bytes, ANSI
/// colour or none for the notes. Colour is off unless asked for, so the output is deterministic and
/// golden-tested; the callers turn it on only for a terminal without NO_COLOR.
struct WireDumpPalette: Sendable {
    /// Draw CR, LF and other bytes with '.' for terminals (or fonts) without the control pictures.
    var ascii: Bool
    var color: Bool

    enum Style { case startLine, header, boundary, body, warning, summary, dim }

    /// A byte as one character: printable ASCII as itself, CR and LF as ␍ and ␊, anything else as ·, so a
    /// real '.' (0x2e) stays distinguishable from a byte that cannot be shown.
    func glyph(_ byte: UInt8) -> String {
        switch byte {
        case ASCII.cr: return ascii ? "." : "␍"
        case ASCII.lf: return ascii ? "." : "␊"
        case 0x20...0x7E: return String(UnicodeScalar(byte))
        default: return ascii ? "." : "·"
        }
    }

    /// The colour of an element's note, by the part of the message it belongs to.
    func style(for role: WireElement.Role) -> Style {
        switch role {
        case .startLine: return .startLine
        case .header: return .header
        case .boundary: return .boundary
        case .body: return .body
        }
    }

    func paint(_ text: String, _ style: Style) -> String {
        guard color else { return text }
        let code: String
        switch style {
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
}
