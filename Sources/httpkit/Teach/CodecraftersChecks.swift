import ArgumentParser
import Foundation
import HTTPCore
import Stages

/// A course of another site whose server httpkit can check offline.
enum Course: String, ExpressibleByArgument, CaseIterable {
    /// CodeCrafters' "Build your own HTTP server": its base stages, then the HTTP compression and the
    /// persistent connections extensions. The program listens on 4221 and takes `--directory DIR`.
    case codecrafters

    var port: UInt16 { 4221 }
    var checks: [Check] { CheckCatalog.codecrafters }
}

/// The CodeCrafters HTTP-server course as checks, in the course's order, each step named as the course
/// names its stage. Requests are the course's (Host: localhost:4221, no Connection header until the last
/// stage); the files stages use the folder `{dir}` in the --exec command becomes, which check makes and
/// removes. httpkit's own router passes them all: its /echo, /user-agent and /files are there for this.
extension CheckCatalog {
    static func ccRequest(_ path: String, _ extra: String = "", method: String = "GET") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: localhost:4221\r\n\(extra)\r\n"
    }

    /// One request, one response, on a new connection; the checks of the base stages.
    static func ccExchange(_ target: CheckTarget, _ request: String, method: String = "GET",
                           _ judge: (ParsedResponse) -> String?) -> CheckOutcome? {
        let (response, raw) = exchange(target, request, method: method)
        guard let response else { return .fail(expected: "a response", got: raw, note: nil, reproduce: Reproduce.raw(target, request)) }
        guard let problem = judge(response) else { return nil }
        return .fail(expected: problem, got: raw, note: summary(response), reproduce: Reproduce.raw(target, request))
    }

    /// What came back, in a line: the status, the headers these checks look at, the start of the body.
    static func summary(_ response: ParsedResponse) -> String {
        let fields = ["Content-Type", "Content-Encoding", "Content-Length"].map { name in "\(name): \(response.headers[name] ?? "(none)")" }
        let text = response.body.count <= 40 && !response.body.contains(where: { $0 < 0x20 || $0 > 0x7e })
            ? "body \(body(response).debugDescription)" : "a body of \(WireAnalysis.bytesText(response.body.count))"
        return "the answer was \(response.status), " + fields.joined(separator: ", ") + ", " + text
    }

    static func body(_ response: ParsedResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static let codecrafters: [Check] = {
        var checks: [Check] = []
        func add(_ label: String, _ check: Check) {
            var check = check
            check.label = label
            checks.append(check)
        }
        add("cc base", Check(stage: .router, name: "accepts a TCP connection on port 4221", step: "Bind to a port",
                             how: "a connection, nothing sent", expects: "the connection accepted",
                             hint: "socket, setsockopt SO_REUSEADDR, bind to port 4221, listen, accept") { target in
            do {
                try CheckClient.connect(target).close()
                return .pass
            } catch {
                return .fail(expected: "a listening socket", got: Reception(failure: error), note: nil, reproduce: "nc -v \(target.ncAddress)")
            }
        })
        add("cc base", Check(stage: .router, name: "answers GET / with 200", step: "Respond with 200",
                             sends: [ccRequest("/")], expects: "HTTP/1.1 200 OK\\r\\n\\r\\n (headers may follow the status line)",
                             hint: "write 'HTTP/1.1 200 OK\\r\\n\\r\\n' to the accepted socket") { target, sends in
            ccExchange(target, sends[0]) { $0.status == 200 ? nil : "200 OK, not \($0.status)" } ?? .pass
        })
        add("cc base", Check(stage: .router, name: "answers an unknown path with 404", step: "Extract URL path",
                             sends: [ccRequest("/abcdefg")], expects: "HTTP/1.1 404 Not Found",
                             hint: "the path is the second word of the request line: answer 200 for / and 404 for anything else") { target, sends in
            ccExchange(target, sends[0]) { $0.status == 404 ? nil : "404 Not Found, not \($0.status)" } ?? .pass
        })
        add("cc base", Check(stage: .router, name: "GET /echo/abc answers abc as text/plain with Content-Length: 3", step: "Respond with body",
                             sends: [ccRequest("/echo/abc")], expects: "200, Content-Type: text/plain, Content-Length: 3, body abc",
                             hint: "the body is what follows /echo/; Content-Length is its length in bytes") { target, sends in
            ccExchange(target, sends[0]) { response in
                response.status == 200 && body(response) == "abc" && response.headers["Content-Type"]?.hasPrefix("text/plain") == true
                    && response.headers["Content-Length"] == "3" ? nil : "200, Content-Type: text/plain, Content-Length: 3, body abc"
            } ?? .pass
        })
        add("cc base", Check(stage: .router, name: "GET /user-agent answers the User-Agent header", step: "Read header",
                             sends: [ccRequest("/user-agent", "User-Agent: foobar/1.2.3\r\n")], expects: "200, Content-Type: text/plain, body foobar/1.2.3",
                             hint: "split the header lines after the request line at the first colon; names are case-insensitive, values trimmed") { target, sends in
            ccExchange(target, sends[0]) { response in
                response.status == 200 && body(response) == "foobar/1.2.3" ? nil : "200 with body foobar/1.2.3"
            } ?? .pass
        })
        add("cc base", Check(stage: .router, name: "answers 3 connections opened at once", step: "Concurrent connections",
                             sends: [ccRequest("/")], how: "on 3 connections opened first, sent last one first",
                             expects: "200 on each", hint: "serve each accepted connection on its own thread (or process, or an event loop)") { target, sends in
            do {
                let clients = try (0..<3).map { _ in try CheckClient.connect(target) }
                defer { clients.forEach { $0.close() } }
                for client in clients.reversed() { client.send(sends[0]) }
                for client in clients.reversed() where client.responses(1).first?.status != 200 {
                    return .fail(expected: "200 on each of 3 connections", got: client.reception,
                                 note: "a connection was not answered while the others were open: one client at a time?", reproduce: Reproduce.raw(target, sends[0]))
                }
                return .pass
            } catch {
                return .fail(expected: "3 connections", got: Reception(failure: error), note: nil, reproduce: "nc -v \(target.ncAddress)")
            }
        })
        add("cc base", Check(stage: .router, name: "GET /files/NAME answers the file from --directory as application/octet-stream", step: "Return a file",
                             sends: [ccRequest("/files/httpkit_cc_file")], how: "after writing 'Hello, World!' to httpkit_cc_file in the --directory folder",
                             expects: "200, Content-Type: application/octet-stream, Content-Length: 13, body Hello, World!",
                             hint: "read --directory DIR from the command line; /files/NAME is DIR/NAME, sent as bytes") { target, sends in
            guard let directory = target.directory else { return .skipped("the server's --directory is not known: use --exec with {dir}") }
            guard FileManager.default.createFile(atPath: directory + "/httpkit_cc_file", contents: Data("Hello, World!".utf8)) else {
                return .skipped("cannot write \(directory)/httpkit_cc_file, the file this check asks the server for")
            }
            return ccExchange(target, sends[0]) { response in
                response.status == 200 && body(response) == "Hello, World!" && response.headers["Content-Type"] == "application/octet-stream"
                    ? nil : "200, Content-Type: application/octet-stream, body Hello, World!"
            } ?? .pass
        })
        add("cc base", Check(stage: .router, name: "GET /files/NAME of a missing file answers 404", step: "Return a file",
                             sends: [ccRequest("/files/non_existent_file")], expects: "HTTP/1.1 404 Not Found",
                             hint: "when DIR/NAME does not exist, answer 404") { target, sends in
            ccExchange(target, sends[0]) { $0.status == 404 ? nil : "404 Not Found, not \($0.status)" } ?? .pass
        })
        let post = ccRequest("/files/httpkit_cc_upload", "Content-Type: application/octet-stream\r\nContent-Length: 12\r\n", method: "POST") + "hello upload"
        add("cc base", Check(stage: .router, name: "POST /files/NAME writes the body to --directory and answers 201", step: "Read request body",
                             sends: [post], expects: "HTTP/1.1 201 Created, and DIR/httpkit_cc_upload holding hello upload",
                             hint: "after the head, read Content-Length bytes of body (some may have come with the head) and write them to DIR/NAME") { target, sends in
            guard let directory = target.directory else { return .skipped("the server's --directory is not known: use --exec with {dir}") }
            if let failure = ccExchange(target, sends[0], method: "POST", { $0.status == 201 ? nil : "201 Created, not \($0.status)" }) { return failure }
            let written = (try? String(contentsOfFile: directory + "/httpkit_cc_upload", encoding: .utf8)) ?? "(no file)"
            guard written == "hello upload" else {
                return .fail(expected: "the file to hold the body", got: Reception(), note: "DIR/httpkit_cc_upload holds \(written.debugDescription)",
                             reproduce: "curl -v --data-binary 'hello upload' \(target.base)/files/httpkit_cc_upload")
            }
            return .pass
        })

        // The HTTP compression extension.
        func encoding(_ accept: String, gzip: Bool, step: String, hint: String) -> Check {
            Check(stage: .router, name: "Accept-Encoding: \(accept) gets \(gzip ? "Content-Encoding: gzip" : "no Content-Encoding")", step: step,
                  sends: [ccRequest("/echo/abc", "Accept-Encoding: \(accept)\r\n")],
                  expects: gzip ? "200 with Content-Encoding: gzip" : "200 without Content-Encoding", hint: hint) { target, sends in
                ccExchange(target, sends[0]) { response in
                    let coding = response.headers["Content-Encoding"]
                    return response.status == 200 && (gzip ? coding == "gzip" : coding == nil)
                        ? nil : gzip ? "Content-Encoding: gzip" : "no Content-Encoding header (\(coding ?? "none") sent)"
                } ?? .pass
            }
        }
        add("cc gzip", encoding("gzip", gzip: true, step: "Compression headers", hint: "when Accept-Encoding is gzip, add Content-Encoding: gzip"))
        add("cc gzip", encoding("invalid-encoding", gzip: false, step: "Compression headers",
                                hint: "send Content-Encoding only for a coding you apply: gzip, and only when the client accepts it"))
        add("cc gzip", encoding("invalid-encoding-1, gzip, invalid-encoding-2", gzip: true, step: "Multiple compression schemes",
                                hint: "Accept-Encoding is a comma-separated list: split it and trim each coding, then look for gzip"))
        add("cc gzip", encoding("invalid-encoding-1, invalid-encoding-2", gzip: false, step: "Multiple compression schemes",
                                hint: "no gzip in the list: no Content-Encoding, the body as it is"))
        add("cc gzip", Check(stage: .router, name: "gzips the body: it decompresses to abc, and Content-Length is the compressed length", step: "Gzip compression",
                             sends: [ccRequest("/echo/abc", "Accept-Encoding: gzip\r\n")], expects: "Content-Encoding: gzip and a body that gunzips to abc",
                             hint: "compress the body with gzip (Python: gzip.compress; zlib with windowBits 31), then set Content-Length to the compressed size") { target, sends in
            ccExchange(target, sends[0]) { response in
                guard let decoded = try? Gzip.decompress(response.body) else {
                    return "a gzip body (it starts 1f 8b) of Content-Length bytes that decompresses to abc"
                }
                return decoded == Array("abc".utf8) ? nil : "the body to decompress to abc, not \(String(decoding: decoded, as: UTF8.self).debugDescription)"
            } ?? .pass
        })

        // The persistent connections extension.
        add("cc persist", Check(stage: .router, name: "answers two requests on one connection", step: "Persistent connections",
                                sends: [ccRequest("/echo/banana"), ccRequest("/user-agent", "User-Agent: blueberry/apple\r\n")],
                                how: "on one connection, the second after the first response", expects: "200 banana, then 200 blueberry/apple",
                                hint: "after answering, loop back to reading the next request on the same socket; close only when the client does") { target, sends in
            ccConversation(target, [(sends[0], "banana"), (sends[1], "blueberry/apple")])
        })
        add("cc persist", Check(stage: .router, name: "serves two persistent connections side by side", step: "Multiple persistent connections",
                                sends: [ccRequest("/echo/apple"), ccRequest("/echo/grape")], how: "each on two connections, taking turns: first, second, first, second",
                                expects: "each connection's two answers, in turn",
                                hint: "each connection loops on its own requests, on its own thread (or in the event loop), so neither waits for the other") { target, sends in
            do {
                let first = try CheckClient.connect(target), second = try CheckClient.connect(target)
                defer { first.close(); second.close() }
                for (client, request, text) in [(first, sends[0], "apple"), (second, sends[1], "grape"), (first, sends[0], "apple"), (second, sends[1], "grape")] {
                    client.send(request)
                    guard let response = client.responses(1).first, response.status == 200, body(response) == text else {
                        return .fail(expected: "200 \(text) on a connection already used (or open beside another)", got: client.reception,
                                     note: [.closed, .reset].contains(client.reception.ending) ? "the server closed the connection after a response" : nil,
                                     reproduce: Reproduce.raw(target, request + request))
                    }
                }
                return .pass
            } catch {
                return .fail(expected: "two connections", got: Reception(failure: error), note: nil, reproduce: "nc -v \(target.ncAddress)")
            }
        })
        add("cc persist", Check(stage: .router, name: "closes after a request with Connection: close, and says so", step: "Connection closure",
                                sends: [ccRequest("/echo/orange"), ccRequest("/echo/orange", "Connection: close\r\n")],
                                how: "on one connection", expects: "200 orange, then 200 orange with Connection: close, then the connection closed",
                                hint: "when the request says Connection: close, add Connection: close to the response and close the socket after it") { target, sends in
            if case .fail(let expected, let got, let note, let reproduce) = ccConversation(target, [(sends[0], "orange"), (sends[1], "orange")], closes: true) {
                return .fail(expected: expected, got: got, note: note, reproduce: reproduce)
            }
            return .pass
        })
        return checks
    }()

    /// Requests on one connection, one after the other's answer, each answered 200 with its text; with
    /// `closes`, the last answer must say Connection: close and the server must close.
    static func ccConversation(_ target: CheckTarget, _ exchanges: [(request: String, text: String)], closes: Bool = false) -> CheckOutcome {
        let reproduce = Reproduce.raw(target, exchanges.map(\.request).joined())
        do {
            let client = try CheckClient.connect(target)
            defer { client.close() }
            for (index, exchange) in exchanges.enumerated() {
                client.send(exchange.request)
                guard let response = client.responses(1).first, response.status == 200, body(response) == exchange.text else {
                    // Closed shows as EOF, or as a reset when the server closed with our next request unread.
                    let closed = [.closed, .reset].contains(client.reception.ending) || client.reception.sendError != nil
                    return .fail(expected: "200 with body \(exchange.text) (request \(index + 1) of \(exchanges.count) on one connection)", got: client.reception,
                                 note: index > 0 && closed ? "the server closed the connection after the first response: an HTTP/1.1 connection stays open until a side says Connection: close" : nil,
                                 reproduce: reproduce)
                }
                if closes && index == exchanges.count - 1 {
                    let says = response.headers.contains("Connection", token: "close")
                    guard says, [.closed, .reset].contains(client.reception.ending) || client.closes(within: 1) else {
                        return .fail(expected: "Connection: close in the response, then the socket closed", got: client.reception,
                                     note: says ? "the connection stayed open after the response" : "no Connection: close in the response", reproduce: reproduce)
                    }
                }
            }
            return .pass
        } catch {
            return .fail(expected: "a connection", got: Reception(failure: error), note: nil, reproduce: reproduce)
        }
    }
}
