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
/// - shutdown (§6.8): `stopAccepting()` sends GOAWAY and lets the streams in flight finish; `--max-requests`
///   does the same after that many streams;
/// - floods: rapid reset (CVE-2023-44487), and PING, SETTINGS or empty DATA frames that keep the server busy
///   without ever asking for anything (CVE-2019-9512, -9515, -9518), end the connection with ENHANCE_YOUR_CALM.
///
/// Response bodies are `.bytes`, `.file` or `.parts` of them. The machine never reads a file: a DATA frame
/// whose payload is on disk comes out as `.write(frame header)` then `.sendFile(…)`, for the driver to send
/// with sendfile, and only as far as the windows allow — a 1 GB file costs no memory here. DATA is made
/// when the driver asks for the next action, so a driver that stops asking while its output is full is
/// never handed more than it can hold. A `.stream` body is not sent (the driver reads it into bytes first):
/// the answer is a 500 that says so.
public struct HTTP2Connection: Sendable {
    /// What this server advertises and accepts.
    public struct Configuration: Sendable, Hashable {
        /// SETTINGS_MAX_CONCURRENT_STREAMS: more open streams are refused with REFUSED_STREAM (§5.1.2).
        public var maxConcurrentStreams: Int
        /// SETTINGS_MAX_HEADER_LIST_SIZE: a larger header list is a COMPRESSION_ERROR (HPACK stops decoding).
        public var maxHeaderListSize: Int
        /// The largest request body; beyond it the stream is answered with 413 and reset.
        public var maxBodyBytes: Int
        /// Streams accepted on one connection before a graceful GOAWAY (0: no limit), like nginx's
        /// `http2_max_requests`: the client opens a new connection for the next ones.
        public var maxRequests: Int
        /// The port also serves HTTP/1.1 (`CleartextProtocolProbe` chose HTTP/2): a wrong preface's GOAWAY
        /// says what else the port would have taken.
        public var sharesPortWithHTTP1: Bool

        public init(maxConcurrentStreams: Int = 100, maxHeaderListSize: Int = 32 * 1024,
                    maxBodyBytes: Int = 64 * 1024 * 1024, maxRequests: Int = 0, sharesPortWithHTTP1: Bool = false) {
            self.maxConcurrentStreams = maxConcurrentStreams
            self.maxHeaderListSize = maxHeaderListSize
            self.maxBodyBytes = maxBodyBytes
            self.maxRequests = maxRequests
            self.sharesPortWithHTTP1 = sharesPortWithHTTP1
        }
    }

    public enum Action: Sendable, Hashable {
        /// A whole request on `streamID`, body included: answer it with `respond(_:to:)`, now or later.
        case request(streamID: UInt32, HTTPRequest)
        /// Frames to send as they are.
        case write([UInt8])
        /// Octets of a body held in memory, as a slice of its own storage (not copied): the payload (or part of
        /// it) of the DATA frame whose header was written just before. Sent in order, like `.write`.
        case writeShared(ArraySlice<UInt8>)
        /// `length` octets of the file at `path` from `offset`: the payload (or the rest of the payload) of the
        /// DATA frame whose header was written just before, for `streamID`.
        case sendFile(streamID: UInt32, path: String, offset: Int, length: Int)
        /// A stream whose body named files is over (sent, reset or refused): the driver lets go of them.
        case streamEnded(UInt32)
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
    /// Actions waiting for `nextAction`, oldest first, from `outboxTaken` on (those before it were handed out).
    private var outbox: [Action] = []
    /// How many actions at the front of `outbox` were handed out already: taken by index, not shifted out
    /// (`removeFirst` moved every action behind it, for each of a 100 KB body's 14 frame pieces).
    private var outboxTaken = 0
    /// Frames made and not handed out yet. They leave as one `.write` when the machine has nothing more to do
    /// with the bytes it has, before an action that must follow them (a file's octets, `.close`), or once
    /// `dataBatch` octets wait: the answers to ten requests that came in one read go out as one write — one
    /// array, one segment of the driver's output — where each used to be two.
    private var written: [UInt8] = []
    /// How many octets the last `.write` of `written` held: after a small one the next batch gets a small
    /// buffer, after a larger one 16 KB (`queueResponse`).
    private var lastBatch = 0

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
    /// Streams with response data waiting, in the order they get a turn (one frame each, round-robin).
    private var sendQueue: [UInt32] = []
    /// The last look at `sendQueue` found no window open: nothing to send until a window grows or a new
    /// response arrives.
    private var sendBlocked = false
    /// PING, SETTINGS and empty DATA frames since the client last opened a stream: each costs us work (an
    /// ACK, a wake-up) and a client that sends only these is flooding (CVE-2019-9512, -9515, -9518).
    private var framesWithoutRequest = 0
    static let framesWithoutRequestAllowance = 10_000
    /// Octets of DATA made per `nextAction` turn at most, so one big body does not fill the driver's output.
    static let dataBatch = 64 * 1024
    /// In-memory payloads of at least this many octets go out as `.writeShared` slices, not copied.
    static let sharedPayloadMinimum = 4096
    /// Streams we reset: frames still in flight for them are ignored, not errors (§5.4.2, §6.4), "for some
    /// time": the most recent `rememberedStreams` are kept, so a long connection does not grow without bound.
    private var resetStreams: Set<UInt32> = []
    /// Streams the client reset: any frame but PRIORITY on them is a stream error STREAM_CLOSED (§5.1, "closed").
    private var closedByPeer: Set<UInt32> = []
    /// The header block being assembled: HEADERS without END_HEADERS, then CONTINUATIONs (§6.10).
    private var headerBlock: (streamID: UInt32, fragments: [UInt8], endStream: Bool)?

