/// What the bytes of HTTP messages are, element by element: the start line and its parsed fields, each
/// header, where the headers end and how the body is framed, chunk sizes and chunk data, the parts of a
/// gzip member, validators, conditions and ranges decoded (a multipart/byteranges body split into its
/// parts), and warnings for the classic mistakes (bare LF, no Host, a Content-Length or chunk-size
/// that disagrees with the data). Pure data, bytes in: the wire dump (`httpkit dump`, the REPL, `httpkit
/// check`) draws it, and drawing — hex rows, glyphs, colour — is the command line's job
/// (Sources/httpkit/WireDump/), so that the protocol core stays free of terminal concerns.
///
/// Lenient where a parser is strict: it never refuses, it explains. A malformed message is analysed as far
/// as it goes, with warnings.
public struct WireAnalysis: Sendable {
    /// The bytes analysed; every element's range indexes into them.
    public let bytes: [UInt8]
    /// The messages one after another: several when requests are pipelined (at most 100).
    public let messages: [WireMessage]

    /// Analyses `bytes`, which may hold several messages one after another.
    /// - Parameters:
    ///   - kind: what the messages are; nil tells each one apart by its first line (`HTTP/` starts a response).
    ///   - requestMethod: the method of the request a response answers, because a response to HEAD has no body.
    public init(_ bytes: [UInt8], as kind: WireMessage.Kind? = nil, requestMethod: String? = nil) {
        self.bytes = bytes
        self.messages = WireAnalyzer(bytes: bytes, requestMethod: requestMethod).analyze(kind)
    }

    /// Analyses `bytes` as WebSocket frames only (a capture taken after the handshake), all sent by `sender`.
    /// With `deflate`, permessage-deflate was negotiated: payloads marked RSV1 are inflated for display.
    public init(webSocketFrames bytes: [UInt8], from sender: WireWebSocket.Sender, deflate: Bool = false) {
        self.bytes = bytes
        let analyzer = WireAnalyzer(bytes: bytes, requestMethod: nil)
        self.messages = bytes.isEmpty ? [] : [analyzer.analyzeFrames(from: 0, sender: sender, deflate: deflate)]
    }

    /// Analyses `bytes` as HTTP/2 frames all sent by `sender` (WireAnalyzer+HTTP2.swift); a client's capture
    /// may start with the connection preface. Without it, bytes that start with the preface are analysed as
    /// frames from the client. `context` carries the HPACK tables and settings from one capture of a
    /// connection to the next (the REPL keeps one per connection).
    public init(http2Frames bytes: [UInt8], from sender: WireHTTP2.Sender, context: inout WireHTTP2Context) {
        self.bytes = bytes
        self.messages = bytes.isEmpty ? [] : [WireAnalyzer(bytes: bytes, requestMethod: nil).analyzeHTTP2(from: 0, sender: sender, context: &context)]
    }

    /// Analyses `bytes` as HTTP/2 frames from `sender`, with a fresh context (a whole capture of one direction).
    public init(http2Frames bytes: [UInt8], from sender: WireHTTP2.Sender) {
        var context = WireHTTP2Context()
        self.init(http2Frames: bytes, from: sender, context: &context)
    }

    /// Analyses `bytes` as TLS records (a capture of either side of a TLS connection; WireAnalyzer+TLS.swift).
    /// Without it, bytes that start with a TLS record header are analysed as records too.
    public init(tlsRecords bytes: [UInt8]) {
        self.bytes = bytes
        self.messages = bytes.isEmpty ? [] : [WireAnalyzer(bytes: bytes, requestMethod: nil).analyzeTLS(from: 0)]
    }

    /// "1 byte", "2 bytes": the one wording of a byte count, shared by the notes here and the dump's summary.
    public static func bytesText(_ count: Int) -> String { count == 1 ? "1 byte" : "\(count) bytes" }
}

/// One message: where it starts in the analysed bytes, how long it is, its elements and its body.
/// After a `101 Switching Protocols` (or a request with `Upgrade: websocket`), the rest is one `.frames` message;
/// bytes that start with a TLS record header are one `.tls` message, and bytes that start with the HTTP/2
/// client preface one `.http2` message.
public struct WireMessage: Sendable {
    public enum Kind: String, Sendable { case request, response, frames = "websocket frames", tls = "tls records", http2 = "http2 frames" }

    public var kind: Kind
    /// The offset of the first byte in `WireAnalysis.bytes`.
    public var start: Int
    public var length: Int
    public var elements: [WireElement]
    /// nil when the message has no body (a GET, a 204, a response to HEAD) or its head never ended.
    public var body: WireBody?
    /// The frames' sender and the messages they carried, when `kind` is `.frames` (WireAnalyzer+WebSocket.swift).
    public var webSocket: WireWebSocket?
    /// What the records said, when `kind` is `.tls` (WireAnalyzer+TLS.swift).
    public var tls: WireTLS?
    /// What the frames said, when `kind` is `.http2` (WireAnalyzer+HTTP2.swift).
    public var http2: WireHTTP2?
}

/// One protocol element: a byte range and what it is (`header  Host`, `chunk-size 0x54 = 84 bytes`).
public struct WireElement: Sendable {
    /// The part of the message an element belongs to, so a renderer can tell them apart (by colour, say).
    public enum Role: Sendable { case startLine, header, boundary, body }

    /// Indexes into `WireAnalysis.bytes` (not relative to the message).
    public var range: Range<Int>
    /// What the bytes are, for a person; empty when there is nothing to say.
    public var note: String
    /// What the note's subject means, decoded, a row each (`strong entity tag, opaque 674d-30`, one
    /// range of a Range field): shown under the note, before the warnings.
    public var details: [String] = []
    /// What is wrong with them, each a sentence without the ⚠ a renderer puts before it.
    public var warnings: [String] = []
    public var role: Role
    /// Body bytes: a compact view summarises them (`<84 bytes gzip header>`) instead of showing them.
    public var isBody = false
    /// The few words that summary uses ("gzip header", "deflate data", "unframed").
    public var bodyDescription: String?
}

/// What the body of a message held once its framing was taken off.
public struct WireBody: Sendable {
    /// The outcome of decoding a body sent with `Content-Encoding: gzip`.
    public enum GzipDecoding: Sendable {
        case decoded([UInt8])
        case failed(String)
    }

    /// Bytes on the wire, framing included.
    public var wireBytes = 0
    /// Chunk-size lines, CRLFs after chunk data, trailers and the final CRLF.
    public var framingBytes = 0
    public var chunks = 0
    /// The body with chunk framing removed.
    public var payload: [UInt8] = []
    /// nil when the body is not gzip-encoded.
    public var gzip: GzipDecoding?
}
