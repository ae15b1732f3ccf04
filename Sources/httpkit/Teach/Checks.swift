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
    /// The port reproduce commands name. With `--exec` the checked server is gone when the report is read,
    /// so they name a fixed port the learner starts it on (`CheckedServer.started`).
    var shownPort: UInt16?
    /// The server's process when it runs on this machine and we know it (--exec, httpkit's own stage, or the
    /// owner of a local port): the concurrency checks read its processes and threads from /proc.
    var pid: Int32?
    /// The folder the server serves /files from, when check made it (`{dir}` in --exec): the files checks
    /// write into it and read what an upload wrote.
    var directory: String?
    /// The path of a large file the server serves, when check made the site (`{root}`, or httpkit's own stage).
    var largeFile: String?
    /// The proxy checks' own upstream servers, when the proxy under test stands in front of them
    /// (`{upstreams}` in --exec, or httpkit's own proxy): the checks read what arrived at them.
    var upstreams: CheckUpstreams?
    var base: String { "\(tls ? "https" : "http")://\(host):\(shownPort ?? port)" }
    /// `HOST PORT` as nc takes them, for reproduce commands.
    var ncAddress: String { "\(host) \(shownPort ?? port)" }
}

/// The outcome of one check.
enum CheckOutcome {
    case pass
    /// The check could not run here, and says why (a server on another machine has no /proc to read).
    case skipped(String)
    /// What was expected, what came back and how (shown as a wire dump, its first problem as the reason),
    /// what the check itself noticed, and a command that reproduces it.
    case fail(expected: String, got: Reception, note: String?, reproduce: String)
}

/// One conformance check: a sentence saying what a correct server does, and the code that checks it.
/// Beside the code it carries what `httpkit spec` shows a learner who builds the server: the step it belongs
/// to, the bytes it sends (the very strings the code sends, so the spec cannot drift from the check), what
/// it expects back, and the hint `httpkit hint` gives when it is the first to fail.
struct Check: Sendable {
    let stage: StageName
    let name: String
    /// The title of the build step this check belongs to; consecutive checks with one title are one step.
    let step: String
    /// What the check sends, byte for byte: the requests (or, for echo, the message), in order.
    let sends: [String]
    /// How the bytes go out when that matters (in pieces, on one connection, beside other clients); nil for
    /// one request on a new connection.
    let how: String?
    /// What a correct server sends back, in a sentence.
    let expects: String
    /// The next thing to try when this is the first check to fail.
    let hint: String
    /// A check of what the server is (processes, threads), not of what it does: a later stage is a
    /// different model, so `--all` runs it only for the stage asked for.
    var isModelCheck = false
    /// What the report shows in brackets instead of the stage's name (a course's part: `cc base`).
    var label: String?
    let run: @Sendable (CheckTarget) -> CheckOutcome

    /// A check whose code sends `sends`: the closure gets them, so what the spec shows is what goes out.
    init(stage: StageName, name: String, step: String, sends: [String], how: String? = nil, expects: String, hint: String,
         isModelCheck: Bool = false, run: @escaping @Sendable (CheckTarget, [String]) -> CheckOutcome) {
        self.stage = stage
        self.name = name
        self.step = step
        self.sends = sends
        self.how = how
        self.expects = expects
        self.hint = hint
        self.isModelCheck = isModelCheck
        self.run = { target in run(target, sends) }
    }

