import Foundation
import HTTPCore
import Sockets
import Stages

/// An HTTP/2 client for the checks: prior knowledge on plain TCP (h2c, RFC 9113 §3.3), frames built and sent
/// one by one so that a check can send what a well-behaved client never would (an even stream id, an
/// unknown frame type, a tiny window), and the server's frames read back and kept, with every byte, for the
/// wire dump of a failure.
struct HTTP2CheckClient {
    let socket: any ClientStream
    var parser = HTTP2FrameParser(maxFrameSize: 16_777_215)
    var encoder = HPACKEncoder()
    var decoder = HPACKDecoder()
    /// Everything received, for the wire dump of a failure.
    var raw: [UInt8] = []
    /// What the server's frames said so far.
    var seen = Seen()

    /// What the server's frames said, stream by stream and for the connection.
    struct Seen {
        struct Stream {
            var fields: [HPACKHeaderField] = []
            var data: [UInt8] = []
            var dataFrames = 0
            var ended = false
            var reset: HTTP2ErrorCode?
            var status: String? { fields.first { $0.nameString == ":status" }?.valueString }
        }
        var streams: [UInt32: Stream] = [:]
        var frameTypes: [HTTP2FrameType] = []
        var settingsAcked = false
        var pingAcks: [[UInt8]] = []
        var goAway: (lastStreamID: UInt32, code: HTTP2ErrorCode)?
        var closed = false
        /// A header block waiting for its CONTINUATION frames.
        var block: (streamID: UInt32, bytes: [UInt8], endStream: Bool)?
    }

    /// A GET for `path` as a client would send it.
    static func get(_ path: String) -> [HPACKHeaderField] {
        [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"), HPACKHeaderField(":authority", "localhost"),
         HPACKHeaderField(":path", path), HPACKHeaderField("user-agent", "httpkit-check")]
    }

    /// Connects, sends the preface and a SETTINGS frame with `settings`, reads the server's preface (a SETTINGS
    /// frame, §3.4) and acknowledges it. The error says what was wrong with the server's first bytes.
    static func open(_ target: CheckTarget, settings: [HTTP2Setting] = []) throws -> HTTP2CheckClient {
        var client = try openWithoutPreface(target)
        try client.send(HTTP2Connection.clientPreface + HTTP2Frame(streamID: 0, payload: .settings(settings)).encoded())
        guard let first = try client.next() else {
            throw CheckProblem("no frame within 3 s after our preface: the server's preface is a SETTINGS frame (§3.4). "
                               + "A server that speaks only HTTP/1.1 waits for a request line, or answers 400")
        }
        guard first.type == .settings, case .settings(_, ack: false) = first.payload else {
            throw CheckProblem("the server's first frame is \(first.type)\(first.type == .settings ? " ACK" : ""), not its own SETTINGS (§3.4)")
        }
        try client.send([HTTP2Frame(streamID: 0, payload: .settings([], ack: true))])
        return client
    }

    /// A connection that has sent nothing yet: for a check of what the server does with other first bytes.
    static func openWithoutPreface(_ target: CheckTarget) throws -> HTTP2CheckClient {
        let socket = try Socket.connect(host: target.host, port: target.port)
        try socket.setReceiveTimeout(seconds: 3)
        try socket.setSendTimeout(seconds: 3)
        return HTTP2CheckClient(socket: socket)
    }

    func send(_ bytes: [UInt8]) throws { try socket.writeAll(bytes) }
    func send(_ frames: [HTTP2Frame]) throws { try socket.writeAll(frames.flatMap { $0.encoded() }) }

    /// What came back, for the report: the server's frames, dumped as frames.
    var reception: Reception {
        var reception = Reception(bytes: raw, ending: seen.closed ? .closed : .open)
        reception.isHTTP = false
        reception.isHTTP2 = true
        return reception
    }

    /// Whether the server closed the connection within `seconds` (reads until EOF or the timeout).
    mutating func closes(within seconds: Double) -> Bool {
        try? socket.setReceiveTimeout(seconds: seconds)
        while true {
            guard let bytes = try? socket.read() else { return false }
            if bytes.isEmpty {
                seen.closed = true
                return true
            }
            raw += bytes
        }
    }

