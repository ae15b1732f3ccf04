import HTTPCore

/// A raw request and what the parser must make of it.
struct Fixture: Sendable, CustomStringConvertible {
    enum Expected: Sendable {
        /// The requests in order; the stream may end with a partial request (bytes left over).
        case requests([HTTPRequest])
        /// Some requests, then the status of the error that stops the stream.
        case error(before: [HTTPRequest] = [], status: Int)
        /// Nothing complete yet: the parser waits for more bytes.
        case incomplete
    }

    let name: String
    let raw: [UInt8]
    let expected: Expected
    /// The limits the parser runs with: the defaults, or the fuzz target's small ones for its findings.
    let limits: RequestLimits

    init(_ name: String, _ raw: String, _ expected: Expected, limits: RequestLimits = RequestLimits()) {
        self.name = name
        self.raw = Array(raw.utf8)
        self.expected = expected
        self.limits = limits
    }

    init(_ name: String, bytes: [UInt8], _ expected: Expected, limits: RequestLimits = RequestLimits()) {
        self.name = name
        self.raw = bytes
        self.expected = expected
        self.limits = limits
    }

    var description: String { name }
}

func get(_ target: String, _ headers: HTTPHeaders = ["Host": "x"], version: HTTPVersion = .http1_1) -> HTTPRequest {
    HTTPRequest(method: "GET", target: target, version: version, headers: headers)
}

func post(_ target: String, _ headers: HTTPHeaders, _ body: String) -> HTTPRequest {
    HTTPRequest(method: "POST", target: target, headers: headers, body: Array(body.utf8))
}

