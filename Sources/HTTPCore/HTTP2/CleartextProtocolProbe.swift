/// Which protocol a client speaks on a cleartext port that serves HTTP/1.1 and HTTP/2 side by side, judged
/// from its first bytes (there is no ALPN on plain TCP to say it beforehand, RFC 9113 §3.3).
///
/// - The HTTP/2 preface's first line, `PRI * HTTP/2.0`, is HTTP/2: the HTTP/2 machine reads on, and answers a
///   wrong rest of the preface with GOAWAY PROTOCOL_ERROR (§3.4).
/// - A first line that ends in a version `HTTP/…` is HTTP/1.x: the HTTP/1.1 parser answers it, with a 400 or
///   a 505 if it is wrong (RFC 9112 §2.3, §3), in a language that client reads.
/// - Any other first line (`INVALID CONNECTION PREFACE`, `hello`, binary noise) is neither: no HTTP/1.x
///   client sends a request line without a version, so the client is taken at its other possible word, an
///   HTTP/2 client with a broken preface, and gets the connection error §3.4 prescribes.
/// - Until the first line is whole, the bytes may still be either: wait for more. Empty lines before it
///   are skipped, as HTTP/1.1's parser skips them (RFC 9112 §2.2). A line longer than HTTP/1.1 takes goes
///   to its parser, which refuses it (414), by the parser's own bound: every split of the same bytes gets
///   the same verdict, as it gets the same answer from the parser (`LineScanner`).
public enum CleartextProtocolProbe {
    public enum Verdict: Sendable, Hashable {
        case http1
        case http2
        case needMoreBytes
    }

    /// The preface's first line with its CRLF: 16 octets that no HTTP/1.x request begins with.
    static let http2Line = Array(HTTP2Connection.clientPreface.prefix(16))

    public static func judge(_ bytes: [UInt8], maxLineBytes: Int) -> Verdict {
        if bytes.starts(with: http2Line) { return .http2 }
        if bytes.count < http2Line.count && http2Line.starts(with: bytes) { return .needMoreBytes }
        // Empty lines first are HTTP/1.1's, up to the number its parser skips; past it, its 400.
        var lineStart = bytes.startIndex, emptyLines = 0
        while bytes.endIndex - lineStart >= 2, bytes[lineStart] == ASCII.cr, bytes[lineStart + 1] == ASCII.lf {
            lineStart += 2
            emptyLines += 1
            if emptyLines > RequestParser.maxEmptyLinesBeforeRequest { return .http1 }
        }
        let lineFeed = bytes[lineStart...].firstIndex(of: ASCII.lf)
        // The parser's bound (the line and its CR), on the bytes before the LF whether or not it has come.
        if (lineFeed ?? bytes.endIndex) - lineStart > maxLineBytes + 1 { return .http1 }
        guard let lineFeed else { return .needMoreBytes }
        var line = bytes[lineStart..<lineFeed]
        if line.last == ASCII.cr { line = line.dropLast() }
        // RFC 9112 §3: request-line = method SP request-target SP HTTP-version. The version is what follows
        // the last space; "HTTP/" is enough to call it HTTP/1.x (the parser checks the rest).
        guard let lastSpace = line.lastIndex(of: ASCII.space) else { return .http2 }
        return line[(lastSpace + 1)...].starts(with: "HTTP/".utf8) ? .http1 : .http2
    }
}
