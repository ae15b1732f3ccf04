import Foundation
import HTTPCore
import Sockets
import Stages

/// Where the server under test listens, and whether it speaks TLS (`--target https://HOST:PORT`).
struct CheckTarget: Sendable {
    let host: String
    let port: UInt16
    /// Every check's connection is a TLS client connection, certificate verification off (a learner's
    /// server has a self-signed certificate): the checks are about HTTP, not about the certificate.
    var tls = false
    var base: String { "\(tls ? "https" : "http")://\(host):\(port)" }
}

/// The outcome of one check.
enum CheckOutcome {
    case pass
    /// What was expected, the bytes that came back (shown as a wire dump), and a command that reproduces it.
    case fail(expected: String, got: [UInt8], note: String?, reproduce: String)
}

/// One conformance check: a sentence saying what a correct server does, and the code that checks it.
struct Check: Sendable {
    let stage: StageName
    let name: String
    let run: @Sendable (CheckTarget) -> CheckOutcome
}

/// A client for checks: raw bytes out, parsed responses back, a timeout on everything. Over TLS when the
/// target is https: `socket` is then a TLS client transport, and the bytes are the HTTP inside it.
struct CheckClient {
    let socket: any ClientStream
    var timeout = 3.0

    static func connect(_ target: CheckTarget) throws -> CheckClient {
        let socket = try Socket.connect(host: target.host, port: target.port)
        try socket.setReceiveTimeout(seconds: 3)
        try socket.setSendTimeout(seconds: 3)
        guard target.tls else { return CheckClient(socket: socket) }
        do {
            return CheckClient(socket: try TLSClientTransport(socket, host: target.host))
        } catch {
            socket.close()
            throw error
        }
    }

    func send(_ text: String) throws { try socket.writeAll(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) throws { try socket.writeAll(bytes) }

    /// Reads `count` responses (or fewer if the server closes); `raw` gets every byte received.
    func responses(_ count: Int, methods: [String] = [], raw: inout [UInt8]) throws -> (responses: [ParsedResponse], closed: Bool) {
        var parser = ResponseParser(requestMethod: methods.first ?? "GET")
        var result: [ParsedResponse] = []
        let deadline = Date().addingTimeInterval(timeout)
        while result.count < count && Date() < deadline {
            guard let bytes = try socket.read() else { break } // timed out
            if bytes.isEmpty {
                if let last = try? parser.finish() { result.append(last) }
                return (result, true)
            }
            raw += bytes
            parser.append(bytes)
            while let response = try parser.next() {
                if (100...199).contains(response.status) { continue }
                result.append(response)
                if result.count < methods.count { parser.requestMethod = methods[result.count] }
            }
        }
        return (result, false)
    }

    /// Whether the server closed the connection within `seconds` (reads until EOF or timeout).
    func closes(within seconds: Double) -> Bool {
        try? socket.setReceiveTimeout(seconds: seconds)
        while true {
            guard let bytes = try? socket.read() else { return false }
            if bytes.isEmpty { return true }
        }
    }

    func close() { socket.close() }
}

/// One request, one response, on a new connection.
func exchange(_ target: CheckTarget, _ request: String, method: String = "GET") -> (ParsedResponse?, [UInt8], String?) {
    do {
        let client = try CheckClient.connect(target)
        defer { client.close() }
        try client.send(request)
        var raw: [UInt8] = []
        let (responses, _) = try client.responses(1, methods: [method], raw: &raw)
        return (responses.first, raw, responses.isEmpty ? (raw.isEmpty ? "no response within 3 s" : "an incomplete response") : nil)
    } catch let error as SystemError {
        return (nil, [], "\(error)")
    } catch let error as TLSError {
        return (nil, [], "the TLS handshake failed: \(error)")
    } catch {
        return (nil, [], "the response could not be parsed: \(error)")
    }
}

/// A REPL line that sends `request` again, for a person to reproduce a failure.
func replLine(_ target: CheckTarget, _ request: String) -> String {
    let escaped = request.replacing("\\", with: "\\\\").replacing("\r", with: "\\r").replacing("\n", with: "\\n")
    return "printf ':raw\\n\(escaped.replacing("'", with: "'\\''"))\\n' | httpkit repl \(target.tls ? "--tls " : "")\(target.host):\(target.port)"
}

func get(_ path: String, _ extra: String = "") -> String {
    "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(extra)Connection: close\r\n\r\n"
}

/// The checks, stage by stage. Each later stage must also pass the earlier stages' checks (`--all`).
enum CheckCatalog {
    static func checks(for stage: StageName) -> [Check] {
        switch stage {
        case .echo: return echo
        case .hello: return hello
        case .static: return files(.static)
        case .fork, .threads, .eventloop: return concurrency(stage)
        case .keepalive: return keepAlive + caching(.keepalive) // CachingChecks.swift, last on purpose
        case .router: return router + caching(.router)
        case .websocket: return webSocket
        case .http2: return router // the http2 stage answers HTTP/1.1 exactly like the router
        case .proxy: return proxy // ProxyChecks.swift
        }
    }