    func close() { socket.close() }

    /// HEADERS for `fields` on `streamID`.
    mutating func headers(_ streamID: UInt32, _ fields: [HPACKHeaderField], endStream: Bool = true) -> HTTP2Frame {
        HTTP2Frame(streamID: streamID, payload: .headers(fieldBlock: encoder.encode(fields)[...], endStream: endStream, endHeaders: true))
    }

    /// The next frame, or nil when the server closed or sent nothing for the receive timeout. A frame that does
    /// not parse is a problem with its reason.
    mutating func next() throws -> HTTP2Frame? {
        while true {
            do {
                if let frame = try parser.next() {
                    try record(frame)
                    return frame
                }
            } catch let error as HTTP2Error {
                throw CheckProblem("the server sent a frame that does not parse: \(error)")
            }
            guard let bytes = try socket.read() else { return nil }
            if bytes.isEmpty {
                seen.closed = true
                return nil
            }
            raw += bytes
            parser.append(bytes)
        }
    }

    /// Reads frames until `done` says so, the server closes, or it is quiet for the receive timeout.
    mutating func read(until done: (Seen) -> Bool) throws {
        while !done(seen) {
            guard try next() != nil else { return }
        }
    }

    /// Reads until nothing arrives for `seconds` (or the server closes).
    mutating func readQuietly(for seconds: Double) throws {
        try socket.setReceiveTimeout(seconds: seconds)
        defer { try? socket.setReceiveTimeout(seconds: 3) }
        while try next() != nil {}
    }

    private mutating func record(_ frame: HTTP2Frame) throws {
        seen.frameTypes.append(frame.type)
        let id = frame.streamID
        switch frame.payload {
        case .settings(_, let ack):
            if ack { seen.settingsAcked = true }
        case .ping(let data, let ack):
            if ack { seen.pingAcks.append(data) }
        case .goAway(let last, let code, _):
            seen.goAway = (last, code)
        case .rstStream(let code):
            seen.streams[id, default: Seen.Stream()].reset = code
        case .data(let data, let endStream, _):
            seen.streams[id, default: Seen.Stream()].data += data
            seen.streams[id, default: Seen.Stream()].dataFrames += 1
            if endStream { seen.streams[id, default: Seen.Stream()].ended = true }
        case .headers(let block, let endStream, let endHeaders, _, _):
            seen.block = (id, Array(block), endStream)
            if endHeaders { try endBlock() }
        case .continuation(let block, let endHeaders):
            seen.block?.bytes += block
            if endHeaders { try endBlock() }
        default:
            break
        }
    }

    private mutating func endBlock() throws {
        guard let block = seen.block else { return }
        seen.block = nil
        do {
            seen.streams[block.streamID, default: Seen.Stream()].fields += try decoder.decode(block.bytes)
        } catch {
            throw CheckProblem("the server's header block on stream \(block.streamID) does not decode: \(error) (RFC 7541)")
        }
        if block.endStream { seen.streams[block.streamID, default: Seen.Stream()].ended = true }
    }
}

extension CheckCatalog {
    /// How to watch the same exchange by hand: the REPL's HTTP/2 mode, which dumps every frame.
    static func reproduceHTTP2(_ target: CheckTarget, _ lines: String = "get /hello.txt") -> String {
        "printf ':h2\\n\(lines)\\n' | httpkit repl \(target.host):\(target.port)   (or: nghttp -nv http://\(target.host):\(target.port)/hello.txt)"
    }