    /// The Strings the previous request's fields became, reused by the next request where its octets are the
    /// same (`RepeatedStrings`).
    private var requestStrings = RepeatedStrings()
    /// The previous request's field array, for the next request's fields (`HTTP2RequestHead.reuse`): it keeps
    /// that request's fields alive until the next HEADERS arrive, at most one request's, as the HTTP/1.1 parser does.
    private var requestFields: [HeaderField] = []
    /// The previous response's header block, when encoding it changed nothing in the encoder's table.
    private var repeatedBlock: RepeatedBlock?
    /// The previous response's field names and their lowercase forms, in order (see `lowercasedName`).
    private var lowercasedNames: [(name: String, lowercased: String)] = []
    /// The previous response's body length and its decimal form for `content-length`: the same file is
    /// answered with the same length, and the String is made once (~200 instructions) rather than per response.
    private var previousLength: (count: Int, decimal: String) = (0, "0")

    /// The peer's settings that shape what we send.
    private var peerMaxFrameSize = 16_384
    private var peerInitialWindow = defaultWindow
    /// What we may still send on the whole connection, and what the client may still send us.
    private var connectionSendWindow = defaultWindow
    private var connectionReceiveWindow = defaultWindow

    /// We sent GOAWAY for a graceful shutdown: no new stream is accepted.
    private var goingAway = false
    /// GOAWAY is to go once the frames already received are handled (`stopAcceptingAfterWhatArrived`).
    private var goingAwayAfterWhatArrived = false
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
        send(HTTP2Frame(streamID: 0, payload: .settings(settings)).encoded())
    }

    /// The machine of a connection upgraded from HTTP/1.1 (`Upgrade: h2c`, RFC 7540 §3.2, what `curl --http2`
    /// does on http://): the client's `HTTP2-Settings` apply at once (the 101 acknowledges them), the request
    /// that asked for the upgrade is stream 1, half-closed from the client's side, and its answer goes on
    /// stream 1. The client's preface is still to come. The driver has sent the 101 and calls `nextAction`.
    public init(configuration: Configuration = Configuration(), upgrading request: HTTPRequest, settings: [HTTP2Setting]) {
        self.init(configuration: configuration)
        try? apply(settings, acknowledge: false) // validated by H2CUpgrade; no stream is open to overflow
        var upgraded = request
        upgraded.version = .http2
        var stream = HTTP2Stream(id: 1, request: upgraded, receiveWindow: Self.defaultWindow, sendWindow: peerInitialWindow)
        stream.state = .halfClosedRemote
        let request = stream.takeRequest() ?? upgraded // handed out below, as `requestEnded` does
        streams[1] = stream
        highestStreamID = 1
        lastProcessedStreamID = 1
        streamsOpened = 1
        outbox.append(.request(streamID: 1, request))
    }

    /// The streams open or half-closed now.
    public var activeStreams: Int { streams.count }

    /// Whether the machine is done: the driver closes the connection.
    public var isClosed: Bool { phase == .closed && outboxTaken == outbox.count && written.isEmpty }

    /// Streams the client has opened on this connection.
    public var streamsAccepted: Int { streamsOpened }

    // MARK: - Input

    /// Adds bytes that arrived from the client.
    public mutating func receive<Bytes: Sequence<UInt8>>(_ bytes: Bytes) { append(bytes) }

    /// The same for the bytes of a read, what the event loop hands over. A call from another module to the
    /// generic `receive` is not specialized: the bytes would be copied one by one through the `Sequence`
    /// witness table (~1,000 instructions a read); with the type known here, the copy is a `memcpy`.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) { append(bytes) }

