/// Why a request was refused: the status to answer with and a short reason for a person, which the
/// error response carries in its body ("400 Bad Request: header name contains whitespace before the colon").
public struct RequestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPStatus
    public var reason: String

    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code) \(status.reason): \(reason)" }

    static func badRequest(_ reason: String) -> RequestError { RequestError(.badRequest, reason) }

    /// The most bytes of a client's input that a reason quotes.
    static let quoteLimit = 40

    /// Client bytes as a reason may quote them: in single quotes, at most `quoteLimit` bytes, printable ASCII
    /// as is and every other byte (the quote and the backslash too) as `\xNN`, then `...` if cut. A reason
    /// names what was wrong and shows where; it never echoes the client's input back whole, because the
    /// reason is the body of the error response: raw bytes there could be anything (invalid UTF-8, markup,
    /// a megabyte), and the reply would carry them to whoever reads it. Every error that quotes client
    /// bytes goes through here: `quote(line)` reads `'GET /a\x01 HTTP/1.1'`.
    static func quote(_ bytes: some Collection<UInt8>) -> String {
        var text = "'"
        for byte in bytes.prefix(quoteLimit) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        return text + (bytes.count > quoteLimit ? "'..." : "'")
    }

    /// `quote` for a value the parser already holds as text (a header value), quoting its UTF-8 bytes.
    static func quote(_ text: some StringProtocol) -> String { quote(text.utf8) }
}
