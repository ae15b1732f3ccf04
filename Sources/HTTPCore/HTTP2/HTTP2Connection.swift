/// The server side of one HTTP/2 connection (RFC 9113), as a machine without I/O, like `HTTP1Connection`
/// (h11's design, nghttp2's `nghttp2_session`). The driver feeds it bytes and does what it says:
///
///     connection.receive(bytesFromTheTransport)
///     while let action = connection.nextAction() {
///         switch action {
///         case .request(let streamID, let request):
///             for output in connection.respond(handler(request), to: streamID) { perform(output) }
///         case .write(let bytes): send(bytes)
///         case .close: close the transport once everything before has been sent
///         }
///     }
///
/// Many requests are in flight at once, one per stream, and may be answered in any order. The machine owns
/// every rule of the protocol and is tested on bytes alone:
/// - the connection preface (§3.4): the client's 24 octets and SETTINGS, our SETTINGS first;
/// - stream states (§5.1) and identifiers (§5.1.1: odd, increasing), the concurrency limit (§5.1.2);
/// - header blocks (§4.3): HEADERS then CONTINUATIONs with nothing in between, decoded in order by one HPACK
///   decoder, then checked as a request (§8.3.1);
/// - flow control (§5.2, §6.9) in both directions: DATA we cannot send yet waits per stream for WINDOW_UPDATE;
/// - errors (§5.4): a stream error resets one stream (RST_STREAM), a connection error ends all (GOAWAY, close);
/// - shutdown (§6.8): `stopAccepting()` sends GOAWAY and lets the streams in flight finish.
///
/// Response bodies are `.bytes` (or `.parts` of bytes). A `.file` or `.stream` body is not sent: the driver
/// must read a file into bytes for now; the answer is a 500 that says so.
public struct HTTP2Connection: Sendable {
    /// What this server advertises and accepts.
    public struct Configuration: Sendable, Hashable {
        /// SETTINGS_MAX_CONCURRENT_STREAMS: more open streams are refused with REFUSED_STREAM (§5.1.2).
        public var maxConcurrentStreams: Int
        /// SETTINGS_MAX_HEADER_LIST_SIZE: a larger header list is a COMPRESSION_ERROR (HPACK stops decoding).
        public var maxHeaderListSize: Int
        /// The largest request body; beyond it the stream is answered with 413 and reset.
        public var maxBodyBytes: Int

        public init(maxConcurrentStreams: Int = 100, maxHeaderListSize: Int = 32 * 1024,
                    maxBodyBytes: Int = 64 * 1024 * 1024) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.maxHeaderListSize = maxHeaderListSize
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public enum Action: Sendable, Hashable {
        /// A whole request on `streamID`, body included: answer it with `respond(_:to:)`, now or later.
        case request(streamID: UInt32, HTTPRequest)
        /// Frames to send as they are.
        case write([UInt8])
        /// Close the transport once everything before this has been sent.
        case close
    }

    /// The client's connection preface (§3.4), before its first SETTINGS frame.
    public static let clientPreface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// The window every stream and the connection start with (§6.9.2), and that we keep.
    static let defaultWindow = 65_535
    /// The largest frame payload we accept: the initial SETTINGS_MAX_FRAME_SIZE, never raised.
    static let ourMaxFrameSize = 16_384

    private enum Phase: Sendable, Hashable {
        /// Reading the 24 octets of the preface.
        case preface
        /// The preface was right; the next frame must be the client's SETTINGS.
        case settings
        case open
        /// A connection error or the end of a graceful shutdown: nothing more is read or sent.
        case closed
    }

    public let configuration: Configuration
    private var phase = Phase.preface
    private var prefaceReceived = 0
    private var parser = HTTP2FrameParser(maxFrameSize: ourMaxFrameSize)
    private var decoder: HPACKDecoder
    private var encoder = HPACKEncoder()
    /// Actions waiting for `nextAction`, oldest first.
    private var outbox: [Action] = []