    private mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        guard phase != .closed else { return }
        guard phase == .preface else {
            parser.append(bytes)
            return
        }
        var iterator = bytes.makeIterator()
        while prefaceReceived < Self.clientPreface.count, let byte = iterator.next() {
            guard byte == Self.clientPreface[prefaceReceived] else {
                // An HTTP/1.1 request (on an HTTP/2-only port, or after ALPN h2), or noise: a connection error
                // PROTOCOL_ERROR at the first wrong octet (§3.4, §5.4.1), whose GOAWAY says what came instead.
                let received = Self.clientPreface.prefix(prefaceReceived) + [byte] + IteratorSequence(iterator).prefix(64)
                fail(.connection(.protocolError, Self.invalidPreface(differingAt: prefaceReceived, received: Array(received),
                                                                     sharesPortWithHTTP1: configuration.sharesPortWithHTTP1)))
                return
            }
            prefaceReceived += 1
        }
        if prefaceReceived == Self.clientPreface.count {
            phase = .settings
            parser.append(IteratorSequence(iterator))
        }
    }

    /// The GOAWAY debug text for a wrong preface. When the first line is the wrong one, it is quoted: most
    /// often an HTTP/1.1 request line from a client that did not know this connection speaks only HTTP/2. On a
    /// port that serves HTTP/1.1 too, the line was neither: it lacked the version an HTTP/1.x request ends in.
    static func invalidPreface(differingAt octet: Int, received: [UInt8], sharesPortWithHTTP1: Bool = false) -> String {
        let firstLine = received.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }.prefix(40)
        let prefaceLine = clientPreface.prefix { $0 != UInt8(ascii: "\r") }
        let quotable = octet <= prefaceLine.count && firstLine.allSatisfy { (0x20..<0x7f).contains($0) }
        let instead = quotable ? " (\"\(String(decoding: firstLine, as: UTF8.self))\" where \"PRI * HTTP/2.0\" belongs)" : ""
        let port = sharesPortWithHTTP1
            ? "this port takes the HTTP/2 preface or an HTTP/1.x request line (RFC 9113 §3.4)"
            : "this connection speaks only HTTP/2 (RFC 9113 §3.4)"
        return "invalid connection preface: octet \(octet) differs\(instead); \(port)"
    }

    /// Starts a graceful shutdown (§6.8): GOAWAY with NO_ERROR and the last stream we accepted; streams in flight
    /// are still answered, new ones are ignored, and `.close` comes once the last one has ended.
    public mutating func stopAccepting() {
        guard phase != .closed, !goingAway else { return }
        goingAway = true
        send(goAway(.noError, debug: ""))
    }

    /// `stopAccepting`, but after the frames already received: for a connection that became HTTP/2 while the
    /// server was shutting down (its first bytes were still arriving when the stop came). Its first request
    /// came with those bytes and is answered; the GOAWAY names it as the last stream (§6.8), so the client
    /// opens nothing more here, and knows that nothing after it was processed.
    public mutating func stopAcceptingAfterWhatArrived() {
        guard phase != .closed, !goingAway else { return }
        goingAwayAfterWhatArrived = true
    }

    /// Ends the connection now (an idle timeout): GOAWAY with NO_ERROR and `reason` as its debug data, then
    /// `.close`, so the client knows which streams were processed (none are in flight when idle) and why.
    public mutating func shutDown(reason: String) {
        guard phase != .closed else { return }
        send(goAway(.noError, debug: reason))
        enqueue(.close)
        for id in Array(streams.keys) { removeStream(id) }
        phase = .closed
    }

    /// The next thing to do, or nil when the machine needs more bytes (or answers).
    public mutating func nextAction() -> Action? {
        while true {
            if outboxTaken < outbox.count { return takeFromOutbox() }
            if written.count >= Self.dataBatch { return takeWritten() } // the driver's output holds the rest back
            guard phase != .closed else { return takeWritten() }
            if !sendQueue.isEmpty && !sendBlocked {
                makeData() // responses first: a client that keeps sending waits while its answers leave
                continue
            }
            if (goingAway || peerGoingAway) && streams.isEmpty && headerBlock == nil {
                phase = .closed
                enqueue(.close) // after the frames made before it
                continue
            }
            guard phase != .preface else { return takeWritten() }
            do {
                guard let frame = try parser.next() else {
                    if goingAwayAfterWhatArrived { // every whole frame that arrived is handled: now the GOAWAY
                        goingAwayAfterWhatArrived = false
                        stopAccepting()
                        continue
                    }
                    return takeWritten()
                }
                try handle(frame)
            } catch {
                fail(error)
            }
        }
    }

    /// The oldest action in the outbox. The last one is moved out with `removeLast`, and the outbox emptied
    /// for the next batch; one with others behind it is swapped out for `.close` (which holds no storage):
    /// moved, not copied, and a body's slices are let go as they leave.
    private mutating func takeFromOutbox() -> Action {
        if outboxTaken == outbox.count - 1 {
            let action = outbox.removeLast()
            if outboxTaken > 0 { // the usual single action skips this: ~100 instructions on every small answer
                outbox.removeAll(keepingCapacity: true)
                outboxTaken = 0
            }
            return action
        }
        var action = Action.close
        swap(&action, &outbox[outboxTaken])
        outboxTaken += 1
        return action
    }

    /// Adds frames to those waiting in `written`.
    private mutating func send(_ frames: [UInt8]) {
        if written.isEmpty {
            written = frames // adopted, not copied
        } else {
            written += frames
        }
    }

    /// An action that must come after the frames made so far: they go into the outbox first.
    private mutating func enqueue(_ action: Action) {
        if !written.isEmpty { outbox.append(.write(takeWrittenBytes())) }
        outbox.append(action)
    }

    /// The frames waiting, as one `.write`; nil when there are none.
    private mutating func takeWritten() -> Action? {
        written.isEmpty ? nil : .write(takeWrittenBytes())
    }

    /// Moves the waiting frames out (no copy), leaving `written` empty.
    private mutating func takeWrittenBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        swap(&bytes, &written)
        lastBatch = bytes.count
        return bytes
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
            if !ack {
                try countFrameWithoutRequest("SETTINGS")
                try apply(settings)
            }
        case .ping(let data, let ack):
            if !ack {
                try countFrameWithoutRequest("PING")
                send(HTTP2Frame(streamID: 0, payload: .ping(data, ack: true)).encoded())
            }
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
                headerBlock = (frame.streamID, Array(fragment), endStream) // copied: the received bytes move on
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
                try headerBlockEnded(block.streamID, block.fragments[...], endStream: block.endStream)
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

    /// A frame that asks for work but no response: past the allowance since the last new stream, a flood.
    private mutating func countFrameWithoutRequest(_ kind: String) throws(HTTP2Error) {
        framesWithoutRequest += 1
        if framesWithoutRequest > Self.framesWithoutRequestAllowance {
            throw .connection(.enhanceYourCalm, "\(Self.framesWithoutRequestAllowance) PING, SETTINGS or empty DATA frames without a request (last: \(kind)): a flood")
        }
    }

    /// §6.5.3: apply the client's settings in order, then acknowledge them.
    private mutating func apply(_ settings: [HTTP2Setting], acknowledge: Bool = true) throws(HTTP2Error) {
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
        if acknowledge { send(HTTP2Frame(streamID: 0, payload: .settings([], ack: true)).encoded()) }
        sendBlocked = false // a larger window may free held data
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
        sendBlocked = false
    }

    private mutating func rstStream(_ streamID: UInt32) throws(HTTP2Error) {
        guard !isIdle(streamID) else {
            throw .connection(.protocolError, "RST_STREAM on idle stream \(streamID)")
        }
        // The client cancelled: the response, or what is left of it, is dropped.
        removeStream(streamID)
        Self.remember(streamID, in: &closedByPeer)
        streamsResetByPeer += 1
        if streamsResetByPeer > Self.resetAllowance && streamsResetByPeer * 2 > streamsOpened {
            throw .connection(.enhanceYourCalm, "\(streamsResetByPeer) of \(streamsOpened) streams reset by the client (rapid reset, CVE-2023-44487)")
        }
    }

    /// How many closed streams each set remembers; older ones are forgotten (a late frame on one is then a
    /// stream error STREAM_CLOSED, which §5.4.2 allows once the reset is old).
    public static let rememberedStreams = 1_000

    /// Adds `streamID` to a set of closed streams; past `rememberedStreams`, the oldest half are dropped
    /// (IDs only grow, so the oldest are the smallest).
    private static func remember(_ streamID: UInt32, in set: inout Set<UInt32>) {
        set.insert(streamID)
        guard set.count > Self.rememberedStreams else { return }
        let cutoff = set.sorted()[set.count - Self.rememberedStreams / 2]
        set = set.filter { $0 >= cutoff }
    }

    /// The sizes of the remembered sets, for tests.
    public var rememberedCounts: (reset: Int, closedByPeer: Int) { (resetStreams.count, closedByPeer.count) }

    /// A stream not held is idle when the client has not opened it yet: above every ID it used, or even (the
    /// server's IDs, and this server never pushes). Otherwise it is closed (§5.1.1).
    private func isIdle(_ streamID: UInt32) -> Bool {
        streamID % 2 == 0 || streamID > highestStreamID
    }

    // MARK: - Requests

    /// A whole header block for `streamID`: a new request, or the trailers of one.
    private mutating func headerBlockEnded(_ streamID: UInt32, _ block: ArraySlice<UInt8>, endStream: Bool) throws(HTTP2Error) {
        // Decoded first and whole, whatever happens to the stream: the HPACK table is the connection's (§4.3).
        // Each field is checked as the decoder lends it; a malformed one is thrown by `head.request(shapes:)` below.
        var head = HTTP2RequestHead(streamID: streamID)
        head.reuse(&requestFields)
        swap(&head.strings, &requestStrings) // lent, and taken back (moved, not copied) once the block is read
        try decoder.decode(block) { name, value, field in head.add(name: name, value: value, wellFormed: field.wellFormed) }
        swap(&head.strings, &requestStrings)
        requestStrings.rewind()
        if streams[streamID] != nil {
            try trailers(streamID, pseudoHeaderSeen: head.pseudoHeaderSeen, endStream: endStream)
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
        framesWithoutRequest = 0
        if goingAway { return } // §6.8: streams after our GOAWAY are ignored
        guard streams.count < configuration.maxConcurrentStreams else {
            Self.remember(streamID, in: &resetStreams)
            send(rstStream(streamID, .refusedStream))
            return
        }
        lastProcessedStreamID = streamID
        // The last stream this connection takes: GOAWAY names it, the client goes on elsewhere.
        if configuration.maxRequests > 0 && streamsOpened >= configuration.maxRequests { stopAccepting() }
        let (request, expectedLength) = try head.request(shapes: &requestStrings)
        requestFields = request.headers.fields // shared with the request until its handler lets it go
        if endStream {
            // A GET: HEADERS with END_STREAM, the request is whole. It goes straight to the handler, and the
            // stream keeps only what its answer needs (the method), never a copy of the request.
            try Self.checkLength(expectedLength, received: 0, on: streamID)
            streams[streamID] = HTTP2Stream(id: streamID, answering: request.method, receiveWindow: Self.defaultWindow,
                                            sendWindow: peerInitialWindow)
            outbox.append(.request(streamID: streamID, request))
            return
        }
        var stream = HTTP2Stream(id: streamID, request: request, receiveWindow: Self.defaultWindow, sendWindow: peerInitialWindow)
        stream.expectedLength = expectedLength
        streams[streamID] = consume stream // moved into the table, not copied
    }

    /// A second header block on an open stream: trailers, which must end the stream (§8.1). They are checked
    /// and dropped.
    private mutating func trailers(_ streamID: UInt32, pseudoHeaderSeen: Bool, endStream: Bool) throws(HTTP2Error) {
        guard streams[streamID]!.state == .open else {
            throw .stream(streamID, .streamClosed, "HEADERS on stream \(streamID) after its END_STREAM")
        }
        guard endStream else {
            throw .stream(streamID, .protocolError, "a second header block without END_STREAM on stream \(streamID)")
        }
        guard !pseudoHeaderSeen else {
            throw .stream(streamID, .protocolError, "a pseudo-header field in trailers (§8.1)")
        }
        var stream = streams.removeValue(forKey: streamID)! // out of the table while it changes
        defer { streams[streamID] = stream } // back even after a throw: `fail` then removes it like any stream
        try requestEnded(&stream)
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
        if flowControlled == 0 && !endStream { try countFrameWithoutRequest("empty DATA") }
        guard var stream = streams[streamID], stream.state == .open else {
            if resetStreams.contains(streamID) { return }
            throw .stream(streamID, .streamClosed, "DATA on stream \(streamID) after its END_STREAM (§5.1)")
        }
        guard flowControlled <= stream.receiveWindow else {
            throw .stream(streamID, .flowControlError, "DATA of \(flowControlled) octets with \(stream.receiveWindow) left in the stream's window")
        }
        stream.receiveWindow -= flowControlled
        if !stream.bodyRefused {
            stream.request?.body += data
            stream.bodyRefused = stream.bodyCount > configuration.maxBodyBytes
        }
        // The body is held in memory and consumed at once: the client's window is given back at once.
        if !endStream && flowControlled > 0 {
            stream.receiveWindow += flowControlled
            send(HTTP2Frame(streamID: streamID, payload: .windowUpdate(increment: UInt32(flowControlled))).encoded())
        }
        if stream.bodyRefused && !stream.responded {
            streams[streamID] = stream
            let limit = configuration.maxBodyBytes
            let refusal = HTTPResponse.text(.contentTooLarge, "413 Content Too Large: the request body is over \(limit) bytes\n")
            queueResponse(refusal, to: streamID)
            return
        }
        if endStream { try requestEnded(&stream) }
        streams[streamID] = stream
    }

    /// Gives back to the connection's window what a DATA frame took.
    private mutating func replenishConnection(_ count: Int) {
        guard count > 0 else { return }
        connectionReceiveWindow += count
        send(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: UInt32(count))).encoded())
    }

    /// END_STREAM arrived: the request is whole and is handed out. The caller holds `stream` out of the table
    /// (or before it goes in) and puts it back, so it changes in place and is not copied.
    private mutating func requestEnded(_ stream: inout HTTP2Stream) throws(HTTP2Error) {
        stream.state = .halfClosedRemote
        let streamID = stream.id
        if !stream.bodyRefused { try Self.checkLength(stream.expectedLength, received: stream.bodyCount, on: streamID) }
        if !stream.responded, let request = stream.takeRequest() { outbox.append(.request(streamID: streamID, request)) }
    }

    /// §8.1.1: the DATA of a request must add up to its `content-length`, if it sent one.
    private static func checkLength(_ expected: Int?, received: Int, on streamID: UInt32) throws(HTTP2Error) {
        guard let expected, expected != received else { return }
        throw .stream(streamID, .protocolError, "content-length: \(expected) but \(received) octets of DATA (§8.1.1)")
    }

    /// Whether a (lowercase) name is a connection-specific field — connection, keep-alive, proxy-connection,
    /// transfer-encoding, upgrade — which has no place in HTTP/2 (§8.2.2: the connection is the frames).
    /// Compared on octets by length.
    static func isConnectionSpecific(_ name: Span<UInt8>) -> Bool {
        switch name.count {
        case 7: return droppedUpgrade.elementsEqual(name)
        case 10: return droppedConnection.elementsEqual(name) || droppedKeepAlive.elementsEqual(name)
        case 16: return droppedProxyConnection.elementsEqual(name)
        case 17: return droppedTransferEncoding.elementsEqual(name)
        default: return false
        }
    }

    // MARK: - Output

    /// The frames that answer the request on `streamID`: HEADERS (and CONTINUATIONs) now; the DATA follows
    /// from `nextAction` as the flow-control windows allow. Empty when the stream is gone (the client reset it)
    /// or was answered already.
    ///
    /// - Parameter date: an IMF-fixdate for a `date` field, if the response has none.
    public mutating func respond(_ response: HTTPResponse, to streamID: UInt32, date: String? = nil) -> [Action] {
        var frames: [UInt8] = []
        guard respond(headersOf: response, on: streamID, date: date, into: &frames) else { return [] }
        return [.write(frames)]
    }

    /// Like `respond`, but the HEADERS frame waits in the machine with the other frames made (`written`) and
    /// comes out of `nextAction`, before the DATA: what the event loop does, which spares an array per response.
    ///
    /// - Parameter spare: asked for when a new batch of frames begins: an array already sent (the event loop
    ///   keeps a few), whose storage takes the frames, so a batch costs no allocation and no `free` (one of
    ///   each per flush: ~170 instructions a request with one stream at a time, callgrind).
    public mutating func queueResponse(_ response: HTTPResponse, to streamID: UInt32, date: String? = nil,
                                       spare: () -> [UInt8]? = { nil }) {
        var out: [UInt8] = []
        // Out of `self` while `respond` appends to it (one access at a time); not with `takeWrittenBytes`,
        // which would count this as a write and reset `lastBatch`.
        swap(&out, &written)
        if out.isEmpty, var reused = spare() {
            reused.removeAll(keepingCapacity: true) // its octets were sent; its storage is the only copy
            out = reused
        }
        // Room for the answers that pile up before the loop writes (h2load -m10: ten 1 KB answers, each with
        // its DATA frame behind its HEADERS), so they are not copied as the array doubles (1 KB, ten streams:
        // the growth cost 386 instructions in 0.4 of the answers, callgrind). But after a small write (one
        // small answer at a time, -m1: ~100 octets), 512 octets: that fits malloc's small-chunk cache, where
        // 16 KB takes its slow path and its free a consolidation (~190 instructions a request, callgrind).
        if out.isEmpty { out.reserveCapacity(lastBatch <= 512 ? 512 : 16 * 1024) }
        _ = respond(headersOf: response, on: streamID, date: date, into: &out)
        written = out
    }

    /// The work of both: appends the HEADERS (and CONTINUATION) frames to `out`; false when the stream is gone
    /// or answered. (Its name is `respond` too, so that `scripts/instructions` still finds the response side.)
    private mutating func respond(headersOf response: HTTPResponse, on streamID: UInt32, date: String?,
                                  into out: inout [UInt8]) -> Bool {
        // The common body, one piece of bytes (or none), is kept as it is: a list of segments is made only
        // for files and parts (it was an allocation and a free for every answer, ~160 instructions).
        var bytes: [UInt8]? = nil, body: [HTTP2BodySegment] = []
        switch response.body {
        case .empty: break
        case .bytes(let inMemory): if !inMemory.isEmpty { bytes = inMemory }
        default:
            guard let segments = Self.segments(of: response.body) else {
                let refusal = "500: HTTP2Connection sends bodies from memory or files; the driver must read a stream into .bytes\n"
                return respond(headersOf: .text(.internalServerError, refusal), on: streamID, date: date, into: &out)
            }
            body = segments
        }
        // Taken out of the table while it changes (its arrays then change in place), put back below.
        guard phase != .closed, var stream = streams.removeValue(forKey: streamID) else { return false }
        guard !stream.responded else {
            streams[streamID] = stream
            return false
        }
        stream.responded = true
        let length = bytes?.count ?? body.reduce(0) { $0 + $1.count }
        if !response.sendsBody(answering: stream.method) { (bytes, body) = (nil, []) }

        let endStream = bytes == nil && body.isEmpty
        // The header block is encoded straight into the output, after room for its HEADERS frame's header,
        // which is written once the block's length is known (`frameHeaderBlock`).
        let frameStart = out.count
        out += HTTP2Frame.headerRoom
        headerBlock(of: response, bodyLength: length, date: date, into: &out)
        frameHeaderBlock(streamID, in: &out, from: frameStart, endStream: endStream)
        stream.sendsFiles = body.contains { if case .file = $0 { true } else { false } }
        if endStream {
            endLocal(stream, into: &out) // not put back: the stream is over
        } else if let bytes, bytes.count <= min(peerMaxFrameSize, stream.sendWindow, connectionSendWindow), sendQueue.isEmpty {
            // A small body in memory that the windows let through whole, with no other stream waiting for its
            // turn: its one DATA frame follows the HEADERS now, and the stream is over. Through the queue it
            // went back into the table, out again in `makeData`, and round the queue's bookkeeping.
            stream.sendWindow -= bytes.count
            connectionSendWindow -= bytes.count
            HTTP2Frame.appendHeader(length: bytes.count, type: .data, flags: HTTP2Flags.endStream, streamID: streamID, to: &out)
            out += bytes
            endLocal(stream, into: &out)
        } else {
            if let bytes { body = [.bytes(bytes, offset: 0)] }
            stream.pending = body
            stream.pendingCount = body.reduce(0) { $0 + $1.count }
            stream.endStreamPending = true
            streams[streamID] = stream
            sendQueue.append(streamID)
            sendBlocked = false
        }
        return true
    }

    /// The response's header block: the previous one again when it would come out the same (`RepeatedBlock`),
    /// else encoded, and kept for the next response if encoding it left the dynamic table as it was.
    private mutating func headerBlock(of response: HTTPResponse, bodyLength: Int, date: String?, into out: inout [UInt8]) {
        let key = RepeatedBlock.Key(response, bodyLength: bodyLength, date: date)
        // (A table size update pending since then changed the version too: the block would lack it.)
        if let repeated = repeatedBlock, repeated.key == key, repeated.tableVersion == encoder.tableVersion {
            out += repeated.octets
            // The key takes the new fields: equal, but perhaps another array (the file cache made the response
            // again when it revalidated the file, once a second), and the next comparison is then the one of
            // identical arrays, not of every string (kept, the old key cost ~400 instructions a response).
            repeatedBlock?.key = key
            return
        }
        let start = out.count
        let versionBefore = encoder.tableVersion
        let sizeUpdate = encoder.sizeUpdatePending
        encodeHeaderBlock(of: response, bodyLength: bodyLength, date: date, into: &out)
        repeatedBlock = versionBefore == encoder.tableVersion && !sizeUpdate
            ? RepeatedBlock(key: key, tableVersion: versionBefore, octets: Array(out[start...]))
            : nil
    }

    /// The response's header block (§8.3.2): `:status`, the response's fields with their names lowercased,
    /// less those HTTP/2 does not carry, then `date` and `content-length`, which `respond` writes itself.
    /// Each field goes to the encoder as spans of strings (`HPACKOctets.swift`): no array is made per field.
    private mutating func encodeHeaderBlock(of response: HTTPResponse, bodyLength: Int, date: String?, into out: inout [UInt8]) {
        encoder.startBlock(into: &out)
        if let index = HPACKStaticTable.index(ofStatus: response.status.code) {
            encoder.encodeIndexed(index, into: &out)
        } else {
            let status = String(response.status.code)
            encoder.encode(name: Self.statusName.span, value: status.utf8.span, into: &out)
        }
        var responseDate: String?
        // By index, borrowing each field through a span: iterating the headers, or indexing the array, copies
        // every field (two strings retained and released per field per response).
        let fields = response.headers.fields.span
        for position in fields.indices {
            let name = lowercasedName(fields[position].name, at: position) // §8.2.1: names are lowercase in HTTP/2
            let octets = name.utf8.span
            if Self.droppedDate.elementsEqual(octets) { responseDate = fields[position].value; continue }
            guard Self.http2Carries(octets) else { continue }
            encoder.encode(name: octets, value: fields[position].value.utf8.span, into: &out)
        }
        if let date = responseDate ?? date { encoder.encode(name: Self.droppedDate.span, value: date.utf8.span, into: &out) }
        if response.status.allowsBody {
            if previousLength.count != bodyLength { previousLength = (bodyLength, String(bodyLength)) }
            encoder.encode(name: Self.droppedContentLength.span, value: previousLength.decimal.utf8.span, into: &out)
        }
    }

    private static let statusName = Array(":status".utf8)

    /// `name` lowercased, as the previous response's field at `position` had it when the names match. A
    /// handler sends the same fields in the same order response after response, so this is one comparison
    /// of two small strings (up to 15 octets, a string is two machine words) instead of a `lowercased()`.
    private mutating func lowercasedName(_ name: String, at position: Int) -> String {
        if position < lowercasedNames.count, lowercasedNames[position].name == name {
            return lowercasedNames[position].lowercased
        }
        let lowercased = name.lowercased()
        if position < lowercasedNames.count {
            lowercasedNames[position] = (name, lowercased)
        } else {
            lowercasedNames.append((name, lowercased))
        }
        return lowercased
    }

    /// Whether HTTP/2 carries a response field (its name lowercase): not the connection-specific ones (§8.2.2),
    /// nor content-length and date, which `respond` writes itself.
    static func http2Carries(_ name: Span<UInt8>) -> Bool {
        !(isConnectionSpecific(name) || droppedDate.elementsEqual(name) || droppedContentLength.elementsEqual(name))
    }

    private static let droppedDate = Array("date".utf8)
    private static let droppedUpgrade = Array("upgrade".utf8)
    private static let droppedConnection = Array("connection".utf8)
    private static let droppedKeepAlive = Array("keep-alive".utf8)
    private static let droppedContentLength = Array("content-length".utf8)
    private static let droppedProxyConnection = Array("proxy-connection".utf8)
    private static let droppedTransferEncoding = Array("transfer-encoding".utf8)

    /// The pieces of a body, nil for a stream (its length is unknown and the machine cannot pull it).
    private static func segments(of body: ResponseBody) -> [HTTP2BodySegment]? {
        switch body {
        case .empty: return []
        case .bytes(let bytes): return bytes.isEmpty ? [] : [.bytes(bytes, offset: 0)]
        case .file(let path, let offset, let length): return length > 0 ? [.file(path: path, offset: offset, remaining: length)] : []
        case .stream: return nil
        case .parts(let parts):
            var all: [HTTP2BodySegment] = []
            for part in parts {
                guard let segments = segments(of: part) else { return nil }
                all += segments
            }
            return all
        }
    }

    /// Turns the end of `out` from `start` — 9 octets of room, then a header block — into frames: one HEADERS
    /// when the block fits the client's SETTINGS_MAX_FRAME_SIZE, as it nearly always does (its header written
    /// into the room, the block not moved); else HEADERS, then CONTINUATIONs, each cut to that size (§4.3).
    private func frameHeaderBlock(_ streamID: UInt32, in out: inout [UInt8], from start: Int, endStream: Bool) {
        let streamFlag = endStream ? HTTP2Flags.endStream : 0
        let blockLength = out.count - start - HTTP2Frame.headerLength
        if blockLength <= peerMaxFrameSize {
            HTTP2Frame.writeHeader(length: blockLength, type: .headers, flags: streamFlag | HTTP2Flags.endHeaders,
                                   streamID: streamID, into: &out, at: start)
            return
        }
        let block = Array(out[(start + HTTP2Frame.headerLength)...])
        out.removeSubrange(start...)
        var offset = 0
        repeat {
            let end = min(offset + peerMaxFrameSize, block.count)
            let last = end == block.count ? HTTP2Flags.endHeaders : 0
            if offset == 0 {
                HTTP2Frame.appendHeader(length: end - offset, type: .headers, flags: streamFlag | last, streamID: streamID, to: &out)
            } else {
                HTTP2Frame.appendHeader(length: end - offset, type: .continuation, flags: last, streamID: streamID, to: &out)
            }
            out += block[offset..<end]
            offset = end
        } while offset < block.count
    }

    /// Makes DATA frames into `written`, up to `dataBatch` octets: one frame per stream in turn, each no
    /// larger than the client's SETTINGS_MAX_FRAME_SIZE nor the stream's and the connection's windows
    /// (§5.2, §6.9). A stream whose window is shut waits in the queue; when no frame can be made at all,
    /// `sendBlocked` holds until a window grows.
    private mutating func makeData() {
        var out = takeWrittenBytes() // out of `self` while it grows (one access at a time)
        var made = 0
        var waiting: [UInt32] = []
        var turns = 0 // the streams at the front of the queue that had their turn
        while made < Self.dataBatch, connectionSendWindow > 0, turns < sendQueue.count {
            let id = sendQueue[turns]
            turns += 1
            // Taken out of the table while it changes, so its arrays are not shared and change in place.
            guard var stream = streams.removeValue(forKey: id) else { continue }
            var finished = false
            while true {
                let size = min(stream.pendingCount, stream.sendWindow, connectionSendWindow, peerMaxFrameSize)
                guard size > 0 else { break } // its own window is shut: the others go on (a slow reader blocks only its stream)
                made += size
                finished = makeFrame(of: &stream, size: size, into: &out)
                // A stream alone in the queue makes its next frame at once: round-robin has no one else to
                // serve, and putting it back in the table to take it out again cost two hashes a frame.
                guard !finished, made < Self.dataBatch, turns == sendQueue.count, waiting.isEmpty else { break }
            }
            if finished { continue } // not put back: the stream is over
            streams[id] = stream
            if stream.pendingCount > 0 { waiting.append(id) } // its next frame comes after every other stream's turn
        }
        written = out
        if turns == sendQueue.count && waiting.isEmpty {
            sendQueue.removeAll(keepingCapacity: true) // the usual end: the next response reuses its storage
        } else {
            sendQueue = Array(sendQueue[turns...]) + waiting
        }
        if made == 0 { sendBlocked = true }
    }

    /// One DATA frame of `size` octets (the windows allow them) for `stream`, taken out of the table: its header
    /// into `out`, its payload copied behind it or handed out as a slice. Returns whether it ended the stream.
    private mutating func makeFrame(of stream: inout HTTP2Stream, size: Int, into out: inout [UInt8]) -> Bool {
        stream.sendWindow -= size
        connectionSendWindow -= size
        stream.pendingCount -= size
        let last = stream.pendingCount == 0
        HTTP2Frame.appendHeader(length: size, type: .data, flags: last ? HTTP2Flags.endStream : 0, streamID: stream.id, to: &out)
        var needed = size
        while needed > 0 {
            switch stream.pending[0] {
            case .bytes(let bytes, let offset):
                let take = min(needed, bytes.count - offset)
                if take >= Self.sharedPayloadMinimum {
                    // Handed out as a slice of the body, not copied behind its header: the driver writes
                    // header and payload together (a gathered write). Smaller pieces are copied: cheaper
                    // than one buffer more in the write.
                    if !out.isEmpty { outbox.append(.write(out)); out = [] }
                    outbox.append(.writeShared(bytes[offset..<(offset + take)]))
                } else {
                    out.append(contentsOf: bytes[offset..<(offset + take)])
                }
                stream.pending[0] = .bytes(bytes, offset: offset + take)
                needed -= take
            case .file(let path, let offset, let remaining):
                let take = min(needed, remaining)
                if !out.isEmpty { outbox.append(.write(out)); out = [] } // the frame's header, then its octets
                outbox.append(.sendFile(streamID: stream.id, path: path, offset: offset, length: take))
                stream.pending[0] = .file(path: path, offset: offset + take, remaining: remaining - take)
                needed -= take
            }
            if stream.pending[0].count == 0 { stream.pending.removeFirst() }
        }
        guard last else { return false }
        if stream.sendsFiles && !out.isEmpty { outbox.append(.write(out)); out = [] } // before `.streamEnded`
        endLocal(stream, into: &out)
        return true
    }

    /// Our side of the stream has ended (END_STREAM sent). A stream the client has ended too is closed; one
    /// still open (an early answer, a 413) is reset with NO_ERROR so the client stops sending (§8.1). The
    /// caller has taken `stream` out of the table already.
    private mutating func endLocal(_ stream: HTTP2Stream, into out: inout [UInt8]) {
        if stream.state == .open {
            Self.remember(stream.id, in: &resetStreams)
            out += rstStream(stream.id, .noError)
        }
        if stream.sendsFiles { outbox.append(.streamEnded(stream.id)) } // as `removeStream` says it
    }

    /// Forgets a stream; a driver that opened files for its body hears that it may let them go.
    private mutating func removeStream(_ streamID: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if stream.sendsFiles { outbox.append(.streamEnded(streamID)) }
    }

    // MARK: - Errors

    /// §5.4: a stream error resets the stream; a connection error sends GOAWAY and ends everything.
    private mutating func fail(_ error: HTTP2Error) {
        switch error.scope {
        case .stream(let id):
            removeStream(id)
            Self.remember(id, in: &resetStreams)
            send(rstStream(id, error.code))
        case .connection:
            send(goAway(error.code, debug: error.reason))
            enqueue(.close)
            for id in Array(streams.keys) { removeStream(id) }
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

/// A response header block to send again. HPACK's output depends only on the fields and the encoder's dynamic
/// table (RFC 7541 §2.3, §6): a block whose fields were all found in the tables left the table as it was, so
/// the next response with the same status, fields, date and length, while the table has not changed since,
/// encodes to the same octets. A server answers a hot file that way over and over, so the block is compared
/// (~100 instructions) and copied instead of encoded (each field lowercased, checked and looked up, ~2,000
/// for a file's seven fields).
private struct RepeatedBlock: Sendable {
    struct Key: Sendable, Equatable {
        /// The same fields. Mostly the very same array — a cached file's, shared by every response — which
        /// `==` sees at once; else (a middleware added a field, so the array is a copy) the same strings,
        /// which `==` sees by their storage, a comparison per string, not per octet.
        let fields: [HeaderField]
        let status: Int
        let bodyLength: Int
        let date: String?

        init(_ response: HTTPResponse, bodyLength: Int, date: String?) {
            fields = response.headers.fields
            status = response.status.code
            self.bodyLength = bodyLength
            self.date = date
        }
    }

    var key: Key
    /// `HPACKEncoder.tableVersion` when the block was encoded.
    let tableVersion: Int
    let octets: [UInt8]
}
