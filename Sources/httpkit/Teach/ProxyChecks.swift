import HTTPCore
import Sockets
import Stages

extension CheckCatalog {
    /// The proxy stage's checks, seen from the client: the proxy under test must stand in front of httpkit's
    /// router (`httpkit router --port 8081`, then your proxy with that upstream), whose routes they use.
    static let proxy: [Check] = [
        Check(stage: .proxy, name: "forwards a request and passes the upstream's answer back, with Via") { target in
            let (response, raw) = exchange(target, get("/users/1"))
            guard response?.status == 200, response?.body == Array("{\"id\": \"1\", \"name\": \"Ada Lovelace\"}\n".utf8) else {
                return .fail(expected: "200 with the router's {\"id\": \"1\", \"name\": \"Ada Lovelace\"}", got: raw, note: nil,
                             reproduce: "curl -i \(target.base)/users/1")
            }
            guard response?.headers["Via"]?.contains("1.1") == true else {
                return .fail(expected: "a Via header naming this hop (RFC 9110 §7.6.3), such as Via: 1.1 myproxy", got: raw, note: nil,
                             reproduce: "curl -i \(target.base)/users/1")
            }
            return .pass
        },
        Check(stage: .proxy, name: "keeps the client's connection for a second request") { target in
            let reproduce = "curl -i \(target.base)/echo/one --next \(target.base)/echo/two"
            let client: CheckClient
            do {
                client = try CheckClient.connect(target)
            } catch {
                return .fail(expected: "two answers on one connection", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
            defer { client.close() }
            client.send("GET /echo/one HTTP/1.1\r\nHost: localhost\r\n\r\nGET /echo/two HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                        method: "GET")
            let responses = client.responses(2, methods: ["GET", "GET"])
            guard responses.map({ String(decoding: $0.body, as: UTF8.self) }) == ["one", "two"] else {
                return .fail(expected: "two answers in order on one connection: one, then two", got: client.reception, note: nil, reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "streams a chunked response and forwards a request body") { target in
            let (chunked, raw) = exchange(target, get("/chunked/100"))
            let text = chunked.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
            guard chunked?.status == 200, text.hasPrefix("line 1 of 100\n"), text.hasSuffix("line 100 of 100\n") else {
                return .fail(expected: "200 with 100 lines", got: raw, note: nil, reproduce: "curl -i \(target.base)/chunked/100")
            }
            let post = "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{\"a\": 1}"
            let (echoed, postRaw) = exchange(target, post, method: "POST")
            guard echoed?.status == 200, echoed?.body == Array("{\"a\": 1}".utf8) else {
                return .fail(expected: "200 with the same JSON back", got: postRaw, note: nil, reproduce: "curl -i -d '{\"a\": 1}' \(target.base)/api/echo")
            }
            return .pass
        },
        Check(stage: .proxy, name: "refuses Content-Length with Transfer-Encoding instead of forwarding it (smuggling)") { target in
            let request = "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"
            let (response, raw) = exchange(target, request, method: "POST")
            guard response?.status == 400 else {
                return .fail(expected: "400: a request whose length two parsers could read differently is never forwarded (RFC 9112 §6.3)",
                             got: raw, note: nil,
                             reproduce: "printf 'POST /api/echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n' | nc -q1 \(target.ncAddress)")
            }
            return .pass
        },
    ]
}