    /// The streams that are open or half-closed; a stream leaves as soon as it is closed.
    private var streams: [UInt32: HTTP2Stream] = [:]
    /// The highest stream ID the client has used (§5.1.1: a new one must be above it).
    private var highestStreamID: UInt32 = 0
    /// Streams the client opened and streams it reset itself: a client that resets most of what it opens,
    /// many times over, is the "rapid reset" attack (CVE-2023-44487) — each stream costs the server work,
    /// the reset costs the client nothing and frees its concurrency slot at once.
    private var streamsOpened = 0
    private var streamsResetByPeer = 0
    /// Resets tolerated before the ratio is looked at.
    static let resetAllowance = 100
    /// The highest stream ID we accepted and acted on: GOAWAY's Last-Stream-ID (§6.8).
    private var lastProcessedStreamID: UInt32 = 0
    /// Streams we reset: frames still in flight for them are ignored, not errors (§5.4.2, §6.4).
    /// Never pruned: a long connection keeps one number per reset stream.
    private var resetStreams: Set<UInt32> = []
    /// Streams the client reset: any frame but PRIORITY on them is a stream error STREAM_CLOSED (§5.1, "closed").
    private var closedByPeer: Set<UInt32> = []
    /// The header block being assembled: HEADERS without END_HEADERS, then CONTINUATIONs (§6.10).
    private var headerBlock: (streamID: UInt32, fragments: [UInt8], endStream: Bool)?

    /// The peer's settings that shape what we send.
    private var peerMaxFrameSize = 16_384
    private var peerInitialWindow = defaultWindow
    /// What we may still send on the whole connection, and what the client may still send us.
    private var connectionSendWindow = defaultWindow
    private var connectionReceiveWindow = defaultWindow

    /// We sent GOAWAY for a graceful shutdown: no new stream is accepted.
    private var goingAway = false
    /// The client sent GOAWAY: it opens no new stream; close when the last one is done.
    private var peerGoingAway = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        decoder = HPACKDecoder(maxHeaderListSize: configuration.maxHeaderListSize)
        // §3.4: the server's preface is a SETTINGS frame, its first frame; it need not wait for the client's.
        let settings: [HTTP2Setting] = [
            HTTP2Setting(.maxConcurrentStreams, UInt32(configuration.maxConcurrentStreams)),
            HTTP2Setting(.enablePush, 0),
            HTTP2Setting(.maxHeaderListSize, UInt32(configuration.maxHeaderListSize)),
        ]
        outbox.append(.write(HTTP2Frame(streamID: 0, payload: .settings(settings)).encoded()))
    }

    /// The streams open or half-closed now.
    public var activeStreams: Int { streams.count }

    /// Whether the machine is done: the driver closes the connection.
    public var isClosed: Bool { phase == .closed && outbox.isEmpty }

    // MARK: - Input

