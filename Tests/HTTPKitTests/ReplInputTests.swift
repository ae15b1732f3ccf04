import HTTPCore
import Testing
@testable import httpkit

@Suite("REPL input")
struct ReplInputTests {
    @Test func escapes() throws {
        #expect(try ReplInput.decodeEscapes("GET / HTTP/1.1\\r\\nHost: x\\n\\n") == Array("GET / HTTP/1.1\r\nHost: x\n\n".utf8))
        #expect(try ReplInput.decodeEscapes("a\\x00b\\x7fc\\\\d\\te") == [0x61, 0, 0x62, 0x7f, 0x63, 0x5c, 0x64, 0x09, 0x65])
        #expect(try ReplInput.decodeEscapes("trailing\\") == Array("trailing\\".utf8))
        #expect(throws: RequestError.self) { try ReplInput.decodeEscapes("\\q") }
        #expect(throws: RequestError.self) { try ReplInput.decodeEscapes("\\x4") }
    }

    @Test func shorthands() {
        #expect(ReplInput.shorthand("get /a")?.method == "GET")
        #expect(ReplInput.shorthand("post /api/echo {\"a\": 1}")?.body == Array("{\"a\": 1}".utf8))
        #expect(ReplInput.shorthand("GET /a HTTP/1.1") == nil)
        #expect(ReplInput.shorthand("get") == nil)
        #expect(ReplInput.startsRequest("GET /a HTTP/1.1"))
        #expect(ReplInput.startsRequest("M-SEARCH * HTTP/1.1"))
        #expect(!ReplInput.startsRequest("get /a"))
    }

    @Test func typedRequestsGetCRLFHostAndLength() {
        let bytes = ReplInput.buildRequest(lines: ["POST /x HTTP/1.1", "Accept: */*"], host: "127.0.0.1:8080", body: Array("hi".utf8))
        #expect(String(decoding: bytes, as: UTF8.self) == "POST /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\nContent-Length: 2\r\n\r\nhi")
        let own = ReplInput.buildRequest(lines: ["GET / HTTP/1.1", "host: mine"], host: "127.0.0.1:8080", body: nil)
        #expect(String(decoding: own, as: UTF8.self) == "GET / HTTP/1.1\r\nhost: mine\r\n\r\n")
    }
}
