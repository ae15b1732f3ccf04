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
                      "GET /a b HTTP/1.1\r\n", "GET / HTTP/1.1x\r\n", "PRI * HTTP/1.1\r\n",
                      // RFC 9112 §2.2: empty lines before the request line are skipped, by the parser and here.
                      "\r\nGET / HTTP/1.1\r\n", String(repeating: "\r\n", count: 8) + "GET / HTTP/1.1\r\n",
                      // More than the parser skips: its 400 "too many empty lines".
                      String(repeating: "\r\n", count: 9)])
    func requestLineIsHTTP1(_ bytes: String) {
        #expect(Self.judge(bytes) == .http1)
    }

    @Test("a first line without an HTTP version is no HTTP/1.x request: an invalid HTTP/2 preface",
          arguments: ["INVALID CONNECTION PREFACE\r\n\r\n", "hello\r\n", "GET /\r\n", "\r\nhello\r\n", "\u{1}\u{2} \u{3}\n"])
    func anythingElseIsABrokenPreface(_ bytes: String) {
        #expect(Self.judge(bytes) == .http2)
    }

    @Test("bytes that could still be either wait for more",
          arguments: ["", "P", "PRI * HTTP/2.", "PUT", "GET / HTTP/1.1", "INVALID CONNECTION PREFACE", "\r", "\r\n", "\r\n\r"])
    func cutLinesWait(_ bytes: String) {
        #expect(Self.judge(bytes) == .needMoreBytes)
    }

    @Test("a line longer than HTTP/1.1 takes goes to its parser, by the parser's bound (the line and its CR)")
    func longLinesStopTheWait() {
        let max = 64
        #expect(Self.judge("GET /" + String(repeating: "a", count: max + 1 - 5), maxLineBytes: max) == .needMoreBytes)
        #expect(Self.judge("GET /" + String(repeating: "a", count: max + 2 - 5), maxLineBytes: max) == .http1)
        // With its line feed too: a line past the bound is HTTP/1.1's 414, whatever it ends in.
        #expect(Self.judge(String(repeating: "A", count: max + 2) + "\r\n", maxLineBytes: max) == .http1)
        #expect(Self.judge(String(repeating: "A", count: max) + "\r\n", maxLineBytes: max) == .http2)
    }

    @Test("every split of the same bytes gets the same verdict: a prefix waits or already says it",
          arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "INVALID CONNECTION PREFACE\r\n\r\n",
                      "\r\n\r\nGET / HTTP/1.1\r\n", String(repeating: "A", count: 100) + "\r\n", "PUT /x HTTP/1.1\r\n"])
    func splitsAgree(_ text: String) {
        let bytes = Array(text.utf8)
        let whole = CleartextProtocolProbe.judge(bytes, maxLineBytes: 64)
        #expect(whole != .needMoreBytes)
        for count in 0...bytes.count {
            let verdict = CleartextProtocolProbe.judge(Array(bytes.prefix(count)), maxLineBytes: 64)
            #expect(verdict == .needMoreBytes || verdict == whole, "the first \(count) octets: \(verdict), the whole: \(whole)")
        }
    }
}