    /// A check whose bytes depend on the server's answers or on time (an ETag, a byte every 100 ms):
    /// `sends` shows their shape and `how` says the rest.
    init(stage: StageName, name: String, step: String, sends: [String] = [], how: String?, expects: String, hint: String,
         isModelCheck: Bool = false, run: @escaping @Sendable (CheckTarget) -> CheckOutcome) {
        self.stage = stage
        self.name = name
        self.step = step
        self.sends = sends
        self.how = how
        self.expects = expects
        self.hint = hint
        self.isModelCheck = isModelCheck
        self.run = run
    }
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
        case .http2: return http2 + router // HTTP2Checks.swift; over HTTP/1.1 it answers exactly like the router
        case .proxy: return proxy // ProxyChecks.swift
        }
    }

    // MARK: echo

    static let echo: [Check] = [
        Check(stage: .echo, name: "echoes what a client sends", step: "Echo the bytes back",
              sends: ["hello, echo\r\n"], expects: "the same 13 bytes back, on the same connection",
              hint: "read() returns whatever has arrived, not a message: write back each read's bytes, and loop until read returns 0 (the client closed)") { target, sends in
            echoes(Array(sends[0].utf8), target)
        },
        Check(stage: .echo, name: "echoes every byte value, NUL and 0xFF included", step: "Echo the bytes back",
              how: "the 256 byte values 0x00 to 0xff, in order", expects: "the same 256 bytes back",
              hint: "treat what you read as bytes, not text: no decoding, no string functions that stop at NUL") { target in
            echoes((0...255).map { UInt8($0) }, target)
        },
        Check(stage: .echo, name: "serves the next client after the first one leaves", step: "Serve client after client",
              sends: ["one", "two"], how: "on two connections, one after the other", expects: "one, then two, each on its own connection",
              hint: "after a client closes, close its socket and go back to accept(): the listening socket stays open") { target, sends in
            let first = echoes(Array(sends[0].utf8), target)
            guard case .pass = first else { return first }
            return echoes(Array(sends[1].utf8), target)
        },
    ]

    static func echoes(_ message: [UInt8], _ target: CheckTarget) -> CheckOutcome {
        let reproduce = "printf 'hello, echo\\r\\n' | nc -q1 \(target.ncAddress)"
        let client: CheckClient
        do {
            client = try CheckClient.connect(target)
        } catch {
            return .fail(expected: "a TCP connection that echoes", got: Reception(failure: error), note: nil, reproduce: reproduce)
        }
        defer { client.close() }
        client.send(message)
        let got = client.echoed(count: message.count)
        if got.bytes == message { return .pass }
        return .fail(expected: "the same \(message.count) bytes back", got: got,
                     note: got.bytes.isEmpty ? nil : "\(WireAnalysis.bytesText(got.bytes.count)) came back, not these \(message.count)", reproduce: reproduce)
    }

    // MARK: hello

    static let hello: [Check] = [
        Check(stage: .hello, name: "answers GET / with a 2xx status", step: "Answer with a status line",
              sends: [get("/")], expects: "a status line such as HTTP/1.1 200 OK (any 2xx), the headers, an empty line, a body",
              hint: "send 'HTTP/1.1 200 OK\\r\\n', then each header line ending in \\r\\n, then \\r\\n, then the body; then close the connection") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard let response, (200...299).contains(response.status) else {
                return .fail(expected: "HTTP/1.1 200 OK (or another 2xx)", got: raw, note: nil, reproduce: "curl -v \(target.base)/")
            }
            return .pass
        },
        Check(stage: .hello, name: "frames the body with Content-Length (or chunked), not by closing", step: "Frame the response: Content-Length and Date",
              sends: [get("/")], expects: "a Content-Length header that counts the body's bytes exactly",
              hint: "Content-Length is the body's length in bytes once encoded (UTF-8), not its number of characters") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard let response else { return .fail(expected: "a response", got: raw, note: nil, reproduce: "curl -v \(target.base)/") }
            switch response.framing {
            case .chunked:
                return .pass
            case .contentLength(let length) where length == response.body.count && raw.wireCause == nil && raw.unparsedBytes == 0:
                return .pass
            case .contentLength(let length) where length == response.body.count:
                // The parser took Content-Length bytes; what came after them is the rest of the body.
                return .fail(expected: "Content-Length: \(length) to match the body", got: raw, note: nil, reproduce: "curl -v \(target.base)/")
            case .contentLength(let length):
                return .fail(expected: "Content-Length: \(length) to match the body", got: raw, note: "the body has \(response.body.count) bytes", reproduce: "curl -v \(target.base)/")
            default:
                return .fail(expected: "a Content-Length header (RFC 9112 §6.2): without it the client can only wait for the close",
                             got: raw, note: "no Content-Length or Transfer-Encoding header", reproduce: "curl -v \(target.base)/")
            }
        },
        Check(stage: .hello, name: "sends a Date header (RFC 9110 §6.6.1)", step: "Frame the response: Content-Length and Date",
              sends: [get("/")], expects: "Date: Sun, 06 Nov 1994 08:49:37 GMT (the time now, IMF-fixdate, always GMT)",
              hint: "format the current time in GMT as 'Sun, 06 Nov 1994 08:49:37 GMT' (Python: email.utils.formatdate(usegmt=True); C: strftime with gmtime)") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard let date = response?.headers["Date"], date.hasSuffix("GMT") else {
                let note = response == nil ? nil : response?.headers["Date"].map { "Date: \($0) is not an IMF-fixdate in GMT" }
                    ?? "no Date header: a server with a clock sends one in every response"
                return .fail(expected: "Date: Sun, 06 Nov 1994 08:49:37 GMT (IMF-fixdate)", got: raw, note: note, reproduce: "curl -I \(target.base)/")
            }
            return .pass
        },
        Check(stage: .hello, name: "waits for a request that arrives in several pieces", step: "Read the whole request head",
              sends: ["GET / HT", "TP/1.1\r\nHo", "st: localhost\r\nConnection: clo", "se\r\n\r\n"], how: "in 4 pieces on one connection, 150 ms apart",
              expects: "nothing until the last piece, then one 2xx response",
              hint: "one recv() returns what has arrived so far: keep reading and appending until the bytes contain \\r\\n\\r\\n") { target, pieces in
            let reproduce = "(printf 'GET / HT'; sleep 0.2; printf 'TP/1.1\\r\\nHost: x\\r\\n\\r\\n') | nc -q1 \(target.ncAddress)"
            let client: CheckClient
            do {
                client = try CheckClient.connect(target)
            } catch {
                return .fail(expected: "one 2xx response", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
            defer { client.close() }
            var answeredEarly: Int?
            for (index, piece) in pieces.enumerated() {
                client.send(piece, method: index == 0 ? "GET" : nil)
                usleep(150_000)
                // An answer before the last piece was an answer to part of a request.
                if index < pieces.count - 1, client.hasArrived() {
                    answeredEarly = index + 1
                    break
                }
            }
            let response = client.responses(1).first
            if answeredEarly == nil, let response, (200...299).contains(response.status) { return .pass }
            let got = client.reception
            let note: String? = answeredEarly.map { count in
                let seen = pieces.prefix(count).joined()
                return "the server answered\(response.map { " \($0.status)" } ?? "") after \(count) of \(pieces.count) pieces, having seen only "
                    + "'\(seen.replacing("\r", with: "\\r").replacing("\n", with: "\\n"))': it handled what one recv() returned. "
                    + "Keep reading until the head ends with \\r\\n\\r\\n"
            }
            return .fail(expected: "one 2xx response once the last piece arrived", got: got, note: note, reproduce: reproduce)
        },
        Check(stage: .hello, name: "answers garbage with 400 Bad Request", step: "Refuse what is not HTTP/1.1 with 400",
              sends: ["\u{1}\u{2} GARBAGE\r\n\r\n"], expects: "HTTP/1.1 400 Bad Request",
              hint: "split the request line on spaces: it must be three parts, METHOD SP TARGET SP HTTP/1.x, the method letters only; anything else is a 400") { target, sends in
            let request = sends[0]
            let (response, raw) = exchange(target, request)
            guard response?.status == 400 else {
                let note = response.map { "\($0.status) for a line that is not METHOD SP TARGET SP HTTP/1.1: a server that does not check "
                    + "the request line answers anything" }
                return .fail(expected: "HTTP/1.1 400 Bad Request", got: raw, note: note, reproduce: Reproduce.raw(target, request))
            }
            return .pass
        },
        Check(stage: .hello, name: "answers HTTP/1.1 without Host with 400 (RFC 9112 §3.2)", step: "Refuse what is not HTTP/1.1 with 400",
              sends: ["GET / HTTP/1.1\r\nConnection: close\r\n\r\n"], expects: "HTTP/1.1 400 Bad Request",
              hint: "after the head is read, look for a Host header (its name in any case); HTTP/1.1 without one is a 400") { target, sends in
            let request = sends[0]
            let (response, raw) = exchange(target, request)
            guard response?.status == 400 else {
                let note = response.map { "\($0.status) for an HTTP/1.1 request without Host: check for it after reading the head" }
                return .fail(expected: "HTTP/1.1 400 Bad Request", got: raw, note: note, reproduce: Reproduce.raw(target, request))
            }
            return .pass
        },
        Check(stage: .hello, name: "keeps serving after a bad request", step: "Refuse what is not HTTP/1.1 with 400",
              sends: ["NOT HTTP\r\n\r\n", get("/")], how: "on two connections, one after the other", expects: "anything to the first, a 2xx to the second",
              hint: "a bad request ends its connection, not the server: catch the error, answer 400, close that socket and go back to accept()") { target, sends in
            _ = exchange(target, sends[0])
            let (response, raw) = exchange(target, sends[1])
            guard let response, (200...299).contains(response.status) else {
                return .fail(expected: "a 2xx response to a good request after a bad one", got: raw, note: nil, reproduce: "curl -v \(target.base)/")
            }
            return .pass
        },
    ]

    // MARK: static (run against the bundled www/)

    static func files(_ stage: StageName) -> [Check] {
        [
            Check(stage: stage, name: "serves /index.html for / as text/html", step: "Serve files from the root, with their type",
                  sends: [get("/")], expects: "200 with Content-Type: text/html and the bytes of www/index.html",
                  hint: "map the path to a file under the root (a path ending in / means its index.html), read it as bytes, send it with its length") { target, sends in
                let (response, raw) = exchange(target, sends[0])
                guard response?.status == 200, response?.headers["Content-Type"]?.hasPrefix("text/html") == true else {
                    return .fail(expected: "200 with Content-Type: text/html (serve the bundled www/)", got: raw, note: nil, reproduce: "curl -i \(target.base)/")
                }
                return .pass
            },
            Check(stage: stage, name: "sends MIME types: text/css for /style.css", step: "Serve files from the root, with their type",
                  sends: [get("/style.css")], expects: "200 with Content-Type: text/css",
                  hint: "choose Content-Type from the file's extension: .html text/html, .css text/css, .js text/javascript, .txt text/plain, .png image/png") { target, sends in
                let (response, raw) = exchange(target, sends[0])
                guard response?.status == 200, response?.headers["Content-Type"]?.hasPrefix("text/css") == true else {
                    return .fail(expected: "200 with Content-Type: text/css", got: raw, note: nil, reproduce: "curl -I \(target.base)/style.css")
                }
                return .pass
            },
            Check(stage: stage, name: "answers a missing file with 404", step: "Answer what is not a file: 404 and 301",
                  sends: [get("/no-such-file-httpkit-check.html")], expects: "HTTP/1.1 404 Not Found",
                  hint: "test that the file exists (and is a regular file) before answering 200; otherwise answer 404 with a short body") { target, sends in
                let (response, raw) = exchange(target, sends[0])
                guard response?.status == 404 else {
                    let note = response.map { "\($0.status) for a file that does not exist: test that the file is there before answering 200" }
                    return .fail(expected: "HTTP/1.1 404 Not Found", got: raw, note: note, reproduce: "curl -i \(target.base)/no-such-file.html")
                }
                return .pass
            },
            Check(stage: stage, name: "redirects /docs to /docs/ with 301", step: "Answer what is not a file: 404 and 301",
                  sends: [get("/docs")], expects: "301 Moved Permanently with Location: /docs/",
                  hint: "a path that names a directory but does not end in / gets 301 with Location: the path + '/', so relative links in its index resolve") { target, sends in
                let (response, raw) = exchange(target, sends[0])
                guard response?.status == 301, response?.headers["Location"]?.hasSuffix("/docs/") == true else {
                    return .fail(expected: "301 with Location: /docs/", got: raw, note: nil, reproduce: "curl -i \(target.base)/docs")
                }
                return .pass
            },
            Check(stage: stage, name: "answers HEAD with headers and no body", step: "HEAD, and 405 for other methods",
                  sends: [httpkit.get("/hello.txt"), "HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
                  how: "on two connections, one after the other", expects: "to the HEAD: 200, the GET's Content-Length, and nothing after the head",
                  hint: "answer HEAD exactly like GET, Content-Length included, then leave the body out") { target, sends in
                let (getResponse, _) = exchange(target, sends[0])
                let request = sends[1]
                do {
                    let client = try CheckClient.connect(target)
                    defer { client.close() }
                    client.send(request, method: "HEAD")
                    let head = client.responses(1, untilClose: true).first
                    let raw = client.reception.bytes
                    let headerEnd = raw.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound ?? raw.count
                    guard head?.status == 200, raw.count == headerEnd,
                          head?.headers["Content-Length"] == getResponse?.headers["Content-Length"] else {
                        let note = head != nil && raw.count > headerEnd
                            ? "\(WireAnalysis.bytesText(raw.count - headerEnd)) after the head: a response to HEAD has no body (RFC 9110 §9.3.2)" : nil
                        return .fail(expected: "200, the GET's Content-Length, and nothing after the head", got: client.reception, note: note,
                                     reproduce: "curl -I \(target.base)/hello.txt")
                    }
                    return .pass
                } catch {
                    return .fail(expected: "a HEAD response", got: Reception(failure: error), note: nil, reproduce: "curl -I \(target.base)/hello.txt")
                }
            },
            Check(stage: stage, name: "answers POST with 405 and Allow", step: "HEAD, and 405 for other methods",
                  sends: ["POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"],
                  expects: "405 Method Not Allowed with Allow: GET, HEAD",
                  hint: "a static server only reads: any method but GET and HEAD gets 405 and an Allow header listing the two") { target, sends in
                let request = sends[0]
                let (response, raw) = exchange(target, request)
                guard response?.status == 405, response?.headers["Allow"] != nil else {
                    return .fail(expected: "405 Method Not Allowed with an Allow header", got: raw, note: nil, reproduce: "curl -i -X POST \(target.base)/")
                }
                return .pass
            },
            Check(stage: stage, name: "never serves files outside the root (../, %2e%2e)", step: "Stay inside the root",
                  // Ten levels up: enough to reach / from any document root a learner is likely to use
                  // (a root four directories deep let a three-level climb end in a 404 and pass a broken server).
                  sends: [get("/" + String(repeating: "../", count: 10) + "etc/passwd"),
                          get("/" + String(repeating: "%2e%2e/", count: 10) + "etc/passwd"),
                          get("/" + String(repeating: "..%2f", count: 10) + "etc%2fpasswd")],
                  how: "one connection each", expects: "400, 403 or 404 to each: never the file",
                  hint: "decode %XX first, then resolve the path (realpath) and check that it still starts with the root's real path") { target, sends in
                for request in sends {
                    let path = String(request.dropFirst(4).prefix { $0 != " " })
                    let (response, raw) = exchange(target, request)
                    if response?.status == 200 || String(decoding: raw.bytes, as: UTF8.self).contains("root:") {
                        let why = path.contains("%2") ? ": check for '..' after decoding %XX (%2e is '.', %2f is '/'), not before"
                            : ": a path joined to the root as it came can climb out of it; resolve it and check it is still under the root"
                        return .fail(expected: "400, 403 or 404 — never the file", got: raw, note: "\(path) was served" + why,
                                     reproduce: "curl -i --path-as-is \(target.base)\(path)")
                    }
                }
                return .pass
            },
        ]
    }

    // MARK: keepalive

    static let keepAlive: [Check] = [
        Check(stage: .keepalive, name: "keeps an HTTP/1.1 connection open for the next request", step: "Keep the connection open",
              sends: ["GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"],
              how: "on one connection: the second after the first response", expects: "200, then a second 200 on the same connection",
              hint: "after a response, loop back to reading the next request on the same socket; close only on Connection: close, an error or a timeout") { target, sends in
            let request = sends[0]
            let reproduce = "curl -v \(target.base)/hello.txt --next \(target.base)/hello.txt   # look for 'Re-using existing connection'"
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                client.send(request)
                let first = client.responses(1).first
                let closedEarly = client.reception.ending == .closed
                guard first?.status == 200, !closedEarly else {
                    return .fail(expected: "200, and the connection left open", got: client.reception,
                                 note: closedEarly ? "the server closed the connection after the first response" : nil, reproduce: reproduce)
                }
                // A server that closed silently after the first answer may reset the connection when the second
                // request arrives (ECONNRESET): that is the same mistake, and gets the same explanation.
                client.send(request)
                guard client.responses(1).first?.status == 200 else {
                    return .fail(expected: "a second 200 on the same connection", got: client.reception,
                                 note: "the second request was not answered (\(client.reception.endingText)): an HTTP/1.1 connection stays open "
                                    + "unless a side says Connection: close", reproduce: reproduce)
                }
                return .pass
            } catch {
                return .fail(expected: "two responses on one connection", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
        },
        Check(stage: .keepalive, name: "closes after a request with Connection: close, and says so", step: "Keep the connection open",
              sends: [get("/hello.txt")], expects: "Connection: close in the response, then the socket closed",
              hint: "when the request says Connection: close (or is HTTP/1.0 without keep-alive), add Connection: close to the response and close after it") { target, sends in
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                client.send(sends[0])
                let response = client.responses(1).first
                let closes = client.reception.ending == .closed || client.closes(within: 1)
                guard response?.headers.contains("Connection", token: "close") == true, closes else {
                    let note = response == nil ? nil : !closes ? "the connection stayed open after the response"
                        : "the server closed without Connection: close in the response: the client cannot tell a close from a lost connection"
                    return .fail(expected: "Connection: close in the response, then the socket closed", got: client.reception, note: note,
                                 reproduce: "curl -v -H 'Connection: close' \(target.base)/hello.txt")
                }
                return .pass
            } catch {
                return .fail(expected: "a response", got: Reception(failure: error), note: nil, reproduce: "curl -v -H 'Connection: close' \(target.base)/hello.txt")
            }
        },
        Check(stage: .keepalive, name: "answers pipelined requests in order", step: "Pipelining and chunked request bodies",
              sends: ["GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\nGET /no-such-file HTTP/1.1\r\nHost: localhost\r\n\r\nHEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
              how: "three requests in one write", expects: "200, 404, 200 (the last with no body), in that order",
              hint: "keep the bytes read after one request's head: they are the start of the next request; parse them before reading again") { target, sends in
            let request = sends[0]
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                client.send(request)
                let responses = client.responses(3, methods: ["GET", "GET", "HEAD"])
                guard responses.map(\.status) == [200, 404, 200] else {
                    let note = client.reception.ending == .closed && responses.count < 3
                        ? "the server closed the connection after \(responses.count) of 3 responses"
                        : responses.count == 1 && responses[0].status == 200
                        ? "only the first request was answered: the bytes read after the first request's head are the next requests, "
                            + "keep them for the next parse instead of dropping them"
                        : "got \(responses.map(\.status))"
                    return .fail(expected: "200, 404, 200 in that order", got: client.reception, note: note, reproduce: Reproduce.raw(target, request))
                }
                return .pass
            } catch {
                return .fail(expected: "three responses", got: Reception(failure: error), note: nil, reproduce: Reproduce.raw(target, request))
            }
        },
        Check(stage: .keepalive, name: "reads a chunked request body and stays in sync", step: "Pipelining and chunked request bodies",
              sends: ["POST /hello.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
              how: "in one write", expects: "an answer to the POST (any status), then 200 for the GET after its chunked body",
              hint: "read a body before the next request, even one you refuse: Content-Length bytes, or chunks (hex size, CRLF, data, CRLF) until the 0 chunk") { target, sends in
            let request = sends[0]
            do {
                let client = try CheckClient.connect(target)
                defer { client.close() }
                client.send(request, method: "POST")
                let responses = client.responses(2)
                guard responses.count == 2, responses[1].status == 200 else {
                    return .fail(expected: "an answer to the POST (any status), then 200 for the GET after its chunked body", got: client.reception,
                                 note: client.reception.ending == .closed && responses.count < 2
                                    ? "the server closed the connection after \(responses.count) of 2 responses"
                                    : "a server that ignores Transfer-Encoding reads '5\\r\\nhello...' as the next request", reproduce: Reproduce.raw(target, request))
                }
                return .pass
            } catch {
                return .fail(expected: "two responses", got: Reception(failure: error), note: nil, reproduce: Reproduce.raw(target, request))
            }
        },
    ]

    // MARK: router

    static let router: [Check] = [
        Check(stage: .router, name: "GET /echo/abc answers abc as text/plain", step: "Routes",
              sends: [get("/echo/abc")], expects: "200, Content-Type: text/plain, body abc",
              hint: "match the path against routes before the files: /echo/{text} answers its last segment as text/plain") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard response?.status == 200, response.map({ String(decoding: $0.body, as: UTF8.self) }) == "abc",
                  response?.headers["Content-Type"]?.hasPrefix("text/plain") == true else {
                return .fail(expected: "200, text/plain, body abc", got: raw, note: nil, reproduce: "curl -i \(target.base)/echo/abc")
            }
            return .pass
        },
        Check(stage: .router, name: "GET /user-agent answers the User-Agent", step: "Routes",
              sends: [get("/user-agent", "User-Agent: httpkit-check/1.0\r\n")], expects: "200 with body httpkit-check/1.0",
              hint: "header names are case-insensitive: look User-Agent up however the client spelled it, and answer its value") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard response.map({ String(decoding: $0.body, as: UTF8.self) }) == "httpkit-check/1.0" else {
                return .fail(expected: "body httpkit-check/1.0", got: raw, note: nil, reproduce: "curl -i -A httpkit-check/1.0 \(target.base)/user-agent")
            }
            return .pass
        },
        Check(stage: .router, name: "answers a known path with the wrong method with 405 and Allow", step: "Routes",
              sends: ["DELETE /echo/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"], expects: "405 with Allow: GET, HEAD",
              hint: "when the path matches a route but the method does not, answer 405 with Allow listing the methods that route takes, not 404") { target, sends in
            let request = sends[0]
            let (response, raw) = exchange(target, request)
            guard response?.status == 405, response?.headers["Allow"]?.contains("GET") == true else {
                return .fail(expected: "405 with Allow: GET, HEAD", got: raw, note: nil, reproduce: "curl -i -X DELETE \(target.base)/echo/x")
            }
            return .pass
        },
        Check(stage: .router, name: "gzips when the client accepts it, and says Vary", step: "gzip when the client accepts it",
              sends: [get("/index.html"), get("/index.html", "Accept-Encoding: gzip\r\n")], how: "on two connections, one after the other",
              expects: "to the second: Content-Encoding: gzip, Vary: Accept-Encoding, and a body that gunzips to the first's",
              hint: "gzip the body (zlib with windowBits 31, or Python's gzip.compress), set Content-Length to the compressed length, add Vary: Accept-Encoding") { target, sends in
            let (plain, _) = exchange(target, sends[0])
            let (gzipped, raw) = exchange(target, sends[1])
            guard let gzipped, gzipped.headers["Content-Encoding"] == "gzip", gzipped.headers["Vary"]?.contains("Accept-Encoding") == true,
                  let decoded = try? Gzip.decompress(gzipped.body), decoded == plain?.body else {
                return .fail(expected: "Content-Encoding: gzip, Vary: Accept-Encoding, and a body that decodes to the file", got: raw, note: nil,
                             reproduce: "curl -sv --compressed -o /dev/null \(target.base)/index.html")
            }
            return .pass
        },
        Check(stage: .router, name: "does not gzip when the client does not accept it", step: "gzip when the client accepts it",
              sends: [get("/index.html", "Accept-Encoding: gzip;q=0\r\n")], expects: "200 without Content-Encoding",
              hint: "parse Accept-Encoding as a list of codings with q-values: gzip;q=0 means 'not gzip'") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard response?.status == 200, response?.headers["Content-Encoding"] == nil else {
                return .fail(expected: "200 without Content-Encoding", got: raw, note: nil, reproduce: "curl -sv -H 'Accept-Encoding: gzip;q=0' -o /dev/null \(target.base)/index.html")
            }
            return .pass
        },
        Check(stage: .router, name: "POST /api/echo returns valid JSON and refuses invalid JSON with 400", step: "Request bodies: JSON",
              sends: ["POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{\"a\": 1}",
                      "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{\"a\":"],
              how: "on two connections, one after the other", expects: "200 with the same JSON back, then 400 for the invalid JSON",
              hint: "read exactly Content-Length bytes of body, validate them as JSON, and answer 400 with the reason when they are not") { target, sends in
            let good = sends[0]
            let (response, raw) = exchange(target, good, method: "POST")
            guard response?.status == 200, response?.body == Array("{\"a\": 1}".utf8) else {
                return .fail(expected: "200 with the same JSON back", got: raw, note: nil, reproduce: "curl -i -d '{\"a\": 1}' \(target.base)/api/echo")
            }
            let bad = sends[1]
            let (refused, badRaw) = exchange(target, bad, method: "POST")
            guard refused?.status == 400 else {
                return .fail(expected: "400 for invalid JSON", got: badRaw, note: nil, reproduce: "curl -i -d '{\"a\":' \(target.base)/api/echo")
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
