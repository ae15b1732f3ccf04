import Testing
import HTTPCore

/// What the server did with some bytes: the frames it wrote, the requests it handed out, whether it closed.
private struct Output {
    /// Everything the server sent, in order: frame bytes and the file octets of `.sendFile`.
    var wire: [UInt8] = []
    var frames: [HTTP2Frame] { HTTP2ConnectionTests_frames(wire) }
    /// Streams whose files the server let go (`.streamEnded`).
    var streamsEnded: [UInt32] = []
    var requests: [(UInt32, HTTPRequest)] = []
    var closed = false

    var types: [HTTP2FrameType] { frames.map(\.type) }
    /// The octets of DATA sent on `stream`.
    func data(on stream: UInt32) -> [UInt8] {
        frames.flatMap { frame -> [UInt8] in
            guard frame.streamID == stream, case .data(let bytes, _, _) = frame.payload else { return [] }
            return bytes
        }
    }
}

/// The frames in bytes the server wrote (whole frames, so a fresh parser reads them).
private func HTTP2ConnectionTests_frames(_ bytes: [UInt8]) -> [HTTP2Frame] {
    var parser = HTTP2FrameParser(maxFrameSize: 1 << 24 - 1)
    parser.append(bytes)
    var frames: [HTTP2Frame] = []
    while let frame = try! parser.next() { frames.append(frame) }
    #expect(parser.pendingBytes == 0)
    return frames
}

/// A client on the other end: encodes its requests with its own HPACK encoder, decodes the server's headers.
private struct Client {
    var server: HTTP2Connection
    /// The "disk" `.sendFile` reads from.
    var files: [String: [UInt8]] = [:]
    var encoder = HPACKEncoder()
    var decoder = HPACKDecoder()

    init(_ configuration: HTTP2Connection.Configuration = .init()) {
        server = HTTP2Connection(configuration: configuration)
    }

    /// Sends `bytes` in pieces of `chunk` octets (0: whole) and drains the server's actions after each piece.
    @discardableResult
    mutating func send(_ bytes: [UInt8], chunk: Int = 0) -> Output {
        var output = Output()
        let size = chunk == 0 ? max(bytes.count, 1) : chunk
        var offset = 0
        repeat {
            server.receive(bytes[offset..<min(offset + size, bytes.count)])
            drain(into: &output)
            offset += size
        } while offset < bytes.count
        return output
    }

    mutating func drain(into output: inout Output) {
        while let action = server.nextAction() {
            switch action {
            case .write(let bytes): output.wire += bytes
            case .writeShared(let piece): output.wire += piece
            case .sendFile(_, let path, let offset, let length): output.wire += files[path]![offset..<(offset + length)]
            case .streamEnded(let id): output.streamsEnded.append(id)
            case .request(let id, let request): output.requests.append((id, request))
            case .close: output.closed = true
            }
        }
    }

    mutating func respond(_ response: HTTPResponse, to stream: UInt32) -> Output {
        var output = Output()
        for action in server.respond(response, to: stream) {
            if case .write(let bytes) = action { output.wire += bytes }
        }
        drain(into: &output)
        return output
    }

    /// The preface, our SETTINGS, and the server's SETTINGS acknowledged.
    @discardableResult
    mutating func connect(_ settings: [HTTP2Setting] = []) -> Output {
        send(HTTP2Connection.clientPreface + frame(0, .settings(settings)))
    }

    mutating func headers(_ stream: UInt32, _ fields: [(String, String)], endStream: Bool = true) -> [UInt8] {
        let block = encoder.encode(fields.map { HPACKHeaderField($0.0, $0.1) })
        return frame(stream, .headers(fieldBlock: block[...], endStream: endStream, endHeaders: true))
    }

    mutating func get(_ stream: UInt32, _ path: String = "/") -> [UInt8] {
        headers(stream, [(":method", "GET"), (":scheme", "https"), (":authority", "example.com"), (":path", path)])
    }

    /// The response header fields in a HEADERS frame, decoded in order.
    mutating func fields(_ frame: HTTP2Frame) -> [String: String] {
        guard case .headers(let block, _, _, _, _) = frame.payload else { return [:] }
        var fields: [String: String] = [:]
        for field in try! decoder.decode(block) { fields[field.nameString] = field.valueString }
        return fields
    }
}

private func frame(_ stream: UInt32, _ payload: HTTP2FramePayload) -> [UInt8] {
    HTTP2Frame(streamID: stream, payload: payload).encoded()
}

/// The GOAWAY among `frames`, if any.
private func goAway(_ output: Output) -> (last: UInt32, code: HTTP2ErrorCode)? {
    for frame in output.frames {
        if case .goAway(let last, let code, _) = frame.payload { return (last, code) }
    }
    return nil
}

private func resets(_ output: Output) -> [(UInt32, HTTP2ErrorCode)] {
    output.frames.compactMap { frame in
        guard case .rstStream(let code) = frame.payload else { return nil }
        return (frame.streamID, code)
    }
}

private let ok = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain", "Connection": "keep-alive"],
                              body: .bytes(Array("hello".utf8)))

@Suite("HTTP2Connection: the server side of RFC 9113, on bytes")
struct HTTP2ConnectionTests {
    @Test("§3.4: our SETTINGS first; the client's preface and SETTINGS acknowledged")
    func preface() {
        var client = Client()
        let output = client.connect()
        #expect(output.types == [.settings, .settings])
        guard case .settings(let ours, false) = output.frames[0].payload else { Issue.record("no SETTINGS"); return }
        #expect(ours.contains(HTTP2Setting(.maxConcurrentStreams, 100)))
        #expect(output.frames[1].payload == .settings([], ack: true))
        #expect(!output.closed)
    }

    @Test("§3.4: an HTTP/1.1 request instead of the preface is a PROTOCOL_ERROR")
    func badPreface() {
        var client = Client()
        let output = client.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(goAway(output)! == (0, .protocolError))
        #expect(output.closed)
    }

    @Test("§3.4, §5.4.1: a wrong preface gets our SETTINGS, then GOAWAY saying what came instead, then the close",
          arguments: [
              ("GET / HTTP/1.1\r\nHost: x\r\n\r\n",
               "invalid connection preface: octet 0 differs (\"GET / HTTP/1.1\" where \"PRI * HTTP/2.0\" belongs); this connection speaks only HTTP/2 (RFC 9113 §3.4)"),
              // h2spec 3.5/2 (http2/3.5.2); a mixed port hands it here too, having no version (CleartextProtocolProbe).
              ("INVALID CONNECTION PREFACE\r\n\r\n",
               "invalid connection preface: octet 0 differs (\"INVALID CONNECTION PREFACE\" where \"PRI * HTTP/2.0\" belongs); this connection speaks only HTTP/2 (RFC 9113 §3.4)"),
              // The first line was right: only the octet is named.
              ("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n",
               "invalid connection preface: octet 18 differs; this connection speaks only HTTP/2 (RFC 9113 §3.4)"),
          ])
    func wrongPrefaceIsExplained(_ sent: String, _ debug: String) {
        var client = Client()
        let output = client.send(Array(sent.utf8))
        #expect(output.types == [.settings, .goAway])
        guard case .goAway(0, .protocolError, let data)? = output.frames.last?.payload else {
            Issue.record("no GOAWAY PROTOCOL_ERROR: \(output.frames)")
            return
        }
        #expect(String(decoding: data, as: UTF8.self) == debug)
        #expect(output.closed)
        #expect(client.send(Array("more".utf8)).wire.isEmpty, "nothing is read after the connection error")
    }

