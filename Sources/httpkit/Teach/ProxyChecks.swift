import Foundation
import HTTPCore
import Sockets
import Stages

extension CheckCatalog {
    /// Why a check that reads the upstreams' side is skipped: the proxy stands in front of servers the
    /// check does not know (--target, or --exec without {upstreams}).
    static let needsUpstreams = "needs the check's own upstreams behind your proxy: start it with --exec 'COMMAND {port} {upstreams}'"

    /// A request full of fields that describe the client's connection to the proxy, not the request.
    static let hopByHopRequest = "GET /headers HTTP/1.1\r\nHost: localhost\r\nConnection: X-Hop, close\r\nX-Hop: 1\r\n"
        + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\n\r\n"

    static let authorizedRequest = get("/cache/authorized", "Authorization: Basic bGVhcm5lcjpodHRwa2l0\r\n")

    /// The proxy stage's checks. With `{upstreams}` in --exec (and for httpkit's own proxy) the proxy stands
    /// in front of the check's own two upstreams (CheckUpstream.swift), and the checks see both hops: what
    /// the client got, and what arrived upstream. Without them (--target), the proxy must stand in front of
    /// `httpkit router`, whose answers the first steps' paths share, and the checks of the upstream side skip.
    /// The steps go from one hop to many: forwarding, the fields that stop at the proxy, keep-alive, bodies
    /// and smuggling on one upstream; then two upstreams, the cache, and last a dead upstream (those
    /// checks stop the upstreams, and a proxy may leave a failed upstream out for a while).
    static let proxy: [Check] = [
        Check(stage: .proxy, name: "forwards a request and passes the upstream's answer back, with Via",
              step: "Forward one request", sends: [get("/users/1")],
              expects: "the upstream's 200 with {\"id\": \"1\", \"name\": \"Ada Lovelace\"} and a Via header naming your hop",
              hint: "connect to the upstream, send the request's head (Host kept) and body, copy the answer back; add Via: 1.1 NAME to what you forward and what you return (RFC 9110 §7.6.3)") { target, sends in
            let (response, raw) = exchange(target, sends[0])
            guard response?.status == 200, response?.body == Array("{\"id\": \"1\", \"name\": \"Ada Lovelace\"}\n".utf8) else {
                return .fail(expected: "200 with the upstream's {\"id\": \"1\", \"name\": \"Ada Lovelace\"}", got: raw, note: nil,
                             reproduce: "curl -i \(target.base)/users/1")
            }
            guard response?.headers["Via"]?.contains("1.1") == true else {
                return .fail(expected: "a Via header naming this hop (RFC 9110 §7.6.3), such as Via: 1.1 myproxy", got: raw, note: nil,
                             reproduce: "curl -i \(target.base)/users/1")
            }
            return .pass
        },
        Check(stage: .proxy, name: "removes the request's hop-by-hop fields and adds Via and X-Forwarded-For (RFC 9110 §7.6.1)",
              step: "Hop-by-hop fields stop at the proxy", sends: [hopByHopRequest],
              expects: "at the upstream: no X-Hop (the client's Connection names it), Keep-Alive, TE or Proxy-Connection, and no Connection "
                + "naming X-Hop; Via: 1.1 NAME and X-Forwarded-For: 127.0.0.1 added. The upstream answers with the head that arrived",
              hint: "Connection lists the fields meant for this connection only: before forwarding, remove Connection, every field it names, and Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade and Proxy-Connection (RFC 9110 §7.6.1); then add Via: 1.1 NAME and X-Forwarded-For with the client's address") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            let reproduce = Reproduce.raw(target, sends[0])
            let mark = upstreams.mark()
            let (response, raw) = exchange(target, sends[0])
            guard let arrival = upstreams.arrivals(since: mark, path: "/headers").first else {
                return .fail(expected: "the request forwarded to an upstream", got: raw, note: "neither upstream received GET /headers", reproduce: reproduce)
            }
            let fields = arrival.request.headers
            let leaked = fields.fields.filter { field in
                let name = field.name.lowercased()
                return ["x-hop", "keep-alive", "te", "proxy-connection", "trailer", "upgrade"].contains(name)
                    || (name == "connection" && HTTPHeaders([field]).contains("Connection", token: "x-hop"))
            }
            if !leaked.isEmpty {
                return .fail(expected: "the request at the upstream without the client's hop-by-hop fields (RFC 9110 §7.6.1)", got: raw,
                             note: "\(list(leaked.map(\.name))) reached upstream \(arrival.upstream) (\(leaked.map { "\($0.name): \($0.value)" }.joined(separator: "; "))): "
                                + "they describe the client's connection to your proxy, not the request (X-Hop is one because the client's "
                                + "Connection names it). A correct proxy removes Connection, the fields it names, Keep-Alive, TE, Trailer, "
                                + "Upgrade and Proxy-Connection before forwarding",
                             reproduce: reproduce)
            }
            guard fields["Via"]?.contains("1.1") == true else {
                return .fail(expected: "Via: 1.1 NAME on the forwarded request (RFC 9110 §7.6.3)", got: raw,
                             note: "upstream \(arrival.upstream) received no Via\(fields["Via"].map { " naming HTTP/1.1 (it got Via: \($0))" } ?? ""): "
                                + "each proxy appends the protocol it received and its name", reproduce: reproduce)
            }
            let forwardedFor = fields.values("X-Forwarded-For").joined(separator: ", ")
            guard forwardedFor.contains("127.0.0.1") else {
                return .fail(expected: "X-Forwarded-For: 127.0.0.1 (the client's address as the proxy saw it) on the forwarded request", got: raw,
                             note: "upstream \(arrival.upstream) received \(forwardedFor.isEmpty ? "no X-Forwarded-For" : "X-Forwarded-For: \(forwardedFor)"): "
                                + "without it the upstream sees every request come from the proxy", reproduce: reproduce)
            }
            guard response?.status == 200 else {
                return .fail(expected: "the upstream's 200 passed back", got: raw, note: nil, reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "removes the hop-by-hop fields of the upstream's answer",
              step: "Hop-by-hop fields stop at the proxy", sends: [get("/headers")],
              expects: "200 without the upstream's Connection: X-Backend-Hop, X-Backend-Hop or Keep-Alive: \(CheckUpstream.keepAliveValue) "
                + "(a Connection: close of your own is fine)",
              hint: "an answer's head has hop-by-hop fields too: remove the upstream's Connection, the fields it names and Keep-Alive before relaying it; the client's connection gets a Connection header of its own when it needs one") { target, sends in
            guard target.upstreams != nil else { return .skipped(needsUpstreams) }
            let (response, raw) = exchange(target, sends[0])
            guard let response, response.status == 200 else {
                return .fail(expected: "the upstream's 200 passed back", got: raw, note: nil, reproduce: "curl -i \(target.base)/headers")
            }
            let leaked = response.headers.fields.filter { field in
                let name = field.name.lowercased()
                return name == "x-backend-hop" || (name == "keep-alive" && field.value == CheckUpstream.keepAliveValue)
                    || (name == "connection" && HTTPHeaders([field]).contains("Connection", token: "x-backend-hop"))
            }
            guard leaked.isEmpty else {
                return .fail(expected: "the answer without the upstream's hop-by-hop fields (RFC 9110 §7.6.1)", got: raw,
                             note: "\(list(leaked.map(\.name))) (\(leaked.map { "\($0.name): \($0.value)" }.joined(separator: "; "))) came from the "
                                + "upstream's connection to your proxy and reached the client: remove the upstream's Connection, the fields it names "
                                + "and Keep-Alive before relaying",
                             reproduce: "curl -i \(target.base)/headers")
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
            let reproduce = "printf 'POST /api/echo HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n' | nc -q1 \(target.ncAddress)"
            let mark = target.upstreams?.mark()
            let (response, raw) = exchange(target, sends[0], method: "POST")
            guard response?.status == 400 else {
                return .fail(expected: "400: a request whose length two parsers could read differently is never forwarded (RFC 9112 §6.3)",
                             got: raw, note: nil, reproduce: reproduce)
            }
            if let upstreams = target.upstreams, let mark, let arrival = upstreams.arrivals(since: mark).first {
                return .fail(expected: "400, and nothing forwarded", got: raw,
                             note: "upstream \(arrival.upstream) received \(arrival.summary) before the client got its 400: "
                                + "refuse the request before a byte of it goes upstream (another upstream may read its length the other way)",
                             reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "spreads the requests over both upstreams",
              step: "Two upstreams", sends: [get("/who")],
              how: "10 at once, each on its own connection; each upstream takes 0.1 s to answer /who",
              expects: "10 answers of 200, made by both a and b (the body and X-Upstream name the upstream)",
              hint: "take every --upstream (a list), and choose one for each request: in turn (round-robin), or the one with the fewest requests in flight (least-connections)") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            let reproduce = "for i in 1 2 3 4 5 6; do curl -s \(target.base)/who; done"
            let mark = upstreams.mark()
            var clients: [CheckClient] = []
            defer { clients.forEach { $0.close() } }
            for _ in 0..<10 {
                do {
                    clients.append(try CheckClient.connect(target))
                } catch {
                    return .fail(expected: "10 connections at once", got: Reception(failure: error), note: nil, reproduce: reproduce)
                }
            }
            for client in clients { client.send(sends[0], method: "GET") }
            for client in clients {
                guard client.responses(1).first?.status == 200 else {
                    return .fail(expected: "10 answers of 200", got: client.reception, note: nil, reproduce: reproduce)
                }
            }
            let counts = Dictionary(grouping: upstreams.arrivals(since: mark, path: "/who"), by: \.upstream).mapValues(\.count)
            guard counts["a", default: 0] > 0, counts["b", default: 0] > 0 else {
                let only = counts["a", default: 0] > 0 ? "a" : "b"
                return .fail(expected: "requests at both upstreams, a and b", got: clients[0].reception,
                             note: "all \(counts[only, default: 0]) requests went to upstream \(only), none to \(only == "a" ? "b" : "a"): "
                                + "a proxy in front of two upstreams shares the requests between them", reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "answers a repeated GET from its cache while the answer is fresh (max-age=60), with Age",
              step: "Cache what the upstream allows", sends: [get("/cache/max-age"), get("/cache/max-age")],
              how: "one after the other, each on its own connection; the upstream answers with Cache-Control: max-age=60",
              expects: "two 200s with the same body (answer 1 from upstream a or b); only the first reaches an upstream, "
                + "and the second carries Age (RFC 9111 §4, §5.1)",
              hint: "keep a GET's answer when its Cache-Control allows it (max-age=N: fresh for N seconds), keyed by Host and target; answer the next GET for it yourself while it is fresh, with Age: the seconds since you stored it") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            let reproduce = "curl -si \(target.base)/cache/max-age; curl -si \(target.base)/cache/max-age"
            let mark = upstreams.mark()
            let (first, firstRaw) = exchange(target, sends[0])
            guard let first, first.status == 200 else {
                return .fail(expected: "the upstream's 200", got: firstRaw, note: nil, reproduce: reproduce)
            }
            let (second, raw) = exchange(target, sends[1])
            guard let second, second.status == 200 else {
                return .fail(expected: "200 for the same GET again", got: raw, note: nil, reproduce: reproduce)
            }
            let arrived = upstreams.arrivals(since: mark, path: "/cache/max-age").count
            guard arrived < 2 else {
                return .fail(expected: "the second GET answered from your cache, not from an upstream", got: raw,
                             note: "both GETs reached an upstream (answer 1, then answer \(arrived)), though the first answer said Cache-Control: max-age=60: "
                                + "a cache keeps it and answers the second itself", reproduce: reproduce)
            }
            guard second.body == first.body else {
                return .fail(expected: "the stored answer's body again", got: raw, note: "the second body is not the first's", reproduce: reproduce)
            }
            guard let age = second.headers["Age"], Int(age) != nil else {
                return .fail(expected: "Age: SECONDS on the answer from the cache (RFC 9111 §5.1)", got: raw,
                             note: "the second answer came from your cache with \(second.headers["Age"].map { "Age: \($0), not a number of seconds" } ?? "no Age"): "
                                + "a cache MUST say how old a stored answer is when it serves it (RFC 9111 §4)", reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "does not store an answer marked Cache-Control: no-store",
              step: "Cache what the upstream allows", sends: [get("/cache/no-store"), get("/cache/no-store")],
              how: "one after the other, each on its own connection; the upstream answers with Cache-Control: no-store",
              expects: "both reach an upstream: answer 1, then answer 2 (RFC 9111 §5.2.2.5)",
              hint: "store only what the answer allows: not no-store or private, not with Set-Cookie, only 200, 203, 301, 404 or 410, and only with a freshness (max-age, s-maxage or Expires)") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            let reproduce = "curl -si \(target.base)/cache/no-store; curl -si \(target.base)/cache/no-store"
            let mark = upstreams.mark()
            let (first, firstRaw) = exchange(target, sends[0])
            guard first?.status == 200 else {
                return .fail(expected: "the upstream's 200", got: firstRaw, note: nil, reproduce: reproduce)
            }
            let (second, raw) = exchange(target, sends[1])
            let arrived = upstreams.arrivals(since: mark, path: "/cache/no-store").count
            guard second?.status == 200, arrived == 2 else {
                return .fail(expected: "both GETs at an upstream: no-store forbids keeping the answer (RFC 9111 §5.2.2.5)", got: raw,
                             note: second?.status == 200 ? "the second GET was answered without reaching an upstream: the no-store answer was kept" : nil,
                             reproduce: reproduce)
            }
            return .pass
        },
        Check(stage: .proxy, name: "never answers a request with Authorization from its cache, nor keeps its answer",
              step: "Cache what the upstream allows", sends: [authorizedRequest, authorizedRequest, get("/cache/authorized")],
              how: "one after the other, each on its own connection; the upstream answers each with Cache-Control: max-age=60",
              expects: "all three reach an upstream: the answer to a request with Authorization is not stored (RFC 9111 §3.5), "
                + "and a request with Authorization is not answered from the cache",
              hint: "let requests with Authorization pass by the cache both ways: their answers are one user's (RFC 9111 §3.5), and a shared cache that kept one would hand it to the next client") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            let mark = upstreams.mark()
            let notes: [String?] = [
                nil,
                "the second request with Authorization was answered from your cache: a stored copy of a user's answer",
                "the request without Authorization was answered with the copy kept from an authorised request: one user's answer handed to anyone",
            ]
            for (index, request) in sends.enumerated() {
                let (response, raw) = exchange(target, request)
                let reproduce = index == 2 ? "curl -si -u learner:httpkit \(target.base)/cache/authorized; curl -si \(target.base)/cache/authorized"
                    : "curl -si -u learner:httpkit \(target.base)/cache/authorized; curl -si -u learner:httpkit \(target.base)/cache/authorized"
                guard response?.status == 200 else {
                    return .fail(expected: "the upstream's 200", got: raw, note: nil, reproduce: reproduce)
                }
                let arrived = upstreams.arrivals(since: mark, path: "/cache/authorized").count
                guard arrived == index + 1 else {
                    return .fail(expected: "request \(index + 1) of 3 at an upstream", got: raw, note: notes[index], reproduce: reproduce)
                }
            }
            return .pass
        },
        Check(stage: .proxy, name: "keeps answering through the live upstream when the other is down",
              step: "Survive a dead upstream", sends: [get("/echo/alive")],
              how: "4 times, each on its own connection, with upstream b stopped (its port refuses connections)",
              expects: "4 answers of 200 alive: a request whose upstream refuses goes to the other one",
              hint: "when connecting to an upstream fails, or it closes before any byte of the answer, send the request once more to the other upstream (for GET, HEAD, PUT, DELETE: idempotent, RFC 9110 §9.2.2); count the failures, and leave an upstream out for a while after a few") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            upstreams.servers[1].stop()
            defer { upstreams.restart() }
            usleep(200_000) // the proxy's pooled connections to b read their end
            for index in 1...4 {
                let (response, raw) = exchange(target, sends[0])
                guard response?.status == 200, response?.body == Array("alive".utf8) else {
                    return .fail(expected: "200 alive from upstream a", got: raw,
                                 note: "request \(index) of 4, with upstream b (\(upstreams.servers[1].address)) stopped: a correct proxy sends a GET "
                                    + "that b refused to a instead, or leaves b out after it failed", reproduce: "curl -i \(target.base)/echo/alive")
                }
            }
            return .pass
        },
        Check(stage: .proxy, name: "answers 502 with a reason, promptly, when every upstream is down",
              step: "Survive a dead upstream", sends: [get("/echo/alive")],
              how: "with both upstreams stopped",
              expects: "502 Bad Gateway within 3 s, with a body that says which upstream failed and how",
              hint: "when no upstream takes the request, answer it yourself: 502 Bad Gateway (RFC 9110 §15.6.3) with the reason in the body (which upstream, what error); a connect timeout keeps a host that never answers from holding the client") { target, sends in
            guard let upstreams = target.upstreams else { return .skipped(needsUpstreams) }
            upstreams.stop()
            defer { upstreams.restart() }
            usleep(200_000)
            let started = Date()
            let (response, raw) = exchange(target, sends[0])
            let seconds = Date().timeIntervalSince(started)
            let reproduce = "curl -i -m 5 \(target.base)/echo/alive"
            guard response?.status == 502 else {
                return .fail(expected: "502 Bad Gateway: no upstream took the request (RFC 9110 §15.6.3)", got: raw,
                             note: response.map { "\($0.status) with both upstreams stopped" }, reproduce: reproduce)
            }
            guard response?.body.isEmpty == false else {
                return .fail(expected: "502 with the reason in its body", got: raw,
                             note: "a 502 without a word: say which upstream failed and how (connect: ECONNREFUSED), for the person reading the logs",
                             reproduce: reproduce)
            }
            guard seconds < 3 else {
                return .fail(expected: "the 502 within 3 s", got: raw, note: "it took \(String(format: "%.1f", seconds)) s", reproduce: reproduce)
            }
            return .pass
        },
    ]

    /// `A`, `A and B`, `A, B and C`.
    static func list(_ items: [String]) -> String {
        items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