    /// Adds bytes that arrived from the client.
    public mutating func receive<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        guard phase != .closed else { return }
        guard phase == .preface else {
            parser.append(bytes)
            return
        }
        var iterator = bytes.makeIterator()
        while prefaceReceived < Self.clientPreface.count, let byte = iterator.next() {
            guard byte == Self.clientPreface[prefaceReceived] else {
                // An HTTP/1.1 request, TLS without ALPN, or noise: refused at the first wrong octet.
                fail(.connection(.protocolError, "not the HTTP/2 connection preface (octet \(prefaceReceived) differs)"))
                return
            }
            prefaceReceived += 1
        }
        if prefaceReceived == Self.clientPreface.count {
            phase = .settings
            parser.append(IteratorSequence(iterator))
        }
    }

    /// Starts a graceful shutdown (§6.8): GOAWAY with NO_ERROR and the last stream we accepted; streams in flight
    /// are still answered, new ones are ignored, and `.close` comes once the last one has ended.
    public mutating func stopAccepting() {
        guard phase != .closed, !goingAway else { return }
        goingAway = true
        outbox.append(.write(goAway(.noError, debug: "")))
    }

    /// The next thing to do, or nil when the machine needs more bytes (or answers).
    public mutating func nextAction() -> Action? {
        while true {
            if !outbox.isEmpty { return outbox.removeFirst() }
            guard phase != .closed else { return nil }
            if (goingAway || peerGoingAway) && streams.isEmpty && headerBlock == nil {
                phase = .closed
                return .close
            }
            guard phase != .preface else { return nil }
            do {
                guard let frame = try parser.next() else { return nil }
                try handle(frame)
            } catch {
                fail(error)
            }
        }
    }

    // MARK: - Frames

    private mutating func handle(_ frame: HTTP2Frame) throws(HTTP2Error) {
        if phase == .settings {
            // §3.4: "The client connection preface ... MUST be followed by a SETTINGS frame".
            guard case .settings(_, ack: false) = frame.payload else {
                throw .connection(.protocolError, "the preface is followed by \(frame.type), not SETTINGS")
            }
            phase = .open
        }
        if let block = headerBlock {
            // §6.10: a field block is one unit; nothing may come between its frames.
            guard case .continuation = frame.payload, frame.streamID == block.streamID else {
                throw .connection(.protocolError, "\(frame.type) on stream \(frame.streamID) inside the header block of stream \(block.streamID)")
            }
        }
        switch frame.payload {
        case .settings(let settings, let ack):
            if !ack { try apply(settings) }
        case .ping(let data, let ack):
            if !ack { outbox.append(.write(HTTP2Frame(streamID: 0, payload: .ping(data, ack: true)).encoded())) }
        case .goAway:
            peerGoingAway = true
        case .windowUpdate(let increment):
            try windowUpdate(frame.streamID, Int(increment))
        case .headers(let fragment, let endStream, let endHeaders, let priority, _):
            // §5.3.1: a stream cannot depend on itself (a stream error PROTOCOL_ERROR, priority deprecated or not).
            if let priority, priority.dependency == frame.streamID {
                throw .stream(frame.streamID, .protocolError, "stream \(frame.streamID) depends on itself (§5.3.1)")
            }
            if endHeaders {
                try headerBlockEnded(frame.streamID, fragment, endStream: endStream)
            } else {
                headerBlock = (frame.streamID, fragment, endStream)
            }
        case .continuation(let fragment, let endHeaders):
            guard var block = headerBlock else {
                throw .connection(.protocolError, "CONTINUATION on stream \(frame.streamID) without a HEADERS before it")
            }
            block.fragments += fragment
            // The decoder's limit applies once the block is decoded; this one stops a block that never ends.
            guard block.fragments.count <= configuration.maxHeaderListSize else {
                throw .connection(.enhanceYourCalm, "a header block over \(configuration.maxHeaderListSize) octets")
            }
            headerBlock = block
            if endHeaders {
                headerBlock = nil
                try headerBlockEnded(block.streamID, block.fragments, endStream: block.endStream)
            }
        case .data(let data, let endStream, _):
            try receiveData(frame.streamID, data, flowControlled: frame.payload.flowControlledLength, endStream: endStream)
        case .rstStream:
            try rstStream(frame.streamID)
        case .pushPromise:
            throw .connection(.protocolError, "PUSH_PROMISE from a client (§8.4: only servers push)")
        case .priority(let priority):
            if priority.dependency == frame.streamID {
                throw .stream(frame.streamID, .protocolError, "stream \(frame.streamID) depends on itself (§5.3.1)")
            }
            // §5.3.2: priority signals are deprecated and otherwise ignored.
        case .unknown:
            break // §4.1: unknown frame types are ignored
        }
    }

    /// §6.5.3: apply the client's settings in order, then acknowledge them.
    private mutating func apply(_ settings: [HTTP2Setting]) throws(HTTP2Error) {
        for setting in settings {
            let value = Int(setting.value)
            switch setting.identifier {
            case .headerTableSize:
                // The client's decoder allows this much; our encoder uses no more than its default.
                encoder.setMaxTableSize(min(value, 4096))
            case .initialWindowSize:
                // §6.9.2: the change applies to every stream's window at once, which may become negative.
                let delta = value - peerInitialWindow
                peerInitialWindow = value
                for id in streams.keys {
                    streams[id]!.sendWindow += delta
                    if streams[id]!.sendWindow > Int(HTTP2Setting.maxWindowSize) {
                        throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE = \(value) takes stream \(id)'s window over 2^31-1")
                    }
                }
            case .maxFrameSize:
                peerMaxFrameSize = value
            default:
                break // ENABLE_PUSH (we never push), MAX_CONCURRENT_STREAMS (limits pushes), advisory or unknown
            }
        }
        outbox.append(.write(HTTP2Frame(streamID: 0, payload: .settings([], ack: true)).encoded()))
        writeData() // a larger window may free held data
    }

    /// §6.9.1: a window may not exceed 2^31-1.
    private mutating func windowUpdate(_ streamID: UInt32, _ increment: Int) throws(HTTP2Error) {
        let max = Int(HTTP2Setting.maxWindowSize)
        if streamID == 0 {
            connectionSendWindow += increment
            guard connectionSendWindow <= max else {
                throw .connection(.flowControlError, "WINDOW_UPDATE takes the connection's window over 2^31-1")
            }
        } else if streams[streamID] != nil {
            streams[streamID]!.sendWindow += increment
            guard streams[streamID]!.sendWindow <= max else {
                throw .stream(streamID, .flowControlError, "WINDOW_UPDATE takes stream \(streamID)'s window over 2^31-1")
            }
        } else if isIdle(streamID) {
            throw .connection(.protocolError, "WINDOW_UPDATE on idle stream \(streamID)")
        } // on a closed stream: allowed and ignored (§6.9)
        writeData()
    }

    private mutating func rstStream(_ streamID: UInt32) throws(HTTP2Error) {
        guard !isIdle(streamID) else {
            throw .connection(.protocolError, "RST_STREAM on idle stream \(streamID)")
        }
        // The client cancelled: the response, or what is left of it, is dropped.
        streams[streamID] = nil
        closedByPeer.insert(streamID)
        streamsResetByPeer += 1
        if streamsResetByPeer > Self.resetAllowance && streamsResetByPeer * 2 > streamsOpened {
            throw .connection(.enhanceYourCalm, "\(streamsResetByPeer) of \(streamsOpened) streams reset by the client (rapid reset, CVE-2023-44487)")
        }
    }

    /// A stream not held is idle when the client has not opened it yet: above every ID it used, or even (the
    /// server's IDs, and this server never pushes). Otherwise it is closed (§5.1.1).
    private func isIdle(_ streamID: UInt32) -> Bool {
        streamID % 2 == 0 || streamID > highestStreamID
    }

    // MARK: - Requests

    /// A whole header block for `streamID`: a new request, or the trailers of one.
    private mutating func headerBlockEnded(_ streamID: UInt32, _ block: [UInt8], endStream: Bool) throws(HTTP2Error) {
        // Decoded first, whatever happens to the stream: the HPACK table is the connection's (§4.3).
        let fields = try decoder.decode(block)
        if streams[streamID] != nil {
            try trailers(streamID, fields, endStream: endStream)
            return
        }
        if resetStreams.contains(streamID) { return }
        if closedByPeer.contains(streamID) {
            throw .stream(streamID, .streamClosed, "HEADERS on stream \(streamID) after the client reset it (§5.1)")
        }
        guard streamID % 2 == 1 else {
            throw .connection(.protocolError, "a client opened stream \(streamID); client streams are odd (§5.1.1)")
        }
        guard streamID > highestStreamID else {
            throw .connection(.protocolError, "stream \(streamID) opened after stream \(highestStreamID); stream IDs must increase (§5.1.1)")
        }
        highestStreamID = streamID
        streamsOpened += 1
        if goingAway { return } // §6.8: streams after our GOAWAY are ignored
        guard streams.count < configuration.maxConcurrentStreams else {
            resetStreams.insert(streamID)
            outbox.append(.write(rstStream(streamID, .refusedStream)))
            return
        }
        lastProcessedStreamID = streamID
        let (request, expectedLength) = try Self.request(from: fields, streamID: streamID)
        var stream = HTTP2Stream(id: streamID, request: request, receiveWindow: Self.defaultWindow, sendWindow: peerInitialWindow)
        stream.expectedLength = expectedLength
        streams[streamID] = stream
        if endStream { try requestEnded(streamID) }
    }

    /// A second header block on an open stream: trailers, which must end the stream (§8.1). They are checked
    /// and dropped.
    private mutating func trailers(_ streamID: UInt32, _ fields: [HPACKHeaderField], endStream: Bool) throws(HTTP2Error) {
        guard streams[streamID]!.state == .open else {
            throw .stream(streamID, .streamClosed, "HEADERS on stream \(streamID) after its END_STREAM")
        }
        guard endStream else {
            throw .stream(streamID, .protocolError, "a second header block without END_STREAM on stream \(streamID)")
        }
        guard !fields.contains(where: { $0.name.first == UInt8(ascii: ":") }) else {
            throw .stream(streamID, .protocolError, "a pseudo-header field in trailers (§8.1)")
        }
        try requestEnded(streamID)
    }

    private mutating func receiveData(_ streamID: UInt32, _ data: [UInt8], flowControlled: Int, endStream: Bool) throws(HTTP2Error) {
        guard !isIdle(streamID) else {
            throw .connection(.protocolError, "DATA on idle stream \(streamID) (§5.1)")
        }
        // The connection's window counts every DATA frame, even one for a stream that is gone (§6.9).
        guard flowControlled <= connectionReceiveWindow else {
            throw .connection(.flowControlError, "DATA of \(flowControlled) octets with \(connectionReceiveWindow) left in the connection's window")
        }
        connectionReceiveWindow -= flowControlled
        replenishConnection(flowControlled)
        guard var stream = streams[streamID], stream.state == .open else {
            if resetStreams.contains(streamID) { return }
            throw .stream(streamID, .streamClosed, "DATA on stream \(streamID) after its END_STREAM (§5.1)")
        }
        guard flowControlled <= stream.receiveWindow else {
            throw .stream(streamID, .flowControlError, "DATA of \(flowControlled) octets with \(stream.receiveWindow) left in the stream's window")
        }
        stream.receiveWindow -= flowControlled
        if !stream.bodyRefused {
            stream.request.body += data
            stream.bodyRefused = stream.request.body.count > configuration.maxBodyBytes
        }
        // The body is held in memory and consumed at once: the client's window is given back at once.
        if !endStream && flowControlled > 0 {
            stream.receiveWindow += flowControlled
            outbox.append(.write(HTTP2Frame(streamID: streamID, payload: .windowUpdate(increment: UInt32(flowControlled))).encoded()))
        }
        streams[streamID] = stream
        if stream.bodyRefused && !stream.responded {
            let limit = configuration.maxBodyBytes
            let refusal = HTTPResponse.text(.contentTooLarge, "413 Content Too Large: the request body is over \(limit) bytes\n")
            for action in respond(refusal, to: streamID) { outbox.append(action) }
            return
        }
        if endStream { try requestEnded(streamID) }
    }

    /// Gives back to the connection's window what a DATA frame took.
    private mutating func replenishConnection(_ count: Int) {
        guard count > 0 else { return }
        connectionReceiveWindow += count
        outbox.append(.write(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: UInt32(count))).encoded()))
    }

    /// END_STREAM arrived: the request is whole and is handed out.
    private mutating func requestEnded(_ streamID: UInt32) throws(HTTP2Error) {
        streams[streamID]!.state = .halfClosedRemote
        let stream = streams[streamID]!
        if !stream.bodyRefused, let expected = stream.expectedLength, expected != stream.request.body.count {
            throw .stream(streamID, .protocolError, "content-length: \(expected) but \(stream.request.body.count) octets of DATA (§8.1.1)")
        }
        if !stream.responded { outbox.append(.request(streamID: streamID, stream.request)) }
    }

    /// Connection-specific fields have no place in HTTP/2 (§8.2.2): the connection is the frames.
    static let connectionSpecificFields: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    /// The request a header block describes, checked as §8.3.1 and §8.2 require; a malformed one is a stream
    /// error of type PROTOCOL_ERROR (§8.1.1).
    static func request(from fields: [HPACKHeaderField], streamID: UInt32) throws(HTTP2Error) -> (HTTPRequest, Int?) {
        func malformed(_ reason: String) -> HTTP2Error { .stream(streamID, .protocolError, reason) }
        var pseudo: [String: String] = [:]
        var headers = HTTPHeaders()
        var cookies: [String] = []
        var regularSeen = false
        for field in fields {
            let name = field.nameString
            let value = field.valueString
            guard !name.isEmpty else { throw malformed("an empty field name") }
            // §8.2.1: "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or 0x7f-0xff".
            if let bad = field.name.first(where: { $0 <= 0x20 || (0x41...0x5A).contains($0) || $0 >= 0x7F }) {
                throw malformed("the field name \"\(name)\" contains 0x\(String(bad, radix: 16)) (names are lowercase in HTTP/2)")
            }
            if field.value.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) {
                throw malformed("the value of \(name) contains NUL, CR or LF (§8.2.1)")
            }
            if name.hasPrefix(":") {
                guard !regularSeen else { throw malformed("the pseudo-header \(name) after a regular field (§8.3)") }
                guard [":method", ":scheme", ":authority", ":path"].contains(name) else {
                    throw malformed("\(name) is not a request pseudo-header (§8.3.1)")
                }
                guard pseudo[name] == nil else { throw malformed("\(name) twice (§8.3.1)") }
                pseudo[name] = value
                continue
            }
            regularSeen = true
            if connectionSpecificFields.contains(name) {
                throw malformed("the connection-specific field \(name) (§8.2.2)")
            }
            if name == "te" && value != "trailers" { throw malformed("te: \(value); only \"trailers\" is allowed (§8.2.2)") }
            if name == "cookie" { cookies.append(value); continue }
            headers.add(name, value)
        }
        // §8.2.3: cookie crumbs are joined back into one field for an HTTP/1.1 application.
        if !cookies.isEmpty { headers.add("cookie", cookies.joined(separator: "; ")) }
        guard let method = pseudo[":method"] else { throw malformed("no :method (§8.3.1)") }
        let target: String
        if method == "CONNECT" {
            // §8.5: CONNECT names only the authority.
            guard pseudo[":scheme"] == nil, pseudo[":path"] == nil, let authority = pseudo[":authority"] else {
                throw malformed("CONNECT needs :authority and no :scheme or :path (§8.5)")
            }
            target = authority
        } else {
            guard pseudo[":scheme"] != nil else { throw malformed("no :scheme (§8.3.1)") }
            guard let path = pseudo[":path"], !path.isEmpty else { throw malformed("no :path, or an empty one (§8.3.1)") }
            target = path
        }
        // §8.3.1: :authority stands for Host; an HTTP/1.1 application finds it under Host.
        if let authority = pseudo[":authority"] { headers.set("host", authority) }
        var expectedLength: Int?
        if let length = headers["content-length"] {
            guard let value = Int(length), value >= 0 else { throw malformed("content-length: \(length) is not a number") }
            expectedLength = value
        }
        let request = HTTPRequest(method: HTTPMethod(method), target: target, version: .http2, headers: headers)
        return (request, expectedLength)
    }

    // MARK: - Output

    /// The frames that answer the request on `streamID`: HEADERS (and CONTINUATIONs), then DATA as far as the
    /// flow-control windows allow; the rest follows from `nextAction` as WINDOW_UPDATEs arrive. Empty when the
    /// stream is gone (the client reset it) or was answered already.
    ///
    /// - Parameter date: an IMF-fixdate for a `date` field, if the response has none.
    public mutating func respond(_ response: HTTPResponse, to streamID: UInt32, date: String? = nil) -> [Action] {
        guard phase != .closed, var stream = streams[streamID], !stream.responded else { return [] }
        stream.responded = true
        var response = response
        let body: [UInt8]
        switch Self.bytes(of: response.body) {
        case let bytes?:
            body = bytes
        case nil:
            response = .text(.internalServerError, "500: HTTP2Connection sends bodies in memory; the driver must read files and streams into .bytes\n")
            body = Self.bytes(of: response.body) ?? []
        }
        let sendsBody = response.sendsBody(answering: stream.request.method)
        let data = sendsBody ? body : []

        var fields = [HPACKHeaderField(":status", String(response.status.code))]
        for field in response.headers {
            let name = field.name.lowercased()
            if Self.connectionSpecificFields.contains(name) || name == "content-length" || name == "date" { continue }
            fields.append(HPACKHeaderField(name, field.value))
        }
        if let date = response.headers["Date"] ?? date { fields.append(HPACKHeaderField("date", date)) }
        if response.status.allowsBody { fields.append(HPACKHeaderField("content-length", String(body.count))) }

        let endStream = data.isEmpty
        var out = headerFrames(streamID, encoder.encode(fields), endStream: endStream)
        if endStream {
            streams[streamID] = stream
            endLocal(streamID, into: &out)
        } else {
            stream.pending = data
            stream.endStreamPending = true
            streams[streamID] = stream
            out += dataFrames()
        }
        return [.write(out)]
    }

    /// The bytes of a body held in memory, nil for a file or a stream.
    private static func bytes(of body: ResponseBody) -> [UInt8]? {
        switch body {
        case .empty: return []
        case .bytes(let bytes): return bytes
        case .file, .stream: return nil
        case .parts(let parts):
            var all: [UInt8] = []
            for part in parts {
                guard let bytes = bytes(of: part) else { return nil }
                all += bytes
            }
            return all
        }
    }

    /// A header block cut to the client's SETTINGS_MAX_FRAME_SIZE: HEADERS, then CONTINUATIONs (§4.3).
    private func headerFrames(_ streamID: UInt32, _ block: [UInt8], endStream: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(offset + peerMaxFrameSize, block.count)
            let fragment = Array(block[offset..<end])
            let last = end == block.count
            let payload: HTTP2FramePayload = offset == 0
                ? .headers(fieldBlock: fragment, endStream: endStream, endHeaders: last)
                : .continuation(fieldBlock: fragment, endHeaders: last)
            out += HTTP2Frame(streamID: streamID, payload: payload).encoded()
            offset = end
        } while offset < block.count
        return out
    }

    /// Sends what the windows allow of every stream's held data, lowest stream first, as DATA frames no larger
    /// than the client's SETTINGS_MAX_FRAME_SIZE (§5.2, §6.9).
    private mutating func dataFrames() -> [UInt8] {
        var out: [UInt8] = []
        for id in streams.keys.sorted() where streams[id]!.endStreamPending {
            var stream = streams[id]!
            while stream.pendingCount > 0 {
                let size = min(stream.pendingCount, stream.sendWindow, connectionSendWindow, peerMaxFrameSize)
                guard size > 0 else { break }
                let chunk = Array(stream.pending[stream.pendingOffset..<(stream.pendingOffset + size)])
                stream.pendingOffset += size
                stream.sendWindow -= size
                connectionSendWindow -= size
                let last = stream.pendingCount == 0
                out += HTTP2Frame(streamID: id, payload: .data(chunk, endStream: last)).encoded()
            }
            streams[id] = stream
            if stream.pendingCount == 0 { endLocal(id, into: &out) }
        }
        return out
    }

    /// Our side of the stream has ended (END_STREAM sent). A stream the client has ended too is closed; one
    /// still open (an early answer, a 413) is reset with NO_ERROR so the client stops sending (§8.1).
    private mutating func endLocal(_ streamID: UInt32, into out: inout [UInt8]) {
        guard let stream = streams[streamID] else { return }
        streams[streamID] = nil
        if stream.state == .open {
            resetStreams.insert(streamID)
            out += rstStream(streamID, .noError)
        }
    }

    /// Queues what `dataFrames` frees after a window grew.
    private mutating func writeData() {
        let out = dataFrames()
        if !out.isEmpty { outbox.append(.write(out)) }
    }

    // MARK: - Errors

    /// §5.4: a stream error resets the stream; a connection error sends GOAWAY and ends everything.
    private mutating func fail(_ error: HTTP2Error) {
        switch error.scope {
        case .stream(let id):
            streams[id] = nil
            resetStreams.insert(id)
            outbox.append(.write(rstStream(id, error.code)))
        case .connection:
            outbox.append(.write(goAway(error.code, debug: error.reason)))
            outbox.append(.close)
            streams = [:]
            phase = .closed
        }
    }

    private func rstStream(_ streamID: UInt32, _ code: HTTP2ErrorCode) -> [UInt8] {
        HTTP2Frame(streamID: streamID, payload: .rstStream(code)).encoded()
    }

    /// GOAWAY with the last stream we acted on; the reason goes in the debug data, for people (§6.8).
    private func goAway(_ code: HTTP2ErrorCode, debug: String) -> [UInt8] {
        HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: lastProcessedStreamID, errorCode: code,
                                                 debugData: Array(debug.utf8))).encoded()
    }
}