    @Test("§3.4: on a port that serves HTTP/1.1 too, the GOAWAY says what else the port takes")
    func wrongPrefaceOnAMixedPort() {
        var client = Client(.init(sharesPortWithHTTP1: true))
        let output = client.send(Array("INVALID CONNECTION PREFACE\r\n\r\n".utf8))
        guard case .goAway(0, .protocolError, let data)? = output.frames.last?.payload else {
            Issue.record("no GOAWAY PROTOCOL_ERROR: \(output.frames)")
            return
        }
        #expect(String(decoding: data, as: UTF8.self) == "invalid connection preface: octet 0 differs (\"INVALID CONNECTION PREFACE\" where \"PRI * HTTP/2.0\" belongs); this port takes the HTTP/2 preface or an HTTP/1.x request line (RFC 9113 §3.4)")
        #expect(output.closed)
    }

    @Test("§3.4: the preface followed by something other than SETTINGS is a PROTOCOL_ERROR")
    func prefaceWithoutSettings() {
        var client = Client()
        let output = client.send(HTTP2Connection.clientPreface + frame(0, .ping(Array(repeating: 1, count: 8))))
        #expect(goAway(output)?.code == .protocolError)
        #expect(output.closed)
    }

    @Test("A GET: the request from pseudo-headers, the response as HEADERS then DATA with END_STREAM")
    func get() {
        var client = Client()
        client.connect()
        let input = client.send(client.get(1, "/a?b=c"))
        #expect(input.requests.count == 1)
        let (id, request) = input.requests[0]
        #expect(id == 1)
        #expect(request.method == .get && request.target == "/a?b=c" && request.path == "/a")
        #expect(request.version == .http2)
        #expect(request.headers["Host"] == "example.com")

        let output = client.respond(ok, to: 1)
        #expect(output.types == [.headers, .data])
        guard case .headers(_, let endStream, let endHeaders, _, _) = output.frames[0].payload else { return }
        #expect(!endStream && endHeaders)
        let fields = client.fields(output.frames[0])
        #expect(fields[":status"] == "200")
        #expect(fields["content-type"] == "text/plain")
        #expect(fields["content-length"] == "5")
        #expect(fields["connection"] == nil, "§8.2.2: no connection-specific fields")
        #expect(output.frames[1] == HTTP2Frame(streamID: 1, payload: .data(Array("hello".utf8), endStream: true)))
        #expect(client.server.activeStreams == 0)
    }

    @Test("A 204 and a HEAD: HEADERS with END_STREAM, no DATA")
    func noBody() {
        var client = Client()
        client.connect()
        client.send(client.headers(1, [(":method", "HEAD"), (":scheme", "http"), (":path", "/")]))
        let output = client.respond(ok, to: 1)
        #expect(output.types == [.headers])
        guard case .headers(_, let endStream, _, _, _) = output.frames[0].payload else { return }
        #expect(endStream)
        #expect(client.fields(output.frames[0])["content-length"] == "5")
    }

    @Test("Two concurrent streams, answered in the opposite order")
    func concurrentStreams() {
        var client = Client()
        client.connect()
        let input = client.send(client.get(1, "/one") + client.get(3, "/two"))
        #expect(input.requests.map(\.0) == [1, 3])
        #expect(client.server.activeStreams == 2)
        let second = client.respond(.text(.ok, "two"), to: 3)
        let first = client.respond(.text(.ok, "one"), to: 1)
        #expect(second.data(on: 3) == Array("two".utf8))
        #expect(first.data(on: 1) == Array("one".utf8))
        #expect(client.fields(second.frames[0])[":status"] == "200")
        #expect(client.server.activeStreams == 0)
    }

    @Test("queueResponse: the same frames as respond, from nextAction, HEADERS before DATA")
    func queuedResponse() {
        var returned = Client(), queued = Client()
        returned.connect()
        queued.connect()
        for stream: UInt32 in [1, 3] {
            returned.send(returned.get(stream)); queued.send(queued.get(stream))
            let expected = returned.respond(ok, to: stream)
            queued.server.queueResponse(ok, to: stream)
            var output = Output()
            queued.drain(into: &output)
            #expect(output.wire == expected.wire)
            #expect(output.types == [.headers, .data])
        }
        #expect(queued.server.activeStreams == 0)
    }

    @Test("a request's fields go into the previous request's array once it is let go, and never into one still held")
    func requestFieldsReuseTheArray() {
        func storage(_ request: HTTPRequest) -> UnsafePointer<HeaderField>? {
            request.headers.fields.withUnsafeBufferPointer { $0.baseAddress }
        }
        var client = Client()
        client.connect()
        var first: HTTPRequest? = client.send(client.headers(1, [(":method", "GET"), (":scheme", "https"),
            (":authority", "example.com"), (":path", "/one"), ("accept", "*/*")])).requests.first?.1
        let firstStorage = first.flatMap(storage)
        _ = client.respond(ok, to: 1)
        // Held: the next request cannot write into that array, and the first keeps its fields.
        var second = client.send(client.get(3, "/two")).requests.first?.1
        #expect(second.flatMap(storage) != firstStorage)
        #expect(first?.headers["accept"] == "*/*" && first?.headers["Host"] == "example.com")
        #expect(second?.headers["accept"] == nil && second?.headers["Host"] == "example.com")
        first = nil
        _ = client.respond(ok, to: 3)
        // The second let go: the third request's fields go into its array, emptied first.
        let secondStorage = second.flatMap(storage)
        second = nil
        // An array of the same size made now would get that memory back from malloc if the connection had let
        // it go too: then the third request could not land at the same address by chance.
        var decoy: [HeaderField] = []
        decoy.reserveCapacity(8)
        let third = client.send(client.get(5, "/three")).requests.first?.1
        #expect(third.flatMap(storage) == secondStorage)
        #expect(decoy.withUnsafeBufferPointer { $0.baseAddress } != secondStorage)
        #expect(third?.target == "/three" && third?.headers.count == 1 && third?.headers["host"] == "example.com")
    }