    /// Runs `body` on a fresh HTTP/2 connection; a returned or thrown problem is a failure that shows the
    /// server's frames.
    static func withHTTP2(_ target: CheckTarget, settings: [HTTP2Setting] = [], expected: String, reproduce: String? = nil,
                          _ body: (inout HTTP2CheckClient) throws -> String?) -> CheckOutcome {
        let reproduce = reproduce ?? reproduceHTTP2(target)
        if target.tls {
            return .fail(expected: expected, got: Reception(), note: "the http2 checks speak h2c with prior knowledge: give the plain port (--target HOST:PORT)",
                         reproduce: reproduce)
        }
        var client: HTTP2CheckClient
        do {
            client = try HTTP2CheckClient.open(target, settings: settings)
        } catch let problem as CheckProblem {
            return .fail(expected: "the server's SETTINGS frame after our preface (RFC 9113 §3.4)", got: Reception(), note: problem.description, reproduce: reproduce)
        } catch {
            return .fail(expected: "a TCP connection", got: Reception(failure: error), note: "\(error)", reproduce: reproduce)
        }
        defer { client.close() }
        do {
            if let problem = try body(&client) {
                return .fail(expected: expected, got: client.reception, note: problem, reproduce: reproduce)
            }
            return .pass
        } catch {
            return .fail(expected: expected, got: client.reception, note: "\(error)", reproduce: reproduce)
        }
    }

    /// What a stream's answer was, for a failure's note.
    static func said(_ stream: HTTP2CheckClient.Seen.Stream?, _ seen: HTTP2CheckClient.Seen) -> String {
        if let code = stream?.reset { return "the stream was reset with RST_STREAM \(code)" }
        if let goAway = seen.goAway { return "the server sent GOAWAY \(goAway.code) (last stream \(goAway.lastStreamID))" }
        guard let stream else { return seen.closed ? "the server closed the connection without answering" : "no answer on the stream within 3 s" }
        return ":status \(stream.status ?? "missing"), \(stream.data.count) bytes of DATA, \(stream.ended ? "ended" : "not ended (no END_STREAM)")"
    }