    // MARK: echo

    static let echo: [Check] = [
        Check(stage: .echo, name: "echoes what a client sends") { target in
            let message = Array("hello, echo\r\n".utf8)
            return echoes(message, target)
        },
        Check(stage: .echo, name: "echoes every byte value, NUL and 0xFF included") { target in
            echoes((0...255).map { UInt8($0) }, target)
        },
        Check(stage: .echo, name: "serves the next client after the first one leaves") { target in
            let first = echoes(Array("one".utf8), target)
            guard case .pass = first else { return first }
            return echoes(Array("two".utf8), target)
        },
    ]

    static func echoes(_ message: [UInt8], _ target: CheckTarget) -> CheckOutcome {
        let reproduce = "printf 'hello, echo\\r\\n' | nc -q1 \(target.host) \(target.port)"
        do {
            let client = try CheckClient.connect(target)
            defer { client.close() }
            try client.send(message)
            var got: [UInt8] = []
            while got.count < message.count, let bytes = try client.socket.read(), !bytes.isEmpty { got += bytes }
            if got == message { return .pass }
            return .fail(expected: "the same \(message.count) bytes back", got: got, note: got.isEmpty ? "nothing came back within 3 s" : nil, reproduce: reproduce)
        } catch {
            return .fail(expected: "a TCP connection that echoes", got: [], note: "\(error)", reproduce: reproduce)
        }
    }

    // MARK: hello