    @Test("queueResponse with a spare array: asked for once per batch, its old octets never sent, the same frames")
    func queuedResponseIntoSpare() {
        var plain = Client(), reusing = Client()
        plain.connect()
        reusing.connect()
        var asked = 0
        for stream: UInt32 in [1, 3] {
            plain.send(plain.get(stream)); reusing.send(reusing.get(stream))
            let expected = plain.respond(ok, to: stream)
            reusing.server.queueResponse(ok, to: stream) {
                asked += 1
                return [UInt8](repeating: 0xEE, count: 300) // stale octets: must not reach the wire
            }
            var output = Output()
            reusing.drain(into: &output)
            #expect(output.wire == expected.wire)
        }
        #expect(asked == 2, "one spare for each batch begun")
        // Two answers queued before the loop drains: the second goes into the first's batch, no spare asked.
        plain.send(plain.get(5)); plain.send(plain.get(7))
        plain.server.queueResponse(ok, to: 5) { asked += 1; return [] }
        plain.server.queueResponse(ok, to: 7) { asked += 1; return [] }
        var both = Output()
        plain.drain(into: &both)
        #expect(asked == 3)
        #expect(both.types == [.headers, .data, .headers, .data])
    }

    @Test("RFC 7541 Appendix A: a :status the static table holds is its index, one octet; any other a literal")
    func statusCodes() {
        var client = Client()
        client.connect()
        let indexed = [200: 0x88, 204: 0x89, 206: 0x8A, 304: 0x8B, 400: 0x8C, 404: 0x8D, 500: 0x8E]
        for (offset, code) in [200, 204, 206, 304, 400, 404, 500, 302, 418].enumerated() {
            let stream = UInt32(2 * offset + 1)
            client.send(client.get(stream))
            let output = client.respond(HTTPResponse(status: HTTPStatus(code: code)), to: stream)
            guard case .headers(let block, _, _, _, _) = output.frames[0].payload else {
                Issue.record("no HEADERS for \(code)")
                continue
            }
            #expect(client.fields(output.frames[0])[":status"] == String(code))
            if let index = indexed[code] {
                #expect(block.first == UInt8(index))
            } else {
                #expect(block.first == 0x48) // literal with incremental indexing, name :status (8)
            }
        }
    }

    @Test("A POST body across DATA frames; each frame's octets given back with WINDOW_UPDATE")
    func postBody() {
        var client = Client()
        client.connect()
        let head = client.headers(1, [(":method", "POST"), (":scheme", "https"), (":path", "/upload"),
                                      ("content-length", "11")], endStream: false)
        var output = client.send(head + frame(1, .data(Array("hello ".utf8), endStream: false)))
        #expect(output.requests.isEmpty)
        #expect(output.frames.map { $0.payload } == [.windowUpdate(increment: 6), .windowUpdate(increment: 6)])
        #expect(Set(output.frames.map(\.streamID)) == [0, 1])
        output = client.send(frame(1, .data(Array("world".utf8), endStream: true, padding: 3)))
        #expect(output.requests.count == 1)
        #expect(output.requests.first?.1.body == Array("hello world".utf8))
        #expect(output.frames == [HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 9))], "padding counts (§6.1)")
    }

    @Test("§8.1.1: DATA that does not add up to content-length is a stream PROTOCOL_ERROR")
    func contentLengthMismatch() {
        var client = Client()
        client.connect()
        let head = client.headers(1, [(":method", "POST"), (":scheme", "https"), (":path", "/"),
                                      ("content-length", "3")], endStream: false)
        let output = client.send(head + frame(1, .data([1, 2], endStream: true)))
        #expect(output.requests.isEmpty)
        #expect(resets(output).map(\.1) == [.protocolError])
        // A request whole in its HEADERS (END_STREAM, no DATA at all) that announces a body.
        let whole = client.send(client.headers(3, [(":method", "POST"), (":scheme", "https"), (":path", "/"),
                                                   ("content-length", "3")], endStream: true))
        #expect(whole.requests.isEmpty)
        #expect(resets(whole).map(\.0) == [3] && resets(whole).map(\.1) == [.protocolError])
        let empty = client.send(client.headers(5, [(":method", "POST"), (":scheme", "https"), (":path", "/"),
                                                   ("content-length", "0")], endStream: true))
        #expect(empty.requests.map(\.0) == [5])
    }

    @Test("A body over the limit: a 413, then RST_STREAM NO_ERROR; the rest of the body is dropped")
    func bodyLimit() {
        var client = Client(.init(maxBodyBytes: 10))
        client.connect()
        let head = client.headers(1, [(":method", "POST"), (":scheme", "https"), (":path", "/")], endStream: false)
        var output = client.send(head + frame(1, .data(Array(repeating: 7, count: 11), endStream: false)))
        #expect(output.requests.isEmpty)
        let headers = output.frames.first { $0.type == .headers }!
        #expect(client.fields(headers)[":status"] == "413")
        #expect(resets(output).map(\.1) == [.noError])
        output = client.send(frame(1, .data([1], endStream: true)))
        #expect(output.requests.isEmpty && resets(output).isEmpty && !output.closed)
    }

    @Test("§6.9: 100 KB in a 65,535 window: exactly 65,535 octets, the rest once both windows grow")
    func flowControl() {
        var client = Client()
        client.connect()
        client.send(client.get(1))
        let body = (0..<102_400).map { UInt8(truncatingIfNeeded: $0) }
        var output = client.respond(HTTPResponse(status: .ok, body: .bytes(body)), to: 1)
        #expect(output.data(on: 1).count == 65_535)
        #expect(output.frames.filter { $0.type == .data }.allSatisfy { $0.payload.flowControlledLength <= 16_384 })
        #expect(!output.frames.contains { if case .data(_, true, _) = $0.payload { true } else { false } })

        output = client.send(frame(1, .windowUpdate(increment: 40_000)))
        #expect(output.frames.isEmpty, "the connection's window is still empty")
        output = client.send(frame(0, .windowUpdate(increment: 40_000)))
        #expect(output.data(on: 1) == Array(body[65_535...]))
        guard case .data(_, let endStream, _) = output.frames.last!.payload else { return }
        #expect(endStream)
        #expect(client.server.activeStreams == 0)
    }

    @Test("SETTINGS_MAX_FRAME_SIZE from the client sizes our DATA frames")
    func peerMaxFrameSize() {
        var client = Client()
        client.connect([HTTP2Setting(.maxFrameSize, 20_000), HTTP2Setting(.initialWindowSize, 100_000)])
        client.send(client.get(1))
        client.send(frame(0, .windowUpdate(increment: 100_000)))
        let output = client.respond(HTTPResponse(status: .ok, body: .bytes(Array(repeating: 1, count: 50_000))), to: 1)
        #expect(output.frames.filter { $0.type == .data }.map(\.payload.flowControlledLength) == [20_000, 20_000, 10_000])
    }