enum ParserFixtures {
    static let valid: [Fixture] = [
        Fixture("minimal GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", .requests([get("/")])),
        Fixture("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", .requests([get("/", [:], version: .http1_0)])),
        Fixture("HTTP/1.2 served as HTTP/1.1 (RFC 9112 §2.3)", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", .requests([get("/")])),
        Fixture("HTTP/1.9 served as HTTP/1.1", "GET / HTTP/1.9\r\nHost: x\r\n\r\n", .requests([get("/")])),
        Fixture("HTTP/1.2 with a chunked body", "POST /c HTTP/1.2\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
                .requests([post("/c", ["Host": "x", "Transfer-Encoding": "chunked"], "hi")])),
        Fixture("HTTP/1.0 with Host", "GET /a HTTP/1.0\r\nHost: x\r\n\r\n", .requests([get("/a", version: .http1_0)])),
        Fixture("query string kept in target", "GET /search?q=a+b&x=%20 HTTP/1.1\r\nHost: x\r\n\r\n",
                .requests([get("/search?q=a+b&x=%20")])),
        Fixture("several headers in order", "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: curl/8\r\n\r\n",
                .requests([get("/", ["Host": "example.com", "Accept": "*/*", "User-Agent": "curl/8"])])),
        Fixture("OWS trimmed from values", "GET / HTTP/1.1\r\nHost:   x \t\r\nX-A:\tb  \r\n\r\n",
                .requests([get("/", ["Host": "x", "X-A": "b"])])),
        Fixture("empty header value", "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n",
                .requests([get("/", ["Host": "x", "X-Empty": ""])])),
        Fixture("header value with inner spaces and colons", "GET / HTTP/1.1\r\nHost: x\r\nX-Time: 12:30:01 pm\r\n\r\n",
                .requests([get("/", ["Host": "x", "X-Time": "12:30:01 pm"])])),
        Fixture("obs-text in a value", bytes: Array("GET / HTTP/1.1\r\nHost: x\r\nX-Name: ".utf8) + [0xC3, 0xA9] + Array("\r\n\r\n".utf8),
                .requests([get("/", ["Host": "x", "X-Name": "é"])])),
        Fixture("host with port", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", .requests([get("/", ["Host": "127.0.0.1:8080"])])),
        Fixture("IPv6 host", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", .requests([get("/", ["Host": "[::1]:80"])])),
        Fixture("empty Host is allowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n", .requests([get("/", ["Host": ""])])),
        Fixture("IPv6 host with port 8080", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", .requests([get("/", ["Host": "[::1]:8080"])])),
        Fixture("IPv6 host without port", "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", .requests([get("/", ["Host": "[::1]"])])),
        Fixture("full IPv6 host", "GET / HTTP/1.1\r\nHost: [2001:db8:85a3:0:0:8a2e:370:7334]\r\n\r\n", .requests([get("/", ["Host": "[2001:db8:85a3:0:0:8a2e:370:7334]"])])),
        Fixture("IPv4-mapped IPv6 host", "GET / HTTP/1.1\r\nHost: [::ffff:192.0.2.1]:443\r\n\r\n", .requests([get("/", ["Host": "[::ffff:192.0.2.1]:443"])])),
        Fixture("IPvFuture host", "GET / HTTP/1.1\r\nHost: [v1.fe80::a+en1]\r\n\r\n", .requests([get("/", ["Host": "[v1.fe80::a+en1]"])])),
        Fixture("Host with empty port (RFC 3986 §3.2.3: port = *DIGIT)", "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n", .requests([get("/", ["Host": "example.com:"])])),
        Fixture("Host with percent-encoding", "GET / HTTP/1.1\r\nHost: ex%41mple.com\r\n\r\n", .requests([get("/", ["Host": "ex%41mple.com"])])),
        Fixture("header name case kept", "GET / HTTP/1.1\r\nhOsT: x\r\n\r\n", .requests([get("/", ["hOsT": "x"])])),
        Fixture("token characters in method", "M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                .requests([HTTPRequest(method: "OPTIONS", target: "*", headers: ["Host": "x"])])),
        Fixture("absolute-form target", "GET http://x/a?b HTTP/1.1\r\nHost: x\r\n\r\n", .requests([get("http://x/a?b")])),
        Fixture("extension method", "PURGE /cache HTTP/1.1\r\nHost: x\r\n\r\n",
                .requests([HTTPRequest(method: "PURGE", target: "/cache", headers: ["Host": "x"])])),
        Fixture("POST with Content-Length", "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                .requests([post("/f", ["Host": "x", "Content-Length": "5"], "hello")])),
        Fixture("Content-Length 0", "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                .requests([post("/f", ["Host": "x", "Content-Length": "0"], "")])),
        Fixture("identical repeated Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
                .requests([post("/", ["Host": "x", "Content-Length": "2", "Content-Length": "2"], "ok")])),
        Fixture("Content-Length list of equal values", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nok",
                .requests([post("/", ["Host": "x", "Content-Length": "2, 2"], "ok")])),
        Fixture("body with CRLF inside", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\na\r\n\r\nb",
                .requests([post("/", ["Host": "x", "Content-Length": "6"], "a\r\n\r\nb")])),
        Fixture("two pipelined GETs", "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
                .requests([get("/1"), get("/2")])),
        Fixture("POST then GET in one buffer", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
                .requests([post("/a", ["Host": "x", "Content-Length": "3"], "abc"), get("/b")])),
        Fixture("leading empty line ignored", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", .requests([get("/")])),
        Fixture("request followed by a partial one", "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HT", .requests([get("/1")])),
        Fixture("chunked body", "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
                .requests([post("/c", ["Host": "x", "Transfer-Encoding": "chunked"], "hello world")])),
        Fixture("chunked with extensions and uppercase hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nA;name=value\r\n0123456789\r\n0;last\r\n\r\n",
                .requests([post("/", ["Host": "x", "Transfer-Encoding": "chunked"], "0123456789")])),
        Fixture("chunked with trailers", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n",
                .requests([post("/", ["Host": "x", "Transfer-Encoding": "chunked"], "abc")])),
        Fixture("chunked then pipelined GET", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n",
                .requests([post("/", ["Host": "x", "Transfer-Encoding": "chunked"], "hi"), get("/n")])),
        Fixture("Transfer-Encoding case-insensitive", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
                .requests([post("/", ["Host": "x", "Transfer-Encoding": "Chunked"], "")])),
        Fixture("Connection: close parsed", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                .requests([get("/", ["Host": "x", "Connection": "close"])])),
        Fixture("incomplete head waits", "GET / HTTP/1.1\r\nHost: x\r\n", .incomplete),
        Fixture("incomplete body waits", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", .incomplete),
        Fixture("incomplete chunk waits", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", .incomplete),
    ]

    static let invalid: [Fixture] = [
        Fixture("bare LF after request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("bare LF after header", "GET / HTTP/1.1\r\nHost: x\n\r\n", .error(status: 400)),
        Fixture("two spaces in request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("four parts in request line", "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("two parts in request line", "GET /\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("tab as separator", "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("method with a bad character", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("lowercase protocol name", "GET / http/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("version without minor", "GET / HTTP/2\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("garbage version", "GET / HTTP/one\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("HTTP/2.0 is well-formed but unsupported", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", .error(status: 505)),
        Fixture("HTTP/3.0 unsupported", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", .error(status: 505)),
        Fixture("HTTP/1.2 follows 1.1's rules: Host required", "GET / HTTP/1.2\r\n\r\n", .error(status: 400)),
        Fixture("HTTP/0.9 unsupported", "GET / HTTP/0.9\r\n\r\n", .error(status: 505)),
        Fixture("target without slash", "GET index.html HTTP/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("control character in target", bytes: Array("GET /a".utf8) + [0x01] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8), .error(status: 400)),
        Fixture("asterisk with GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", .error(status: 400)),
        Fixture("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", .error(status: 400)),
        Fixture("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .error(status: 400)),
        Fixture("invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", .error(status: 400)),
        Fixture("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .error(status: 400)),
        Fixture("Host port not a number (RFC 3986 §3.2.3)", "GET / HTTP/1.1\r\nHost: example.com:abc\r\n\r\n", .error(status: 400)),
        Fixture("Host port with a letter after digits", "GET / HTTP/1.1\r\nHost: example.com:80a\r\n\r\n", .error(status: 400)),
        Fixture("Host with two colons", "GET / HTTP/1.1\r\nHost: example.com:80:81\r\n\r\n", .error(status: 400)),
        Fixture("Host with userinfo", "GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host port not a number", "GET / HTTP/1.1\r\nHost: [::1]:abc\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host without brackets", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host without closing bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host with junk after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host with too many groups", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host with two double colons", "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host with a 5-digit group", "GET / HTTP/1.1\r\nHost: [12345::1]\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host with an IPv4 tail out of range", "GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.256]\r\n\r\n", .error(status: 400)),
        Fixture("IPv6 host with a zone id", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", .error(status: 400)),
        Fixture("Host with a bad percent-encoding", "GET / HTTP/1.1\r\nHost: ex%4mple.com\r\n\r\n", .error(status: 400)),
        Fixture("whitespace before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", .error(status: 400)),
        Fixture("header without colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", .error(status: 400)),
        Fixture("empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: value\r\n\r\n", .error(status: 400)),
        Fixture("obsolete line folding", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", .error(status: 400)),
        Fixture("non-token header name", "GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", .error(status: 400)),
        Fixture("NUL in header value", bytes: Array("GET / HTTP/1.1\r\nHost: x\r\nX-A: a".utf8) + [0] + Array("b\r\n\r\n".utf8), .error(status: 400)),
        Fixture("bare CR in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", .error(status: 400)),
        Fixture("negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", .error(status: 400)),
        Fixture("non-numeric Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", .error(status: 400)),
        Fixture("empty Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", .error(status: 400)),
        Fixture("plus-signed Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", .error(status: 400)),
        Fixture("conflicting Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", .error(status: 400)),
        Fixture("conflicting Content-Length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", .error(status: 400)),
        Fixture("overflowing Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", .error(status: 400)),
        Fixture("Content-Length and Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .error(status: 400)),
        Fixture("unknown Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", .error(status: 501)),
        Fixture("gzip then chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", .error(status: 501)),
        Fixture("chunked not last", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .error(status: 400)),
        Fixture("chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .error(status: 400)),
        Fixture("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .error(status: 400)),
        Fixture("chunk size not hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .error(status: 400)),
        Fixture("chunk size overflow", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", .error(status: 400)),
        Fixture("chunk data longer than its size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", .error(status: 400)),
        Fixture("chunk size line with junk", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n", .error(status: 400)),
        Fixture("chunk-size line over 4096 bytes", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 4100) + "\r\nx\r\n0\r\n\r\n", .error(status: 400)),
        Fixture("Expect in HTTP/1.0 is still a request", "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
                .requests([HTTPRequest(method: "POST", target: "/", version: .http1_0, headers: ["Expect": "100-continue", "Content-Length": "1"], body: Array("x".utf8))])),
        Fixture("bare LF in chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", .error(status: 400)),
        Fixture("good request then garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n\u{1}\u{2}garbage\r\n\r\n", .error(before: [get("/")], status: 400)),
        Fixture("TLS handshake bytes", bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0a, 0x0d, 0x0a], .error(status: 400)),
    ]

    /// The limits of scripts/fuzz-targets/FuzzRequestParser.swift, so its findings replay as they were found.
    static let fuzzLimits = RequestLimits(maxRequestLineBytes: 512, maxHeaderBytes: 2048, maxHeaderCount: 32, maxBodyBytes: 4096)

    /// Found by scripts/fuzz (request-parser): a 2,067-byte head whose field lines, CRLFs included, are exactly
    /// the 2,048-byte limit, with an unsupported coding in an early Transfer-Encoding line. Fed whole it got
    /// 501; fed byte by byte it got 431, because between two lines the parser counted the LF of a line that
    /// had not started yet. The head is within the limit, so every feeding must give the 501; one byte more
    /// and every feeding must give the 431 (limits first, then meaning).
    static func headAtHeaderLimit(extra: Int) -> String {
        let fields = "Host: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nX-Padding: "
        let padding = fuzzLimits.maxHeaderBytes - (fields.utf8.count + 2) + extra
        return "POST / HTTP/1.1\r\n" + fields + String(repeating: "p", count: padding) + "\r\n\r\n0\r\n\r\n"
    }

    /// The same accounting in the chunked decoder's trailer section: trailer lines exactly at the limit.
    static func trailersAtLimit(extra: Int) -> String {
        let padding = fuzzLimits.maxHeaderBytes - "X-T: \r\n".utf8.count + extra
        return "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: "
            + String(repeating: "t", count: padding) + "\r\n\r\n"
    }

    static let fuzzFindings: [Fixture] = [
        Fixture("trailer section exactly at the limit", trailersAtLimit(extra: 0),
                .requests([post("/", ["Host": "x", "Transfer-Encoding": "chunked"], "abc")]), limits: fuzzLimits),
        Fixture("trailer section one byte over the limit", trailersAtLimit(extra: 1), .error(status: 431), limits: fuzzLimits),
        Fixture("fuzz: header section exactly at the limit, unsupported coding", headAtHeaderLimit(extra: 0),
                .error(status: 501), limits: fuzzLimits),
        Fixture("fuzz: header section one byte over the limit, unsupported coding", headAtHeaderLimit(extra: 1),
                .error(status: 431), limits: fuzzLimits),
    ]

    static let all = valid + invalid + fuzzFindings
}