    static let hello: [Check] = [
        Check(stage: .hello, name: "answers GET / with a 2xx status") { target in
            let request = get("/")
            let (response, raw, problem) = exchange(target, request)
            guard let response, (200...299).contains(response.status) else {
                return .fail(expected: "HTTP/1.1 200 OK (or another 2xx)", got: raw, note: problem, reproduce: "curl -v \(target.base)/")
            }
            return .pass
        },
        Check(stage: .hello, name: "frames the body with Content-Length (or chunked), not by closing") { target in
            let (response, raw, problem) = exchange(target, get("/"))
            guard let response else { return .fail(expected: "a response", got: raw, note: problem, reproduce: "curl -v \(target.base)/") }
            switch response.framing {
            case .chunked:
                return .pass
            case .contentLength(let length) where length == response.body.count:
                return .pass
            case .contentLength(let length):
                return .fail(expected: "Content-Length: \(length) to match the body", got: raw, note: "the body has \(response.body.count) bytes", reproduce: "curl -v \(target.base)/")
            default:
                return .fail(expected: "a Content-Length header (RFC 9112 §6.2): without it the client can only wait for the close",
                             got: raw, note: "no Content-Length or Transfer-Encoding header", reproduce: "curl -v \(target.base)/")
            }
        },
        Check(stage: .hello, name: "sends a Date header (RFC 9110 §6.6.1)") { target in
            let (response, raw, problem) = exchange(target, get("/"))
            guard let date = response?.headers["Date"], date.hasSuffix("GMT") else {
                return .fail(expected: "Date: Sun, 06 Nov 1994 08:49:37 GMT (IMF-fixdate)", got: raw, note: problem, reproduce: "curl -I \(target.base)/")
            }
            return .pass
        },
        Check(stage: .hello, name: "waits for a request that arrives in several pieces") { target in
            let pieces = ["GET / HT", "TP/1.1\r\nHo", "st: localhost\r\nConnection: clo", "se\r\n\r\n"]
            let reproduce = "(printf 'GET / HT'; sleep 0.2; printf 'TP/1.1\\r\\nHost: x\\r\\n\\r\\n') | nc -q1 \(target.host) \(target.port)"
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                for piece in pieces {
                    try client.send(piece)
                    usleep(150_000)
                }
                var raw: [UInt8] = []
                let (responses, _) = try client.responses(1, raw: &raw)
                if let response = responses.first, (200...299).contains(response.status) { return .pass }
                return .fail(expected: "one 2xx response once the last piece arrived", got: raw, note: "a server that answers after the first read() sees only 'GET / HT'", reproduce: reproduce)
            } catch {
                return .fail(expected: "one 2xx response", got: [], note: "\(error)", reproduce: reproduce)
            }
        },
        Check(stage: .hello, name: "answers garbage with 400 Bad Request") { target in
            let request = "\u{1}\u{2} GARBAGE\r\n\r\n"
            let (response, raw, problem) = exchange(target, request)
            guard response?.status == 400 else {
                return .fail(expected: "HTTP/1.1 400 Bad Request", got: raw, note: problem, reproduce: replLine(target, request))
            }
            return .pass
        },
        Check(stage: .hello, name: "answers HTTP/1.1 without Host with 400 (RFC 9112 §3.2)") { target in
            let request = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
            let (response, raw, problem) = exchange(target, request)
            guard response?.status == 400 else {
                return .fail(expected: "HTTP/1.1 400 Bad Request", got: raw, note: problem, reproduce: replLine(target, request))
            }
            return .pass
        },
        Check(stage: .hello, name: "keeps serving after a bad request") { target in
            _ = exchange(target, "NOT HTTP\r\n\r\n")
            let (response, raw, problem) = exchange(target, get("/"))
            guard let response, (200...299).contains(response.status) else {
                return .fail(expected: "a 2xx response to a good request after a bad one", got: raw, note: problem, reproduce: "curl -v \(target.base)/")
            }
            return .pass
        },
    ]

    // MARK: static (run against the bundled www/)

