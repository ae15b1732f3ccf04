import HTTPCore
import Sockets
import Stages

extension CheckCatalog {
    /// The proxy stage's checks, seen from the client: the proxy under test must stand in front of httpkit's
    /// router (`httpkit router --port 8081`, then your proxy with that upstream), whose routes they use.
    static let proxy: [Check] = [
        Check(stage: .proxy, name: "forwards a request and passes the upstream's answer back, with Via",
              step: "Forward one request", sends: [get("/users/1")],
              expects: "the router's 200 with {\"id\": \"1\", \"name\": \"Ada Lovelace\"} and a Via header naming your hop",
              hint: "connect to the upstream, send the request's head (Host kept) and body, copy the answer back; add Via: 1.1 NAME to what you forward and what you return (RFC 9110 §7.6.3)") { target, sends in
            let (response, raw) = exchange(target, sends[0])
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
        Check(stage: .proxy, name: "keeps the client's connection for a second request",
              step: "Keep-alive on both hops", sends: [
                  "GET /echo/one HTTP/1.1\r\nHost: localhost\r\n\r\nGET /echo/two HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"],
              how: "both requests in one write, on one connection",
              expects: "two answers in order on that connection: one, then two",
              hint: "after relaying an answer, read the client's next request instead of closing; the Connection header of one hop is not the other's (RFC 9110 §7.6.1): remove it and its listed fields before forwarding") { target, sends in
            let reproduce = "curl -i \(target.base)/echo/one --next \(target.base)/echo/two"
            let client: CheckClient
            do {
                client = try CheckClient.connect(target)
            } catch {
                return .fail(expected: "two answers on one connection", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
            defer { client.close() }
            client.send(sends[0], method: "GET")
            let responses = client.responses(2, methods: ["GET", "GET"])
            guard responses.map({ String(decoding: $0.body, as: UTF8.self) }) == ["one", "two"] else {
                return .fail(expected: "two answers in order on one connection: one, then two", got: client.reception, note: nil, reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "streams a chunked response and forwards a request body",
              step: "Bodies both ways", sends: [get("/chunked/100"),
                  "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\n{\"a\": 1}"],
              expects: "200 with the 100 lines of the chunked answer, then 200 with the same JSON back",
              hint: "frame each hop's body for that hop: decode the upstream's chunked body and send it on (chunked again, or with a length); forward a request body by its Content-Length") { target, sends in
            let (chunked, raw) = exchange(target, sends[0])
            let text = chunked.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
            guard chunked?.status == 200, text.hasPrefix("line 1 of 100\n"), text.hasSuffix("line 100 of 100\n") else {
                return .fail(expected: "200 with 100 lines", got: raw, note: nil, reproduce: "curl -i \(target.base)/chunked/100")
            }
            let (echoed, postRaw) = exchange(target, sends[1], method: "POST")
            guard echoed?.status == 200, echoed?.body == Array("{\"a\": 1}".utf8) else {
                return .fail(expected: "200 with the same JSON back", got: postRaw, note: nil, reproduce: "curl -i -d '{\"a\": 1}' \(target.base)/api/echo")
            }
            return .pass
        },
        Check(stage: .proxy, name: "refuses Content-Length with Transfer-Encoding instead of forwarding it (smuggling)",
              step: "Never forward an ambiguous request",
              sends: ["POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"],
              expects: "400, and nothing forwarded",
              hint: "parse the request strictly before forwarding a byte: Content-Length with Transfer-Encoding, two different Content-Lengths or obs-fold are a 400 (RFC 9112 §6.3); your upstream could read the length the other way") { target, sends in
            let (response, raw) = exchange(target, sends[0], method: "POST")
            guard response?.status == 400 else {
                return .fail(expected: "400: a request whose length two parsers could read differently is never forwarded (RFC 9112 §6.3)",
                             got: raw, note: nil,
                             reproduce: "printf 'POST /api/echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n' | nc -q1 \(target.ncAddress)")
            }
            return .pass
        },
    ]
}