    @Test("§6.9.2: SETTINGS_INITIAL_WINDOW_SIZE changes the window of open streams")
    func initialWindowChange() {
        var client = Client()
        client.connect([HTTP2Setting(.initialWindowSize, 10)])
        client.send(client.get(1))
        var output = client.respond(HTTPResponse(status: .ok, body: .bytes(Array(repeating: 1, count: 100))), to: 1)
        #expect(output.data(on: 1).count == 10)
        output = client.send(frame(0, .settings([HTTP2Setting(.initialWindowSize, 50)])))
        #expect(output.frames.first?.payload == .settings([], ack: true))
        #expect(output.data(on: 1).count == 40)
        // Lowered below what was sent: the window goes negative, nothing more until it is positive again.
        output = client.send(frame(0, .settings([HTTP2Setting(.initialWindowSize, 0)])))
        #expect(output.data(on: 1).isEmpty)
        output = client.send(frame(1, .windowUpdate(increment: 60)))
        #expect(output.data(on: 1).count == 10)
    }

    @Test("§6.9.2: SETTINGS_INITIAL_WINDOW_SIZE taking a stream's window past 2^31-1 is a FLOW_CONTROL_ERROR")
    func initialWindowOverflow() {
        var client = Client()
        client.connect()
        client.send(client.get(1))
        client.send(frame(1, .windowUpdate(increment: 1_000)))
        let output = client.send(frame(0, .settings([HTTP2Setting(.initialWindowSize, HTTP2Setting.maxWindowSize)])))
        #expect(goAway(output)! == (1, .flowControlError))
        #expect(output.closed)
    }

    @Test("§6.9.1: WINDOW_UPDATE past 2^31-1: a connection error on stream 0, a stream error on a stream")
    func windowUpdateOverflow() {
        var client = Client()
        client.connect()
        client.send(client.get(1))
        var output = client.send(frame(1, .windowUpdate(increment: HTTP2Setting.maxWindowSize)))
        #expect(resets(output).map(\.1) == [.flowControlError])
        output = client.send(frame(0, .windowUpdate(increment: HTTP2Setting.maxWindowSize)))
        #expect(goAway(output)?.code == .flowControlError)
        #expect(output.closed)
    }

    @Test("§5.1.2: a stream over SETTINGS_MAX_CONCURRENT_STREAMS is refused with REFUSED_STREAM")
    func maxConcurrentStreams() {
        var client = Client(.init(maxConcurrentStreams: 1))
        client.connect()
        let output = client.send(client.get(1) + client.get(3))
        #expect(output.requests.map(\.0) == [1])
        #expect(resets(output).map(\.0) == [3] && resets(output).map(\.1) == [.refusedStream])
        _ = client.respond(ok, to: 1)
        #expect(client.send(client.get(5)).requests.map(\.0) == [5], "a slot is free again")
    }

    @Test("§5.1.1: an even stream ID from a client is a connection PROTOCOL_ERROR")
    func evenStreamID() {
        var client = Client()
        client.connect()
        let output = client.send(client.get(2))
        #expect(goAway(output)! == (0, .protocolError))
        #expect(output.closed && output.requests.isEmpty)
    }

    @Test("§5.1.1: a stream ID below one already used is a connection PROTOCOL_ERROR")
    func decreasingStreamID() {
        var client = Client()
        client.connect()
        let output = client.send(client.get(5) + client.get(3))
        #expect(output.requests.map(\.0) == [5])
        #expect(goAway(output)! == (5, .protocolError), "GOAWAY names the last stream processed")
        #expect(output.closed)
    }

