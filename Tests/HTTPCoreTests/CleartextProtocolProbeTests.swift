import HTTPCore
import Testing

@Suite("which protocol a cleartext client speaks, from its first bytes")
struct CleartextProtocolProbeTests {
    static func judge(_ text: String, maxLineBytes: Int = 8192) -> CleartextProtocolProbe.Verdict {
        CleartextProtocolProbe.judge(Array(text.utf8), maxLineBytes: maxLineBytes)
    }

    @Test("RFC 9113 §3.4: the preface's first line is HTTP/2, right or wrong after it",
          arguments: ["PRI * HTTP/2.0\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"])
    func prefaceIsHTTP2(_ bytes: String) {
        #expect(Self.judge(bytes) == .http2)
    }

    @Test("RFC 9112 §3: a request line ending in its version is HTTP/1.x, even one the parser refuses",
          arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.0\n", "GET / HTTP/2.0\r\n", "PUT /a HTTP/1.1\r\n",
                      "GET /a b HTTP/1.1\r\n", "GET / HTTP/1.1x\r\n", "PRI * HTTP/1.1\r\n"])
    func requestLineIsHTTP1(_ bytes: String) {
        #expect(Self.judge(bytes) == .http1)
    }

    @Test("a first line without an HTTP version is no HTTP/1.x request: an invalid HTTP/2 preface",
          arguments: ["INVALID CONNECTION PREFACE\r\n\r\n", "hello\r\n", "GET /\r\n", "\r\n", "\u{1}\u{2} \u{3}\n"])
    func anythingElseIsABrokenPreface(_ bytes: String) {
        #expect(Self.judge(bytes) == .http2)
    }

    @Test("bytes that could still be either wait for more",
          arguments: ["", "P", "PRI * HTTP/2.", "PUT", "GET / HTTP/1.1", "INVALID CONNECTION PREFACE"])
    func cutLinesWait(_ bytes: String) {
        #expect(Self.judge(bytes) == .needMoreBytes)
    }

    @Test("a line longer than HTTP/1.1 takes goes to its parser, which refuses it: the wait is bounded")
    func longLinesStopTheWait() {
        #expect(Self.judge("GET /" + String(repeating: "a", count: 58), maxLineBytes: 64) == .needMoreBytes)
        #expect(Self.judge("GET /" + String(repeating: "a", count: 59), maxLineBytes: 64) == .http1)
    }
}