    static func files(_ stage: StageName) -> [Check] {
        [
            Check(stage: stage, name: "serves /index.html for / as text/html") { target in
                let (response, raw, problem) = exchange(target, get("/"))
                guard response?.status == 200, response?.headers["Content-Type"]?.hasPrefix("text/html") == true else {
                    return .fail(expected: "200 with Content-Type: text/html (serve the bundled www/)", got: raw, note: problem, reproduce: "curl -i \(target.base)/")
                }
                return .pass
            },
            Check(stage: stage, name: "sends MIME types: text/css for /style.css") { target in
                let (response, raw, problem) = exchange(target, get("/style.css"))
                guard response?.status == 200, response?.headers["Content-Type"]?.hasPrefix("text/css") == true else {
                    return .fail(expected: "200 with Content-Type: text/css", got: raw, note: problem, reproduce: "curl -I \(target.base)/style.css")
                }
                return .pass
            },
            Check(stage: stage, name: "answers a missing file with 404") { target in
                let (response, raw, problem) = exchange(target, get("/no-such-file-\(getpid()).html"))
                guard response?.status == 404 else {
                    return .fail(expected: "HTTP/1.1 404 Not Found", got: raw, note: problem, reproduce: "curl -i \(target.base)/no-such-file.html")
                }
                return .pass
            },
            Check(stage: stage, name: "redirects /docs to /docs/ with 301") { target in
                let (response, raw, problem) = exchange(target, get("/docs"))
                guard response?.status == 301, response?.headers["Location"]?.hasSuffix("/docs/") == true else {
                    return .fail(expected: "301 with Location: /docs/", got: raw, note: problem, reproduce: "curl -i \(target.base)/docs")
                }
                return .pass
            },
            Check(stage: stage, name: "answers HEAD with headers and no body") { target in
                let (getResponse, _, _) = exchange(target, httpkit.get("/hello.txt"))
                let request = "HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                do {
                    let client = try CheckClient.connect(target)
                    defer { client.close() }
                    try client.send(request)
                    var raw: [UInt8] = []
                    _ = try client.responses(1, methods: ["HEAD"], raw: &raw)
                    let head = try ResponseParser(requestMethod: "HEAD").parsedAll(raw).first
                    let headerEnd = raw.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound ?? raw.count
                    guard head?.status == 200, raw.count == headerEnd,
                          head?.headers["Content-Length"] == getResponse?.headers["Content-Length"] else {
                        return .fail(expected: "200, the GET's Content-Length, and nothing after the head", got: raw, note: nil, reproduce: "curl -I \(target.base)/hello.txt")
                    }
                    return .pass
                } catch {
                    return .fail(expected: "a HEAD response", got: [], note: "\(error)", reproduce: "curl -I \(target.base)/hello.txt")
                }
            },
            Check(stage: stage, name: "answers POST with 405 and Allow") { target in
                let request = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                let (response, raw, problem) = exchange(target, request)
                guard response?.status == 405, response?.headers["Allow"] != nil else {
                    return .fail(expected: "405 Method Not Allowed with an Allow header", got: raw, note: problem, reproduce: "curl -i -X POST \(target.base)/")
                }
                return .pass
            },
            Check(stage: stage, name: "never serves files outside the root (../, %2e%2e)") { target in
                for path in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd"] {
                    let (response, raw, _) = exchange(target, get(path))
                    if response?.status == 200 || String(decoding: raw, as: UTF8.self).contains("root:") {
                        return .fail(expected: "400, 403 or 404 — never the file", got: raw, note: "\(path) was served",
                                     reproduce: "curl -i --path-as-is \(target.base)\(path)")
                    }
                }
                return .pass
            },
        ]
    }

    // MARK: fork, threads, eventloop

    static func concurrency(_ stage: StageName) -> [Check] {
        [
            Check(stage: stage, name: "a client that sends nothing does not block the others") { target in
                let reproduce = "nc \(target.host) \(target.port) &   # then, in another terminal: curl -v \(target.base)/hello.txt"
                do {
                    let idle = try CheckClient.connect(target)
                    defer { idle.close() }
                    try idle.send("GET /hello.txt HT") // and nothing more
                    usleep(100_000)
                    let started = Date()
                    let (response, raw, problem) = exchange(target, get("/hello.txt"))
                    let elapsed = Date().timeIntervalSince(started)
                    guard response?.status == 200, elapsed < 1 else {
                        return .fail(expected: "200 within 1 s while another client is mid-request", got: raw,
                                     note: problem ?? "it took \(Int(elapsed * 1000)) ms: one connection at a time?", reproduce: reproduce)
                    }
                    return .pass
                } catch {
                    return .fail(expected: "two connections at once", got: [], note: "\(error)", reproduce: reproduce)
                }
            },
            Check(stage: stage, name: "answers 100 simultaneous connections") { target in
                let reproduce = "httpkit bench \(target.base)/hello.txt -n 100 -c 100"
                do {
                    var clients: [CheckClient] = []
                    defer { clients.forEach { $0.close() } }
                    for _ in 0..<100 { clients.append(try CheckClient.connect(target)) }
                    for client in clients { try client.send(get("/hello.txt")) }
                    var answered = 0
                    var lastRaw: [UInt8] = []
                    for client in clients {
                        var raw: [UInt8] = []
                        if let response = try? client.responses(1, raw: &raw).responses.first, response.status == 200 { answered += 1 } else { lastRaw = raw }
                    }
                    if answered == 100 { return .pass }
                    return .fail(expected: "100 responses of 200", got: lastRaw, note: "\(answered) of 100 answered", reproduce: reproduce)
                } catch {
                    return .fail(expected: "100 connections", got: [], note: "\(error)", reproduce: reproduce)
                }
            },
        ]
    }

    // MARK: keepalive

    static let keepAlive: [Check] = [
        Check(stage: .keepalive, name: "keeps an HTTP/1.1 connection open for the next request") { target in
            let request = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
            let reproduce = "curl -v \(target.base)/hello.txt --next \(target.base)/hello.txt   # look for 'Re-using existing connection'"
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                var raw: [UInt8] = []
                try client.send(request)
                let first = try client.responses(1, raw: &raw)
                guard first.responses.first?.status == 200, !first.closed else {
                    return .fail(expected: "200, and the connection left open", got: raw, note: first.closed ? "the server closed the connection" : nil, reproduce: reproduce)
                }
                // A server that closed silently after the first answer may reset the connection when the second
                // request arrives (ECONNRESET): that is the same mistake, and gets the same explanation.
                let second: (responses: [ParsedResponse], closed: Bool)
                do {
                    try client.send(request)
                    second = try client.responses(1, raw: &raw)
                } catch {
                    return .fail(expected: "a second 200 on the same connection", got: raw,
                                 note: "the second request was not answered (\(error))", reproduce: reproduce)
                }
                guard second.responses.first?.status == 200 else {
                    return .fail(expected: "a second 200 on the same connection", got: raw, note: "the second request was not answered", reproduce: reproduce)
                }
                return .pass
            } catch {
                return .fail(expected: "two responses on one connection", got: [], note: "\(error)", reproduce: reproduce)
            }
        },
        Check(stage: .keepalive, name: "closes after a request with Connection: close, and says so") { target in
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                try client.send(get("/hello.txt"))
                var raw: [UInt8] = []
                let (responses, closed) = try client.responses(1, raw: &raw)
                let closes = closed || client.closes(within: 1)
                guard responses.first?.headers.contains("Connection", token: "close") == true, closes else {
                    return .fail(expected: "Connection: close in the response, then the socket closed", got: raw, note: nil,
                                 reproduce: "curl -v -H 'Connection: close' \(target.base)/hello.txt")
                }
                return .pass
            } catch {
                return .fail(expected: "a response", got: [], note: "\(error)", reproduce: "curl -v -H 'Connection: close' \(target.base)/hello.txt")
            }
        },
        Check(stage: .keepalive, name: "answers pipelined requests in order") { target in
            let request = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\nGET /no-such-file HTTP/1.1\r\nHost: localhost\r\n\r\nHEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                try client.send(request)
                var raw: [UInt8] = []
                let (responses, _) = try client.responses(3, methods: ["GET", "GET", "HEAD"], raw: &raw)
                guard responses.map(\.status) == [200, 404, 200] else {
                    return .fail(expected: "200, 404, 200 in that order", got: raw, note: "got \(responses.map(\.status))", reproduce: replLine(target, request))
                }
                return .pass
            } catch {
                return .fail(expected: "three responses", got: [], note: "\(error)", reproduce: replLine(target, request))
            }
        },
        Check(stage: .keepalive, name: "reads a chunked request body and stays in sync") { target in
            let request = "POST /hello.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                try client.send(request)
                var raw: [UInt8] = []
                let (responses, _) = try client.responses(2, raw: &raw)
                guard responses.count == 2, responses[1].status == 200 else {
                    return .fail(expected: "an answer to the POST (any status), then 200 for the GET after its chunked body", got: raw,
                                 note: "a server that ignores Transfer-Encoding reads '5\\r\\nhello...' as the next request", reproduce: replLine(target, request))
                }
                return .pass
            } catch {
                return .fail(expected: "two responses", got: [], note: "\(error)", reproduce: replLine(target, request))
            }
        },
    ]

    // MARK: router

    static let router: [Check] = [
        Check(stage: .router, name: "GET /echo/abc answers abc as text/plain") { target in
            let (response, raw, problem) = exchange(target, get("/echo/abc"))
            guard response?.status == 200, response.map({ String(decoding: $0.body, as: UTF8.self) }) == "abc",
                  response?.headers["Content-Type"]?.hasPrefix("text/plain") == true else {
                return .fail(expected: "200, text/plain, body abc", got: raw, note: problem, reproduce: "curl -i \(target.base)/echo/abc")
            }
            return .pass
        },
        Check(stage: .router, name: "GET /user-agent answers the User-Agent") { target in
            let (response, raw, problem) = exchange(target, get("/user-agent", "User-Agent: httpkit-check/1.0\r\n"))
            guard response.map({ String(decoding: $0.body, as: UTF8.self) }) == "httpkit-check/1.0" else {
                return .fail(expected: "body httpkit-check/1.0", got: raw, note: problem, reproduce: "curl -i -A httpkit-check/1.0 \(target.base)/user-agent")
            }
            return .pass
        },
        Check(stage: .router, name: "answers a known path with the wrong method with 405 and Allow") { target in
            let request = "DELETE /echo/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            let (response, raw, problem) = exchange(target, request)
            guard response?.status == 405, response?.headers["Allow"]?.contains("GET") == true else {
                return .fail(expected: "405 with Allow: GET, HEAD", got: raw, note: problem, reproduce: "curl -i -X DELETE \(target.base)/echo/x")
            }
            return .pass
        },
        Check(stage: .router, name: "gzips when the client accepts it, and says Vary") { target in
            let (plain, _, _) = exchange(target, get("/index.html"))
            let (gzipped, raw, problem) = exchange(target, get("/index.html", "Accept-Encoding: gzip\r\n"))
            guard let gzipped, gzipped.headers["Content-Encoding"] == "gzip", gzipped.headers["Vary"]?.contains("Accept-Encoding") == true,
                  let decoded = try? Gzip.decompress(gzipped.body), decoded == plain?.body else {
                return .fail(expected: "Content-Encoding: gzip, Vary: Accept-Encoding, and a body that decodes to the file", got: raw, note: problem,
                             reproduce: "curl -sv --compressed -o /dev/null \(target.base)/index.html")
            }
            return .pass
        },
        Check(stage: .router, name: "does not gzip when the client does not accept it") { target in
            let (response, raw, problem) = exchange(target, get("/index.html", "Accept-Encoding: gzip;q=0\r\n"))
            guard response?.status == 200, response?.headers["Content-Encoding"] == nil else {
                return .fail(expected: "200 without Content-Encoding", got: raw, note: problem, reproduce: "curl -sv -H 'Accept-Encoding: gzip;q=0' -o /dev/null \(target.base)/index.html")
            }
            return .pass
        },
        Check(stage: .router, name: "POST /api/echo returns valid JSON and refuses invalid JSON with 400") { target in
            let good = "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{\"a\": 1}"
            let (response, raw, problem) = exchange(target, good, method: "POST")
            guard response?.status == 200, response?.body == Array("{\"a\": 1}".utf8) else {
                return .fail(expected: "200 with the same JSON back", got: raw, note: problem, reproduce: "curl -i -d '{\"a\": 1}' \(target.base)/api/echo")
            }
            let bad = "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{\"a\":"
            let (refused, badRaw, badProblem) = exchange(target, bad, method: "POST")
            guard refused?.status == 400 else {
                return .fail(expected: "400 for invalid JSON", got: badRaw, note: badProblem, reproduce: "curl -i -d '{\"a\":' \(target.base)/api/echo")
            }
            return .pass
        },
    ]
}

extension ResponseParser {
    /// Every complete response in `bytes`.
    func parsedAll(_ bytes: [UInt8]) throws -> [ParsedResponse] {
        var parser = self
        parser.append(bytes)
        var all: [ParsedResponse] = []
        while let response = try parser.next() { all.append(response) }
        return all
    }
}