    static let http2: [Check] = [
        Check(stage: .http2, name: "exchanges SETTINGS: its own first, then an ACK of ours (RFC 9113 §3.4, §6.5.3)", step: "The connection preface and SETTINGS",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then nothing",
              expects: "a SETTINGS frame first, then a SETTINGS frame with the ACK flag",
              hint: "after reading the 24-octet preface, send your SETTINGS (may be empty), and answer each SETTINGS you read with an empty SETTINGS with ACK (flags 0x1)") { target in
            withHTTP2(target, expected: "a SETTINGS frame, then a SETTINGS frame with the ACK flag") { client in
                try client.read { $0.settingsAcked }
                return client.seen.settingsAcked ? nil
                    : "no SETTINGS ACK within 3 s: each side must acknowledge the other's SETTINGS \"immediately upon receipt\" (§6.5.3)"
            }
        },
        Check(stage: .http2, name: "answers a first line that is neither the preface nor a request line with GOAWAY PROTOCOL_ERROR or a close (§3.4)",
              step: "The connection preface and SETTINGS",
              how: "INVALID CONNECTION PREFACE\\r\\n\\r\\n as the first bytes (h2spec's case 3.5/2)",
              expects: "GOAWAY with PROTOCOL_ERROR, or the connection closed; no HTTP/1.1 answer",
              hint: "a port that serves both protocols gives HTTP/1.1 only a first line that ends in HTTP/1.x; any other line is a broken HTTP/2 preface, a connection error PROTOCOL_ERROR") { target in
            let expected = "GOAWAY with PROTOCOL_ERROR, or the connection closed"
            let reproduce = "printf 'INVALID CONNECTION PREFACE\\r\\n\\r\\n' | nc \(target.host) \(target.port) | httpkit dump --h2 server"
            var client: HTTP2CheckClient
            do {
                client = try HTTP2CheckClient.openWithoutPreface(target)
            } catch {
                return .fail(expected: "a TCP connection", got: Reception(failure: error), note: "\(error)", reproduce: reproduce)
            }
            defer { client.close() }
            var failure: (any Error)?
            do {
                try client.send(Array("INVALID CONNECTION PREFACE\r\n\r\n".utf8))
                try client.read { $0.goAway != nil || $0.closed }
            } catch {
                failure = error
            }
            // An HTTP/1.1 answer is no frame: its "HTTP/1.1 " reads as the header of a 4,740,180-octet one.
            if client.raw.starts(with: Array("HTTP/".utf8)) {
                return .fail(expected: expected, got: Reception(bytes: client.raw, ending: client.seen.closed ? .closed : .open),
                             note: "the server answered in HTTP/1.1; a line without a version is no HTTP/1.x request, so on this port it is an invalid HTTP/2 preface (RFC 9113 §3.4)",
                             reproduce: reproduce)
            }
            // A server that closes with our bytes unread makes the kernel reset the connection: a close too.
            if let failure, (failure as? SystemError)?.errno != ECONNRESET {
                return .fail(expected: expected, got: client.reception, note: "\(failure)", reproduce: reproduce)
            }
            if failure != nil { client.seen.closed = true }
            if let goAway = client.seen.goAway {
                return goAway.code == .protocolError ? .pass
                    : .fail(expected: expected, got: client.reception, note: "GOAWAY \(goAway.code), not PROTOCOL_ERROR (§3.4)", reproduce: reproduce)
            }
            return client.seen.closed ? .pass
                : .fail(expected: expected, got: client.reception, note: "the connection stayed open for 3 s after a broken preface", reproduce: reproduce)
        },
        Check(stage: .http2, name: "answers a GET on stream 1 with HEADERS :status 200, then DATA ending the stream (§8.1)", step: "Streams: HEADERS and DATA",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then HEADERS on stream 1 (GET /hello.txt, HPACK-encoded, END_STREAM|END_HEADERS)",
              expects: "HEADERS with :status 200 on stream 1, then DATA frames, the last with END_STREAM",
              hint: "decode the header block with HPACK, answer with a HEADERS frame (:status first, names in lower case), then the body in DATA frames, END_STREAM on the last") { target in
            withHTTP2(target, expected: "HEADERS with :status 200 on stream 1, then DATA frames, the last with END_STREAM") { client in
                try client.send([client.headers(1, HTTP2CheckClient.get("/hello.txt"))])
                try client.read { $0.streams[1]?.ended == true || $0.streams[1]?.reset != nil || $0.goAway != nil }
                let stream = client.seen.streams[1]
                guard let stream, stream.status == "200", stream.ended, !stream.data.isEmpty else {
                    return said(stream, client.seen) + " (§8.1: a response is a HEADERS frame, then DATA; END_STREAM on the last frame ends it)"
                }
                if let length = stream.fields.first(where: { $0.nameString == "content-length" }).flatMap({ Int($0.valueString) }), length != stream.data.count {
                    return "content-length says \(length), the DATA frames carried \(stream.data.count) bytes (§8.1.1)"
                }
                if let upper = stream.fields.first(where: { $0.nameString != $0.nameString.lowercased() }) {
                    return "the field name '\(upper.nameString)' has upper-case letters: a malformed response (§8.2.1)"
                }
                return nil
            }
        },
        Check(stage: .http2, name: "serves two interleaved streams on one connection (§5)", step: "Streams: HEADERS and DATA",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then HEADERS on stream 1 without END_STREAM, HEADERS on stream 3, an empty DATA ending stream 1",
              expects: "stream 3 answered 'three' and stream 1 answered 'one', both ended",
              hint: "keep a table of open streams by id: a stream still waiting for its body must not hold back another that is complete") { target in
            withHTTP2(target, expected: "stream 3 answered 'three' and stream 1 answered 'one', both ended", reproduce: reproduceHTTP2(target, "get /echo/one\\nget /echo/three")) { client in
                // Stream 1 opens without END_STREAM, stream 3 comes and goes, then stream 1 ends with an empty DATA.
                try client.send([client.headers(1, HTTP2CheckClient.get("/echo/one"), endStream: false),
                                 client.headers(3, HTTP2CheckClient.get("/echo/three")),
                                 HTTP2Frame(streamID: 1, payload: .data([], endStream: true))])
                try client.read { seen in [1, 3].allSatisfy { seen.streams[$0]?.ended == true || seen.streams[$0]?.reset != nil } || seen.goAway != nil }
                for (id, body) in [(UInt32(3), "three"), (1, "one")] {
                    let stream = client.seen.streams[id]
                    guard let stream, stream.status == "200", stream.ended, String(decoding: stream.data, as: UTF8.self) == body else {
                        return "stream \(id): " + said(stream, client.seen) + "; expected '\(body)'. Streams are independent: one still open does not hold back another (§5)"
                    }
                }
                return nil
            }
        },
        Check(stage: .http2, name: "answers a PING with a PING ACK carrying the same 8 octets (§6.7)", step: "Connection frames: PING, unknown types, stream ids",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then PING with the 8 octets httpkit!",
              expects: "PING with the ACK flag and the same 8 octets",
              hint: "a PING on stream 0 is answered at once with a PING, flags ACK (0x1), carrying the same 8 octets") { target in
            withHTTP2(target, expected: "PING with the ACK flag and the data 'httpkit!'", reproduce: reproduceHTTP2(target, ":ping httpkit!")) { client in
                let data = Array("httpkit!".utf8)
                try client.send([HTTP2Frame(streamID: 0, payload: .ping(data))])
                try client.read { !$0.pingAcks.isEmpty || $0.goAway != nil }
                guard let echoed = client.seen.pingAcks.first else { return "no PING ACK within 3 s" }
                return echoed == data ? nil : "the PING ACK carries \(echoed.map { String($0, radix: 16) }.joined(separator: " ")), not the PING's data"
            }
        },
        Check(stage: .http2, name: "ignores a frame of an unknown type, and goes on (§4.1, §5.5)", step: "Connection frames: PING, unknown types, stream ids",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then frames of types 0xfa and 0xfb, then a GET on stream 1",
              expects: "no GOAWAY; the GET answered with 200",
              hint: "skip a frame whose type you do not know: read its length from the 9-octet header and drop that many octets") { target in
            withHTTP2(target, expected: "no GOAWAY; the GET after the unknown frame answered with 200",
                      reproduce: reproduceHTTP2(target, ":raw\\n\\x00\\x00\\x02\\xfa\\x00\\x00\\x00\\x00\\x00hi")) { client in
                try client.send(HTTP2Frame(streamID: 0, payload: .unknown(type: 0xFA, flags: 0xFF, payload: Array("hi".utf8))).encoded()
                                + HTTP2Frame(streamID: 1, payload: .unknown(type: 0xFB, flags: 0, payload: [])).encoded())
                try client.send([client.headers(1, HTTP2CheckClient.get("/hello.txt"))])
                try client.read { $0.streams[1]?.ended == true || $0.streams[1]?.reset != nil || $0.goAway != nil }
                if let goAway = client.seen.goAway {
                    return "GOAWAY \(goAway.code) after frames of types 0xfa and 0xfb: \"Implementations MUST ignore and discard frames of unknown types\" (§4.1)"
                }
                let stream = client.seen.streams[1]
                return stream?.status == "200" && stream?.ended == true ? nil : said(stream, client.seen)
            }
        },
        Check(stage: .http2, name: "answers HEADERS on an even stream id with GOAWAY PROTOCOL_ERROR (§5.1.1)", step: "Connection frames: PING, unknown types, stream ids",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then HEADERS on stream 2",
              expects: "GOAWAY with PROTOCOL_ERROR, then the connection closed",
              hint: "a client opens odd stream ids only: HEADERS on an even id is a connection error, GOAWAY PROTOCOL_ERROR (0x1) and close") { target in
            withHTTP2(target, expected: "GOAWAY with PROTOCOL_ERROR, then the connection closed",
                      reproduce: reproduceHTTP2(target, ":raw\\n\\x00\\x00\\x01\\x01\\x05\\x00\\x00\\x00\\x02\\x82")) { client in
                try client.send([client.headers(2, HTTP2CheckClient.get("/hello.txt"))])
                try client.read { $0.goAway != nil || $0.closed }
                guard let goAway = client.seen.goAway else {
                    if let stream = client.seen.streams[2] {
                        return "stream 2 was served (\(said(stream, client.seen))): even ids are the server's (push); a client's HEADERS on one is a connection error (§5.1.1)"
                    }
                    return client.seen.closed ? "the connection closed without a GOAWAY: say why first (§5.4.1)" : "no GOAWAY within 3 s"
                }
                guard goAway.code == .protocolError else { return "GOAWAY \(goAway.code), expected PROTOCOL_ERROR (§5.1.1)" }
                return client.closes(within: 3) ? nil : "the connection stayed open after GOAWAY: after a connection error the sender closes it (§5.4.1)"
            }
        },
        Check(stage: .http2, name: "respects flow control: with a 16-octet window it waits for WINDOW_UPDATE (§5.2, §6.9)", step: "Flow control and GOAWAY",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, SETTINGS_INITIAL_WINDOW_SIZE 16, a GET on stream 1, after 0.4 s a WINDOW_UPDATE of 1,048,576 on stream 1",
              expects: "at most 16 octets of DATA before the WINDOW_UPDATE, the rest after it, with END_STREAM",
              hint: "keep a send window per stream and for the connection; send DATA only while both are positive, and go on when WINDOW_UPDATE raises them") { target in
            withHTTP2(target, settings: [HTTP2Setting(.initialWindowSize, 16)],
                      expected: "at most 16 octets of DATA on stream 1, then the rest after our WINDOW_UPDATE, with END_STREAM") { client in
                // No need to wait for the ACK: the server reads our SETTINGS before the HEADERS that follow them.
                try client.send([client.headers(1, HTTP2CheckClient.get("/hello.txt"))])
                try client.readQuietly(for: 0.4)
                let before = client.seen.streams[1]
                guard let before, before.status == "200" else { return said(before, client.seen) }
                if before.data.count > 16 {
                    return "\(before.data.count) octets of DATA with a stream window of 16 (SETTINGS_INITIAL_WINDOW_SIZE): "
                        + "a sender must not send more than the window allows (§6.9.1)"
                }
                if before.ended { return before.data.isEmpty ? "an empty body: ask for /hello.txt from the bundled www/" : nil }
                try client.send([HTTP2Frame(streamID: 1, payload: .windowUpdate(increment: 1 << 20))])
                try client.read { $0.streams[1]?.ended == true || $0.streams[1]?.reset != nil || $0.goAway != nil }
                let after = client.seen.streams[1]
                guard let after, after.ended else {
                    return "after WINDOW_UPDATE +1048576 on stream 1: \(said(after, client.seen)) (§6.9: the update opens the window again)"
                }
                if let length = after.fields.first(where: { $0.nameString == "content-length" }).flatMap({ Int($0.valueString) }), length != after.data.count {
                    return "content-length says \(length), the DATA frames carried \(after.data.count) bytes"
                }
                return nil
            }
        },
        Check(stage: .http2, name: "after the client's GOAWAY, finishes the stream in flight and closes (§6.8)", step: "Flow control and GOAWAY",
              how: "the client preface PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n and its SETTINGS, then a GET on stream 1 and GOAWAY (last stream 0, NO_ERROR)",
              expects: "the response on stream 1, then the connection closed",
              hint: "GOAWAY stops new streams, not the open ones: finish them, then close the connection") { target in
            withHTTP2(target, expected: "the response on stream 1, then the connection closed", reproduce: reproduceHTTP2(target, "get /hello.txt\\n:goaway")) { client in
                try client.send([client.headers(1, HTTP2CheckClient.get("/hello.txt")),
                                 HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: 0, errorCode: .noError))])
                try client.read { $0.streams[1]?.ended == true || $0.streams[1]?.reset != nil || $0.closed }
                let stream = client.seen.streams[1]
                guard stream?.status == "200", stream?.ended == true else {
                    return said(stream, client.seen) + ": GOAWAY stops new streams, the ones already open are still answered (§6.8)"
                }
                return client.seen.closed || client.closes(within: 3) ? nil
                    : "the connection stayed open for 3 s with no streams left after both sides' GOAWAY"
            }
        },
    ]
}