    @Test("§6.10: a header block in HEADERS and CONTINUATION frames")
    func continuation() {
        var client = Client()
        client.connect()
        let block = client.encoder.encode([HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "https"),
                                           HPACKHeaderField(":path", "/split"), HPACKHeaderField("x-long", String(repeating: "a", count: 40))])
        let output = client.send(frame(1, .headers(fieldBlock: block[..<5], endStream: true, endHeaders: false))
                                 + frame(1, .continuation(fieldBlock: block[5..<20], endHeaders: false))
                                 + frame(1, .continuation(fieldBlock: block[20...], endHeaders: true)))
        #expect(output.requests.map(\.1.target) == ["/split"])
        #expect(output.requests.first?.1.headers["x-long"]?.count == 40)
    }

    @Test("§4.3: a response header block larger than SETTINGS_MAX_FRAME_SIZE goes out as HEADERS and CONTINUATION",
          arguments: [false, true])
    func largeResponseHeaders(withBody: Bool) throws {
        var client = Client()
        client.connect()
        client.send(client.get(1))
        // 40,000 'a's are 25,000 octets of Huffman: more than one 16,384-octet frame.
        let large = String(repeating: "a", count: 40_000)
        let response = HTTPResponse(status: withBody ? .ok : .noContent, headers: ["X-Large": large],
                                    body: withBody ? .bytes(Array("hi".utf8)) : .empty)
        let output = client.respond(response, to: 1)
        #expect(output.types == (withBody ? [.headers, .continuation, .data] : [.headers, .continuation]))
        guard case .headers(let first, let endStream, let firstEnds, _, _) = output.frames[0].payload,
              case .continuation(let rest, let restEnds) = output.frames[1].payload else {
            Issue.record("not HEADERS then CONTINUATION")
            return
        }
        #expect(first.count == 16_384 && !firstEnds && restEnds)
        #expect(endStream == !withBody) // END_STREAM is HEADERS' flag, even when CONTINUATIONs follow (§8.1)
        let fields = try client.decoder.decode(Array(first) + rest)
        #expect(fields.first == HPACKHeaderField(":status", withBody ? "200" : "204"))
        #expect(fields.contains(HPACKHeaderField("x-large", large)))
        if withBody { #expect(output.data(on: 1) == Array("hi".utf8)) }
    }

    @Test("§6.10: another frame inside a header block, a CONTINUATION for another stream or without HEADERS",
          arguments: [
              frame(0, .ping(Array(repeating: 0, count: 8))),
              frame(3, .continuation(fieldBlock: [0x82], endHeaders: true)),
              frame(1, .data([1], endStream: true)),
          ])
    func continuationRules(intruder: [UInt8]) {
        var client = Client()
        client.connect()
        let block = client.encoder.encode([HPACKHeaderField(":method", "GET"), HPACKHeaderField(":path", "/")])
        let output = client.send(frame(1, .headers(fieldBlock: block[...], endStream: true, endHeaders: false)) + intruder)
        #expect(goAway(output)?.code == .protocolError)
        #expect(output.closed)

        var alone = Client()
        alone.connect()
        let stray = alone.send(frame(1, .continuation(fieldBlock: [0x82], endHeaders: true)))
        #expect(goAway(stray)?.code == .protocolError)
    }

    @Test("§8.3.1, §8.2: a malformed request is a stream PROTOCOL_ERROR; the connection goes on",
          arguments: [
              [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("X-Upper", "1")],
              [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("connection", "keep-alive")],
              [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("transfer-encoding", "chunked")],
              [(":method", "GET"), (":scheme", "https"), (":path", "/"), ("te", "gzip")],
              [(":method", "GET"), (":scheme", "https")],
              [(":scheme", "https"), (":path", "/")],
              [(":method", "GET"), (":method", "GET"), (":scheme", "https"), (":path", "/")],
              [(":method", "GET"), (":scheme", "https"), ("accept", "*/*"), (":path", "/")],
              [(":method", "GET"), (":scheme", "https"), (":path", "/"), (":status", "200")],
              [(":method", "GET"), (":scheme", "https"), (":path", "")],
          ])
    func malformedRequest(fields: [(String, String)]) {
        var client = Client()
        client.connect()
        let output = client.send(client.headers(1, fields))
        #expect(output.requests.isEmpty)
        #expect(resets(output).map(\.0) == [1] && resets(output).map(\.1) == [.protocolError])
        #expect(!output.closed)
        #expect(client.send(client.get(3)).requests.map(\.0) == [3])
    }

    @Test("RFC 7541 §4.3: a malformed field does not stop the decoding; the fields after it still enter the table")
    func malformedFieldKeepsTableInStep() {
        var client = Client()
        client.connect()
        let bad = client.send(client.headers(1, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                                                 ("X-Upper", "1"), ("x-after", "kept")]))
        #expect(resets(bad).map(\.1) == [.protocolError])
        // The client's encoder indexed x-after in the first block; now it sends it as an index.
        let good = client.send(client.headers(3, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                                                  ("x-after", "kept")]))
        #expect(good.requests.first?.1.headers["X-After"] == "kept")
        #expect(!good.closed)
    }

    @Test("§8.2.1: a malformed field that entered the dynamic table is refused again when it is sent as an index")
    func malformedIndexedFieldRefusedAgain() {
        var client = Client()
        client.connect()
        for value in ["0123456789ab\ncdef", "a\u{0}b", "0123456789abcdef\r"] {
            // The client's encoder indexes the field the first time and sends its index after that: the
            // decoder checked it when it entered the table and must not take it as well-formed later.
            for _ in 0..<2 {
                let id = UInt32(client.server.streamsAccepted * 2 + 1)
                let output = client.send(client.headers(id, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                                                             ("x-bad", value)]))
                #expect(output.requests.isEmpty, "value \(value.debugDescription) on stream \(id)")
                #expect(resets(output).map(\.1) == [.protocolError])
            }
        }
        for name in ["X-Upper", "x y", "x\u{7f}"] {
            for _ in 0..<2 {
                let id = UInt32(client.server.streamsAccepted * 2 + 1)
                let output = client.send(client.headers(id, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                                                             (name, "1")]))
                #expect(output.requests.isEmpty, "name \(name.debugDescription) on stream \(id)")
            }
        }
        let id = UInt32(client.server.streamsAccepted * 2 + 1)
        let fine = client.send(client.headers(id, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                                                   ("x-fine", "a value longer than eight octets\tand a tab")]))
        #expect(fine.requests.first?.1.headers["X-Fine"] == "a value longer than eight octets\tand a tab")
    }

    @Test("§8.2.1's octet tests, one octet at every position of a long value and a name")
    func fieldRules() {
        let plain = Array("abcdefghijklmnopqrstu".utf8)
        let plainIsValid = HTTP2FieldRules.validValue(plain.span) // a Span cannot go into #expect's expansion
        #expect(plainIsValid)
        for position in plain.indices {
            for octet: UInt8 in [0x00, 0x0A, 0x0D] {
                var value = plain
                value[position] = octet
                let valid = HTTP2FieldRules.validValue(value.span)
                #expect(!valid, "0x\(String(octet, radix: 16)) at \(position)")
            }
            for octet: UInt8 in [0x09, 0x20, 0x0B, 0x0E, 0x7F, 0x80, 0xFF] { // allowed in a value
                var value = plain
                value[position] = octet
                let valid = HTTP2FieldRules.validValue(value.span)
                #expect(valid, "0x\(String(octet, radix: 16)) at \(position)")
            }
        }
        for octet in 0...255 {
            let forbidden = octet <= 0x20 || (0x41...0x5A).contains(octet) || octet >= 0x7F
            #expect(HTTP2FieldRules.forbiddenInName(UInt8(octet)) == forbidden, "0x\(String(octet, radix: 16))")
            let name = Array("x-name".utf8) + [UInt8(octet)] + Array("-end".utf8)
            let valid = HTTP2FieldRules.validName(name.span)
            #expect(valid == !forbidden)
        }
        let emptyName: [UInt8] = []
        let emptyNameIsWellFormed = HTTP2FieldRules.wellFormed(name: emptyName.span, value: plain.span)
        #expect(!emptyNameIsWellFormed)
    }

    @Test("A repeated response reuses its header block only while the HPACK table is the same")
    func repeatedHeaderBlock() {
        var client = Client()
        client.connect()
        let cached = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain", "ETag": "\"1\""], body: .bytes(Array("hi".utf8)))
        var blocks: [[UInt8]] = []
        for (index, date) in ["Mon, 01 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:00 GMT",
                              "Mon, 01 Jan 2024 00:00:00 GMT", "Mon, 01 Jan 2024 00:00:01 GMT",
                              "Mon, 01 Jan 2024 00:00:01 GMT"].enumerated() {
            let id = UInt32(index * 2 + 1)
            #expect(client.send(client.get(id)).requests.count == 1)
            client.server.queueResponse(cached, to: id, date: date)
            var output = Output()
            client.drain(into: &output)
            let headers = output.frames.filter { $0.type == .headers }
            guard case .headers(let block, _, _, _, _)? = headers.first?.payload else { Issue.record("no HEADERS"); return }
            blocks.append(Array(block))
            let fields = client.fields(headers[0])
            #expect(fields["date"] == date && fields["etag"] == "\"1\"" && fields["content-length"] == "2")
            #expect(output.data(on: id) == Array("hi".utf8))
        }
        // The first block adds its fields to the table; the second is all indexes; the third repeats it; the
        // fourth has a new date (added to the table), and the fifth is all indexes again.
        #expect(blocks[1] != blocks[0] && blocks[2] == blocks[1] && blocks[3] != blocks[2] && blocks[4] != blocks[3])
        #expect(blocks[1].count < blocks[0].count && blocks[4].count <= blocks[1].count)
    }

    @Test("Requests on one connection: Strings reused where the octets repeat, made anew where they differ")
    func repeatedFieldStrings() {
        var client = Client()
        client.connect()
        let ua = ("user-agent", "a client with a name longer than fifteen octets")
        var requests: [HTTPRequest] = []
        for (id, path, host) in [(UInt32(1), "/a", "one.example"), (3, "/a", "one.example"), (5, "/b", "two.example")] {
            let input = client.send(client.headers(id, [(":method", "GET"), (":scheme", "https"), (":authority", host),
                                                        (":path", path), ua]))
            requests += input.requests.map(\.1)
        }
        let other = client.send(client.headers(7, [(":method", "POST"), (":scheme", "https"), (":path", "/c"),
                                                   ("accept", "*/*")], endStream: true))
        requests += other.requests.map(\.1)
        #expect(requests.map(\.target) == ["/a", "/a", "/b", "/c"])
        #expect(requests.map { $0.headers["Host"] } == ["one.example", "one.example", "two.example", nil])
        #expect(requests.map { $0.headers["User-Agent"] } == [ua.1, ua.1, ua.1, nil])
        #expect(requests[3].method == .post && requests[3].headers["Accept"] == "*/*")
    }

    @Test("§8.2.3: cookie crumbs are joined with \"; \"")
    func cookies() {
        var client = Client()
        client.connect()
        let output = client.send(client.headers(1, [(":method", "GET"), (":scheme", "https"), (":path", "/"),
                                                    ("cookie", "a=1"), ("cookie", "b=2")]))
        #expect(output.requests.first?.1.headers["Cookie"] == "a=1; b=2")
    }

    @Test("§6.7: PING is answered with the same eight octets and ACK; a PING ACK is not answered")
    func ping() {
        var client = Client()
        client.connect()
        let data: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(client.send(frame(0, .ping(data))).frames == [HTTP2Frame(streamID: 0, payload: .ping(data, ack: true))])
        #expect(client.send(frame(0, .ping(data, ack: true))).frames.isEmpty)
    }

    @Test("§6.4: RST_STREAM from the client drops the stream's held output")
    func clientReset() {
        var client = Client()
        client.connect()
        client.send(client.get(1) + client.get(3))
        _ = client.respond(HTTPResponse(status: .ok, body: .bytes(Array(repeating: 1, count: 100_000))), to: 1)
        var output = client.send(frame(1, .rstStream(.cancel)))
        #expect(output.frames.isEmpty)
        output = client.send(frame(0, .windowUpdate(increment: 100_000)))
        #expect(output.data(on: 1).isEmpty)
        #expect(client.respond(ok, to: 1).frames.isEmpty, "an answer to a cancelled stream is dropped")
        #expect(client.respond(ok, to: 3).data(on: 3) == Array("hello".utf8))
        // Frames still in flight for the reset stream are ignored.
        output = client.send(frame(1, .windowUpdate(increment: 1)))
        #expect(output.frames.isEmpty && !output.closed)
    }

    @Test("§5.1 closed: DATA or HEADERS after the client's own RST_STREAM is a stream error STREAM_CLOSED (h2spec 5.1 8, 9)")
    func framesAfterTheClientsReset() {
        var client = Client()
        client.connect()
        client.send(client.headers(1, [(":method", "POST"), (":scheme", "http"), (":authority", "x"), (":path", "/")], endStream: false))
        _ = client.send(frame(1, .rstStream(.cancel)))
        #expect(resets(client.send(frame(1, .data([1], endStream: true)))).map(\.1) == [.streamClosed])
        var again = Client()
        again.connect()
        again.send(again.headers(1, [(":method", "POST"), (":scheme", "http"), (":authority", "x"), (":path", "/")], endStream: false))
        _ = again.send(frame(1, .rstStream(.cancel)))
        #expect(resets(again.send(again.get(1))).map(\.1) == [.streamClosed])
    }

    @Test("Rapid reset (CVE-2023-44487): a client that opens and resets streams in a loop gets GOAWAY ENHANCE_YOUR_CALM")
    func rapidReset() {
        var client = Client()
        client.connect()
        var last = Output()
        var stream: UInt32 = 1
        for _ in 0..<200 where !last.closed {
            client.send(client.get(stream))
            last = client.send(frame(stream, .rstStream(.cancel)))
            stream += 2
        }
        #expect(goAway(last)?.code == .enhanceYourCalm)
        #expect(last.closed)
        #expect(stream < 2 * 110, "cut off soon after the allowance of 100 resets")
    }

    @Test("§5.3.1: a stream that depends on itself is a stream error PROTOCOL_ERROR (h2spec 5.3.1)")
    func selfDependency() {
        var client = Client()
        client.connect()
        let output = client.send(frame(3, .priority(HTTP2Priority(dependency: 3))))
        #expect(resets(output).map(\.1) == [.protocolError])
        #expect(!output.closed)
    }

    @Test("§5.1: DATA on an idle stream is a connection error, on a closed stream a stream error STREAM_CLOSED")
    func dataOnWrongStream() {
        var client = Client()
        client.connect()
        client.send(client.get(1))
        var output = client.send(frame(1, .data([1], endStream: false)))
        #expect(resets(output).map(\.1) == [.streamClosed])
        output = client.send(frame(7, .data([1], endStream: false)))
        #expect(goAway(output)?.code == .protocolError)
        #expect(output.closed)
    }

    /// After a GOAWAY naming stream 1: a new stream is ignored, stream 1 is still answered, then `.close`.
    private func expectStreamOneFinishesThenTheClose(_ client: inout Client) {
        var output = client.send(client.get(3))
        #expect(output.requests.isEmpty, "a stream after GOAWAY is ignored")
        output = client.respond(ok, to: 1)
        #expect(output.types == [.headers, .data])
        #expect(output.closed)
    }

    @Test("§6.8: stopAccepting sends GOAWAY; the stream in flight is still answered, then the connection closes")
    func gracefulShutdown() {
        var client = Client()
        client.connect()
        client.send(client.get(1))
        client.server.stopAccepting()
        var output = Output()
        client.drain(into: &output)
        #expect(goAway(output)! == (1, .noError))
        #expect(!output.closed)
        expectStreamOneFinishesThenTheClose(&client)
    }

    @Test("§6.8: a connection that begins during a shutdown is answered what it came with, then hears GOAWAY naming it")
    func shutdownBeforeTheFirstFrames() {
        // The driver saw the stop before these bytes were parsed: stopAccepting now would name stream 0 and
        // ignore the request that came with the preface; after what arrived, it names stream 1.
        var client = Client()
        let first = client.get(1)
        client.server.receive(HTTP2Connection.clientPreface + frame(0, .settings([])) + first)
        client.server.stopAcceptingAfterWhatArrived()
        var output = Output()
        client.drain(into: &output)
        #expect(output.requests.map(\.0) == [1], "the request that came with the preface")
        #expect(goAway(output)! == (1, .noError), "after it was parsed")
        #expect(!output.closed)
        expectStreamOneFinishesThenTheClose(&client)
        // A preface cut short: the GOAWAY waits for the frames, then names the last stream that came.
        var cut = Client()
        let bytes = HTTP2Connection.clientPreface + frame(0, .settings([])) + cut.get(1)
        cut.server.receive(bytes.prefix(10))
        cut.server.stopAcceptingAfterWhatArrived()
        output = Output()
        cut.drain(into: &output)
        #expect(goAway(output) == nil, "nothing parsed yet")
        output = cut.send(Array(bytes.dropFirst(10)))
        #expect(output.requests.map(\.0) == [1])
        #expect(goAway(output)! == (1, .noError))
    }

    @Test("PUSH_PROMISE from a client is a PROTOCOL_ERROR; unknown frames and PRIORITY are ignored")
    func ignoredAndForbidden() {
        var client = Client()
        client.connect()
        var output = client.send(frame(1, .unknown(type: 0xEE, flags: 0xFF, payload: [1, 2, 3]))
                                 + frame(9, .priority(HTTP2Priority(dependency: 1))))
        #expect(output.frames.isEmpty && !output.closed)
        output = client.send(frame(1, .pushPromise(promisedStreamID: 2, fieldBlock: [0x82], endHeaders: true)))
        #expect(goAway(output)?.code == .protocolError)
    }

    @Test("A file body leaves as sendFile actions behind DATA headers, as far as the windows allow, then on WINDOW_UPDATE")
    func fileBody() {
        var client = Client()
        let file = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        client.files["/big"] = file
        client.connect()
        client.send(client.get(1))
        var output = client.respond(HTTPResponse(status: .ok, body: .file(path: "/big", length: file.count)), to: 1)
        #expect(client.fields(output.frames[0])["content-length"] == "200000")
        #expect(output.data(on: 1).count == 65_535, "the stream's and the connection's initial window")
        #expect(output.frames.allSatisfy { frame in
            if case .data(let bytes, _, _) = frame.payload { return bytes.count <= 16_384 } else { return true }
        })
        var received = output.data(on: 1)
        output = client.send(frame(0, .windowUpdate(increment: 1_000_000)) + frame(1, .windowUpdate(increment: 1_000_000)))
        received += output.data(on: 1)
        #expect(received == file, "every octet, in order")
        guard case .data(_, let endStream, _)? = output.frames.last?.payload else { Issue.record("no DATA"); return }
        #expect(endStream)
        #expect(output.streamsEnded == [1], "the driver may let the file go")
    }

    @Test("Parts of bytes and file ranges are sent in order; a streamed body is a 500 (its length is unknown)")
    func partsAndStreams() {
        var client = Client()
        client.files["/f"] = Array("0123456789".utf8)
        client.connect()
        client.send(client.get(1) + client.get(3))
        let parts = ResponseBody.parts([.bytes(Array("<".utf8)), .file(path: "/f", offset: 2, length: 3), .bytes(Array(">".utf8))])
        let output = client.respond(HTTPResponse(status: .ok, body: parts), to: 1)
        #expect(output.data(on: 1) == Array("<234>".utf8))
        let never = StreamedBody("never opened by the machine") { fatalError("opened") }
        let streamed = client.respond(HTTPResponse(status: .ok, body: .stream(never)), to: 3)
        #expect(client.fields(streamed.frames[0])[":status"] == "500")
    }

    @Test("Two big bodies share the connection one frame each in turn (round-robin)")
    func roundRobin() {
        var client = Client()
        client.files["/a"] = Array(repeating: 1, count: 40_000)
        client.files["/b"] = Array(repeating: 2, count: 40_000)
        client.connect()
        client.send(client.get(1) + client.get(3))
        var output = Output()
        for action in client.server.respond(HTTPResponse(status: .ok, body: .file(path: "/a", length: 40_000)), to: 1)
            + client.server.respond(HTTPResponse(status: .ok, body: .file(path: "/b", length: 40_000)), to: 3) {
            if case .write(let bytes) = action { output.wire += bytes }
        }
        client.drain(into: &output)
        let order = output.frames.filter { $0.type == .data }.map(\.streamID)
        #expect(order.starts(with: [1, 1, 3, 1, 3]) || order.starts(with: [1, 3, 1, 3]), "\(order)")
        #expect(output.data(on: 1).count + output.data(on: 3).count == 65_535, "the connection's window is shared")
    }

    @Test("A stream whose window is shut waits; the others on the connection go on (a slow reader blocks only its stream)")
    func shutWindowBlocksOnlyItsStream() {
        var client = Client()
        client.files["/a"] = Array(repeating: 1, count: 5_000)
        client.files["/b"] = Array(repeating: 2, count: 5_000)
        client.connect([HTTP2Setting(.initialWindowSize, 0)]) // every stream starts with no credit
        client.send(client.get(1) + client.get(3))
        var output = Output()
        for action in client.server.respond(HTTPResponse(status: .ok, body: .file(path: "/a", length: 5_000)), to: 1)
            + client.server.respond(HTTPResponse(status: .ok, body: .file(path: "/b", length: 5_000)), to: 3) {
            if case .write(let bytes) = action { output.wire += bytes }
        }
        client.drain(into: &output)
        #expect(output.data(on: 1).isEmpty && output.data(on: 3).isEmpty, "HEADERS only: no credit yet")
        output = client.send(frame(3, .windowUpdate(increment: 5_000)))
        #expect(output.data(on: 3).count == 5_000 && output.data(on: 1).isEmpty, "stream 3 completes, stream 1 still waits")
        output = client.send(frame(1, .windowUpdate(increment: 100)))
        #expect(output.data(on: 1).count == 100, "then stream 1, exactly as far as its window")
    }

    @Test("h2c (RFC 7540 §3.2): HTTP2-Settings is read only from a request that asks exactly as §3.2 says")
    func h2cSettings() {
        func request(_ headers: [(String, String)], body: [UInt8] = [], version: HTTPVersion = .http1_1) -> HTTPRequest {
            var fields = HTTPHeaders()
            for (name, value) in headers { fields.add(name, value) }
            return HTTPRequest(method: .get, target: "/", version: version, headers: fields, body: body)
        }
        let curl = [("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"), ("HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA")]
        #expect(H2CUpgrade.settings(in: request(curl)) == [HTTP2Setting(.maxConcurrentStreams, 100),
                                                          HTTP2Setting(.initialWindowSize, 33_554_432),
                                                          HTTP2Setting(.enablePush, 0)])
        #expect(H2CUpgrade.settings(in: request([("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"), ("HTTP2-Settings", "")])) == [])
        #expect(H2CUpgrade.settings(in: request(Array(curl.dropFirst()))) == nil, "Connection must name Upgrade and HTTP2-Settings")
        #expect(H2CUpgrade.settings(in: request([("Connection", "Upgrade")] + curl.dropFirst())) == nil)
        #expect(H2CUpgrade.settings(in: request(curl + [("HTTP2-Settings", "")])) == nil, "exactly one HTTP2-Settings")
        #expect(H2CUpgrade.settings(in: request([curl[0], curl[1], ("HTTP2-Settings", "AAMAAABk+A")])) == nil, "base64url only")
        #expect(H2CUpgrade.settings(in: request([curl[0], curl[1], ("HTTP2-Settings", "AAMAAA")])) == nil, "6 octets per setting")
        #expect(H2CUpgrade.settings(in: request([curl[0], curl[1], ("HTTP2-Settings", "AAIAAAAC")])) == nil, "ENABLE_PUSH = 2 is invalid")
        #expect(H2CUpgrade.settings(in: request(curl, body: [1])) == nil, "a request with a body stays HTTP/1.1")
        #expect(H2CUpgrade.settings(in: request(curl, version: .http1_0)) == nil)
    }

    @Test("h2c: the upgraded request is stream 1, answered before the client's preface arrives")
    func h2cStreamOne() {
        let request = HTTPRequest(method: .get, target: "/hello", headers: ["Host": "x"])
        var client = Client()
        client.server = HTTP2Connection(upgrading: request, settings: [HTTP2Setting(.maxFrameSize, 20_000)])
        var output = Output()
        client.drain(into: &output)
        #expect(output.types == [.settings], "our SETTINGS first (§3.5); theirs came in HTTP2-Settings, acknowledged by the 101")
        #expect(output.requests.map(\.0) == [1] && output.requests.first?.1.target == "/hello")
        #expect(output.requests.first?.1.version == .http2)
        let answer = client.respond(HTTPResponse(status: .ok, body: .bytes(Array(repeating: 7, count: 18_000))), to: 1)
        #expect(answer.frames.filter { $0.type == .data }.count == 1, "one 18,000-octet DATA frame: the client's max frame size applied")
        output = client.connect()
        #expect(output.types == [.settings] && goAway(output) == nil, "the preface, then only the ACK of its SETTINGS")
        output = client.send(client.get(3))
        #expect(output.requests.map(\.0) == [3])
    }

    @Test("--max-requests: after that many streams, GOAWAY NO_ERROR names the last; later streams are ignored")
    func maxRequests() {
        var client = Client(.init(maxRequests: 2))
        client.connect()
        var output = client.send(client.get(1))
        #expect(goAway(output) == nil)
        output = client.send(client.get(3))
        #expect(goAway(output).map { [$0.last] } == [3] && goAway(output)?.code == .noError)
        #expect(output.requests.map(\.0) == [3])
        output = client.send(client.get(5))
        #expect(output.requests.isEmpty)
        output = client.respond(ok, to: 1)
        #expect(!output.closed)
        output = client.respond(ok, to: 3)
        #expect(output.closed, "the connection ends once streams 1 and 3 are answered")
    }

    @Test("PING and SETTINGS floods (CVE-2019-9512, -9515): 10,000 without a request end it with ENHANCE_YOUR_CALM")
    func floods() {
        var client = Client()
        client.connect()
        let ping = frame(0, .ping([1, 2, 3, 4, 5, 6, 7, 8]))
        var output = client.send(Array([[UInt8]](repeating: ping, count: 6_000).joined()))
        #expect(goAway(output) == nil)
        output = client.send(client.get(1) + Array([[UInt8]](repeating: frame(0, .settings([])), count: 6_000).joined()))
        #expect(goAway(output) == nil, "a request in between: a client at work, not a flood")
        output = client.send(Array([[UInt8]](repeating: ping, count: 4_001).joined()))
        #expect(goAway(output)?.code == .enhanceYourCalm)
        #expect(output.closed)
    }

    @Test("Closed streams are remembered for a while, not for ever: 5,000 malformed requests leave at most 1,000")
    func rememberedStreamsAreBounded() {
        var client = Client()
        client.connect()
        var stream: UInt32 = 1
        for _ in 0..<5_000 {
            // An upper-case name is malformed (§8.2.1): a stream error, RST_STREAM, the connection lives on.
            let output = client.send(client.headers(stream, [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("X-Bad", "1")]))
            #expect(output.frames.first?.type == .rstStream)
            stream += 2
        }
        #expect(client.server.rememberedCounts.reset <= HTTP2Connection.rememberedStreams)
        let output = client.send(client.get(stream))
        #expect(output.requests.map(\.0) == [stream], "still serving")
    }

    @Test("shutDown(reason:) (the idle timeout) says GOAWAY NO_ERROR with the reason, then closes")
    func idleShutdown() {
        var client = Client()
        client.connect()
        client.server.shutDown(reason: "idle for 5 s")
        var output = Output()
        client.drain(into: &output)
        guard case .goAway(_, let code, let debug)? = output.frames.last?.payload else { Issue.record("no GOAWAY"); return }
        #expect(code == .noError && String(decoding: debug, as: UTF8.self) == "idle for 5 s")
        #expect(output.closed)
    }

    @Test("Fed one octet at a time, the server does exactly the same")
    func byteByByte() {
        func script(chunk: Int) -> (Output, Output) {
            var client = Client()
            var bytes = HTTP2Connection.clientPreface + frame(0, .settings([HTTP2Setting(.initialWindowSize, 1000)]))
            bytes += client.get(1) + frame(0, .ping([0, 1, 2, 3, 4, 5, 6, 7]))
            bytes += client.headers(3, [(":method", "POST"), (":scheme", "https"), (":path", "/p")], endStream: false)
            bytes += frame(3, .data(Array(repeating: 9, count: 300), endStream: false))
            bytes += frame(3, .data(Array(repeating: 8, count: 20), endStream: true, padding: 4))
            let first = client.send(bytes, chunk: chunk)
            var second = client.respond(HTTPResponse(status: .ok, body: .bytes(Array(repeating: 1, count: 3000))), to: 1)
            let more = client.send(frame(1, .windowUpdate(increment: 5000)) + frame(2, .data([], endStream: true)), chunk: chunk)
            second.wire += more.wire
            second.closed = more.closed
            return (first, second)
        }
        let (whole1, whole2) = script(chunk: 0)
        let (bytes1, bytes2) = script(chunk: 1)
        #expect(whole1.frames == bytes1.frames)
        #expect(whole1.requests.map(\.0) == bytes1.requests.map(\.0) && whole1.requests.map(\.1) == bytes1.requests.map(\.1))
        #expect(whole1.requests.map(\.0) == [1, 3])
        #expect(whole2.frames == bytes2.frames && whole2.closed == bytes2.closed)
        #expect(whole2.data(on: 1).count == 3000)
        #expect(goAway(whole2)?.code == .protocolError, "the DATA on idle stream 2 ends it the same way")
    }
}
