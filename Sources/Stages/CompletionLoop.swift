// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ --poller io_uring — the same stage on a completion loop instead of a readiness loop        │
// │                                                                                            │
// │ Changed since EventLoop.swift: the loop no longer asks "which sockets are ready?" and then │
// │ reads and writes itself. It hands the *work* to the kernel (CompletionRing, over io_uring) │
// │ and hears back when it is done:                                                            │
// │   who reads   — the kernel. One multishot receive per connection stays armed and completes │
// │                 each time bytes arrive; one multishot accept completes per new connection. │
// │   buffers     — the kernel picks a receive buffer from a shared pool (provided buffers)    │
// │                 only when bytes arrive; we feed them to HTTP1Connection, then recycle it.  │
// │                 A send's bytes belong to the kernel until its completion: a SendBuffer     │
// │                 that neither moves nor is freed before then. One send in flight at a time. │
// │                 A cached body over 16 KB is not copied: sent from its own array, which the │
// │                 SendBuffer holds until then.                                               │
// │   syscalls    — every request queued in a turn goes in with one io_uring_enter, which      │
// │                 also waits for the next completions.                                       │
// │   time        — a timeout request completes every 100 ms and runs the same sweep.          │
// │ The HTTP/1.1 machine, ResponseWriter and OutputQueue are EventLoop's, unchanged. A file of │
// │ more than a send buffer (64 KB) is the one thing the loop writes itself, with sendfile as  │
// │ EventLoop does (smaller: pread, then a send); when the socket is full, a poll request on   │
// │ the ring says when it has room: readiness, asked of a completion ring. The last answer     │
// │ before a close goes with MSG_MORE, so it leaves with the FIN, as on EventLoop.             │
// │ The router's needs are here too: streamed uploads (body consumers), /metrics counters, the │
// │ client's address and refusals for the access log; and the http2 stage's HTTP/2 slot, fed   │
// │ from the same receives (CompletionLoop+HTTP2.swift). Plain TCP only: no TLS, WebSocket or  │
// │ proxy on this loop.                                                                        │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import Glibc
import HTTPCore
import Sockets

/// A loop a stage runs on one thread until a stop signal: the readiness `EventLoop` or this one.
public protocol ServingLoop: AnyObject {
    func run() throws(SystemError)
}

extension EventLoop: ServingLoop {}

/// One thread, a completion ring: requests go to the kernel, completions come back.
public final class CompletionLoop: ServingLoop {
    /// What a completion answers, kept in the low byte of its tag; the connection's id is above it.
    enum Kind: UInt64 { case accept = 1, receive, send, tick, closing, writable }

    /// One client connection: what the loop remembers between completions.
    final class Client {
        let socket: Socket
        let id: UInt64
        /// The protocol slot. Every connection starts with HTTP/1.1; on the http2 stage the HTTP/2 preface (or
        /// `Upgrade: h2c`) sets `http2`, and from then on `http1` is not used again (CompletionLoop+HTTP2.swift).
        var http1: HTTP1Connection
        var http2: HTTP2Connection?
        /// Whether `http2` is set (`switchToHTTP2`), asked on every completion: `http2 != nil` copies the optional
        /// machine out to look (callgrind: ~50 instructions a request on the HTTP/1.1 path, where it is always no).
        private(set) var speaksHTTP2 = false
        /// HTTP/2: the client sent FIN. What is queued, and what the windows still allow, is sent; then the
        /// connection closes (`allSent`). No receive is armed again.
        var inputEnded = false
        /// Whether the output is over the loop's limit: no more actions are taken and no more bytes received
        /// until the client takes some. HTTP/2 counts queued file octets too (`process` stops on them), or a
        /// client reading a large file slowly would have its frames received, unparsed, without bound.
        func outputIsFull(_ limit: Int) -> Bool {
            (speaksHTTP2 ? output.queuedBytes : output.bufferedBytes) >= limit
        }
        /// HTTP/2: the files opened for each stream's body, held until the machine says the stream ended.
        var http2Files: [UInt32: [String: SharedFile]] = [:]
        /// The http2 stage: a connection's first bytes while they could still be either protocol.
        var prefaceProbe: [UInt8] = []
        var output = OutputQueue()
        /// The send in flight, if any: its bytes are the kernel's until it completes.
        var sending: SendBuffer?
        /// A file answer the loop writes itself filled the socket's buffer: a poll request is armed and
        /// completes when there is room (`writeDirectly`).
        var awaitingWritable = false
        /// Bytes are on their way out (a send in flight, or a direct write waiting for room): nothing else may
        /// be written on this connection until that ends, or the order of the bytes would break.
        var isWriting: Bool { sending != nil || awaitingWritable }
        /// A multishot receive is armed (or its last completion has not arrived yet).
        var receiving = false
        var ending: Connection.Ending?
        var lingering = false
        var bytesDiscarded = 0
        var noDelay = false
        /// Closed: nothing more may be submitted for its descriptor, which the kernel may give to a new client.
        var closed = false
        var deadline: Double
        var headStartedAt: Double?
        /// An upload streaming to disk (or wherever the router's `bodyConsumers` sends it), between its
        /// head and the end of its body.
        var bodyConsumer: (any BodyConsumer)?
        /// The peer's address, for the access log (`Options.recordsRemoteAddress`).
        var remoteAddress: String?
        /// When the request being answered arrived, for its duration in /metrics.
        var requestStartedAt: Double?

        /// The slot changes hands, before any HTTP/1.1 request or after the 101 of `Upgrade: h2c`.
        func switchToHTTP2(_ machine: consuming HTTP2Connection) {
            http2 = machine
            speaksHTTP2 = true
        }

        init(socket: Socket, id: UInt64, http1: HTTP1Connection, now: Double) {
            self.socket = socket
            self.id = id
            self.http1 = http1
            deadline = now
            headStartedAt = now // a connection that sends nothing is held to the header timeout too
        }
    }

    let listener: Socket
    let ring: CompletionRing
    let options: EventLoop.Options
    let handler: Handler
    /// Streams a request's body to a consumer (the router's uploads) instead of collecting it (nil: collect).
    let bodyConsumers: BodyConsumerFactory?
    /// This loop's counters for `GET /metrics` (nil when metrics are off).
    let metrics: LoopMetrics?
    private let policy: HTTP1Connection.Policy
    var writer = ResponseWriter()
    /// Open connections by id (ids are never reused, so a late completion of a closed one finds nothing).
    private var clients: [UInt64: Client] = [:]
    private var nextID: UInt64 = 1
    /// Send buffers not in use, kept for the next send.
    private var spareBuffers: [SendBuffer] = []
    /// The buffers of sends still in flight when their connection closed, by connection id: the kernel
    /// may read them until the send's completion (cancelled, or done) arrives.
    private var orphanedSends: [UInt64: SendBuffer] = [:]
    /// Closed connections' request Strings, for the next ones accepted (as EventLoop's `spareStrings`).
    private var spareStrings: [RepeatedStrings] = []
    private var acceptPausedUntil: Double?
    private(set) var drainingUntil: Double?
    var now = Processes.monotonicSeconds()

    /// Fails as the ring does when io_uring is not available (see `CompletionRing.init`).
    public init(listener: Socket, options: EventLoop.Options, bodyConsumers: BodyConsumerFactory? = nil,
                handler: @escaping Handler) throws(SystemError) {
        self.listener = listener
        self.ring = try CompletionRing()
        self.options = options
        self.handler = handler
        self.bodyConsumers = bodyConsumers
        metrics = options.metrics?.register()
        policy = HTTP1Connection.Policy(keepAlive: options.keepAlive, maxRequests: options.maxRequestsPerConnection,
                                        streamsBodies: bodyConsumers != nil, limits: options.limits)
    }

    static func tag(_ id: UInt64, _ kind: Kind) -> UInt64 { id << 8 | kind.rawValue }

    /// Throws, named for the flag, when io_uring cannot be used here (a kernel without it, or disabled).
    public static func checkAvailable() throws(SystemError) {
        if let reason = CompletionRing.unavailableReason() {
            throw SystemError("--poller io_uring: \(reason.call)", errno: reason.errno)
        }
    }

    // MARK: - The loop

    public func run() throws(SystemError) {
        ring.acceptMultishot(listener.fd, tag: Self.tag(0, .accept))
        ring.timeout(milliseconds: 100, tag: Self.tag(0, .tick))
        var completions: [Completion] = []
        while true {
            if StopSignal.isRequested && drainingUntil == nil { startDraining() }
            if let until = drainingUntil, clients.isEmpty || now >= until { break }
            try ring.submitAndWait(into: &completions) // one io_uring_enter: submit the queued requests, wait
            now = Processes.monotonicSeconds()
            for completion in completions {
                let id = completion.tag >> 8
                switch Kind(rawValue: completion.tag & 0xff) {
                case .accept?: accepted(completion)
                case .receive?: received(completion, on: clients[id])
                case .send?: sent(completion, on: clients[id], id: id)
                case .writable?: writable(completion, on: clients[id])
                case .tick?:
                    closeExpired()
                    resumeAcceptIfPaused()
                    options.onTick?()
                    ring.timeout(milliseconds: 100, tag: Self.tag(0, .tick))
                case .closing?, nil: break // a failed cancel or close of a connection already forgotten
                }
            }
        }
        for client in Array(clients.values) { close(client) }
        _ = try? ring.submitAndWait(into: &completions)
    }

    /// A stop signal: accept no more, close idle connections, let the others finish for `drainTimeout`.
    private func startDraining() {
        drainingUntil = now + options.drainTimeout
        ring.cancelAndClose(listener.fd, tag: Self.tag(0, .closing))
        for client in Array(clients.values) {
            if client.speaksHTTP2 {
                client.http2?.stopAccepting() // GOAWAY: streams in flight finish, no new ones
                process(client) // sent now, even to an idle connection
                continue
            }
            client.http1.stopKeepingAlive()
            // A first line still held by the http2 stage's probe is a request arriving, not an idle connection.
            if client.http1.isBetweenRequests && client.prefaceProbe.isEmpty && client.output.isEmpty && !client.isWriting {
                close(client)
            }
        }
    }

    // MARK: - Accepting: one completion per new connection

    private func accepted(_ completion: Completion) {
        if !completion.more && drainingUntil == nil {
            // The multishot accept ended (an error such as EMFILE ends it): arm it again, or after 100 ms
            // when out of descriptors, so that a full descriptor table does not spin the loop.
            let error = SystemError("accept (io_uring)", errno: -completion.result)
            if completion.result < 0 && error.isOutOfResources {
                Console.error("\(error); pausing accept for 100 ms")
                acceptPausedUntil = now + 0.1
            } else {
                ring.acceptMultishot(listener.fd, tag: Self.tag(0, .accept))
            }
        }
        guard completion.result >= 0 else { return }
        let http1 = HTTP1Connection(policy: policy, strings: spareStrings.popLast() ?? RepeatedStrings())
        let client = Client(socket: Socket(fd: completion.result), id: nextID, http1: http1, now: now)
        nextID += 1
        clients[client.id] = client
        if options.recordsRemoteAddress { client.remoteAddress = try? client.socket.remoteAddress().host }
        metrics?.add(LoopMetrics.Slot.connectionsOpened)
        rearm(client)
        receive(client)
    }

    private func resumeAcceptIfPaused() {
        guard let until = acceptPausedUntil, now >= until, drainingUntil == nil else { return }
        acceptPausedUntil = nil
        ring.acceptMultishot(listener.fd, tag: Self.tag(0, .accept))
    }

    // MARK: - Receiving: the kernel has already read the bytes

    private func receive(_ client: Client) {
        guard !client.receiving, !client.closed, !client.inputEnded else { return }
        client.receiving = true
        ring.receiveMultishot(client.socket.fd, tag: Self.tag(client.id, .receive))
    }

    private func received(_ completion: Completion, on client: Client?) {
        // The buffer goes back to the pool whatever happens to the bytes: the parser copies what it keeps.
        defer { if let buffer = completion.buffer { ring.recycle(buffer) } }
        guard let client else { return } // closed meanwhile
        if !completion.more { client.receiving = false }
        let count = Int(completion.result)
        if client.lingering { // after an error response: throw away what arrives until the client closes
            client.bytesDiscarded += max(count, 0)
            if count <= 0 || client.bytesDiscarded > 1 << 20 { close(client) } else { receive(client) }
            return
        }
        if count > 0, let buffer = completion.buffer {
            metrics?.add(LoopMetrics.Slot.bytesIn, count)
            let bytes = ring.bytes(in: buffer, count: count)
            if client.speaksHTTP2 {
                client.http2?.receive(bytes)
            } else if options.http2 && client.http1.requestsAnswered == 0 && client.http1.timerState().phase == .idle {
                probePreface(client, bytes) // the first bytes decide: HTTP/2's preface, or HTTP/1.1
            } else {
                client.http1.receive(bytes)
            }
            process(client)
        } else if count == 0 {
            if client.speaksHTTP2 {
                // No more frames will come, not even a body's WINDOW_UPDATEs. The answers queued, and the DATA the
                // windows still allow, go out first (the receive completion with the FIN often arrives in the turn
                // that brought the requests); `allSent` closes. (EventLoop reads only with its output sent.)
                client.inputEnded = true
                process(client)
                return
            }
            handOverUnfinishedFirstLine(client)
            client.http1.receiveEnd() // the peer sent FIN: answer what it sent completely, then close
            process(client)
            return
        } else if completion.result == -ECANCELED || completion.result == -ENOBUFS || completion.result == -EAGAIN {
            // Cancelled because our output is over its limit (`process`), or the buffer pool ran dry, or (a
            // nonblocking socket, rarely) the kernel ran the receive on a worker thread that found nothing:
            // armed again below when there is room.
        } else {
            close(client) // ECONNRESET and friends: the client is gone
            return
        }
        if !client.receiving && !client.outputIsFull(options.maxBufferedOutput) && client.ending == nil {
            receive(client)
        }
    }

    /// Does what the protocol machine says until it needs more bytes, while the queued output stays under
    /// the limit; then starts a send. Over the limit, receiving stops until the client takes its answers.
    func process(_ client: Client) {
        if client.speaksHTTP2 {
            // DATA is made as it is asked for: files queued count too, so a big body waits for the client.
            while client.ending == nil && !client.closed && client.output.queuedBytes < options.maxBufferedOutput,
                  let action = client.http2?.nextAction() {
                perform(action, on: client)
            }
        } else {
            while client.ending == nil && client.output.bufferedBytes < options.maxBufferedOutput,
                  let action = client.http1.nextAction() {
                perform(action, on: client)
            }
        }
        if client.receiving && !client.closed && client.outputIsFull(options.maxBufferedOutput) {
            ring.cancel(Self.tag(client.id, .receive), tag: Self.tag(client.id, .closing))
        }
        // While bytes are on their way out, the write timeout stands as the last progress set it: bytes
        // arriving must not move it, or a client that never reads but sends a byte now and then would hold
        // its answer (and a file) open for ever. EventLoop gets the same by not reading while it waits.
        if !client.isWriting { rearm(client) }
        send(client)
    }

    private func perform(_ action: consuming HTTP1Connection.Action, on client: Client) {
        switch consume action {
        case .request(let request):
            respond(to: request, on: client)
        case .head(var head):
            // A body follows: stream it to a consumer (an upload), or collect it for the handler.
            client.requestStartedAt = now
            head.remoteAddress = client.remoteAddress
            let consumer = bodyConsumers?(head) ?? CollectingConsumer(head, handler)
            if consumer.answersBeforeBody {
                answer(consumer.finish(), answering: AnsweredRequest(head), on: client) // refused on its head
            } else {
                client.bodyConsumer = consumer
            }
        case .body(let bytes):
            client.bodyConsumer?.consume(bytes)
        case .bodyEnd(var head):
            head.remoteAddress = client.remoteAddress
            let consumer = client.bodyConsumer ?? CollectingConsumer(head, handler)
            client.bodyConsumer = nil
            answer(consumer.finish(), answering: AnsweredRequest(head), on: client)
        case .rejected(let error):
            abortUpload(client)
            let response = HTTPResponse.error(error)
            options.onRefusal?(response, client.remoteAddress)
            answer(response, answering: .noRequest, on: client)
        case .write(let bytes):
            client.output.append(bytes) // 100 Continue
        case .close:
            client.ending = .close
        case .lingeringClose:
            client.ending = .linger
        case .sendFile, .stream, .switchProtocols:
            break // only `respond` produces these, and `answer` handles them
        }
    }

    /// Calls the handler for a request without a body. The request moves into the handler; what the answer
    /// needs of it (`AnsweredRequest`) is taken first, as on EventLoop.
    private func respond(to request: consuming HTTPRequest, on client: Client) {
        request.remoteAddress = client.remoteAddress
        if options.http2, let settings = H2CUpgrade.settings(in: request) {
            upgradeToHTTP2(client, request: request, settings: settings) // `Upgrade: h2c` (curl --http2)
            return
        }
        client.requestStartedAt = now
        let asked = AnsweredRequest(request)
        answer(handler(consume request), answering: asked, on: client)
    }

    private func abortUpload(_ client: Client) {
        client.bodyConsumer?.abort()
        client.bodyConsumer = nil
    }

    private func answer(_ response: HTTPResponse, answering request: AnsweredRequest, on client: Client) {
        if let metrics {
            metrics.record(request.isRequest ? request.method : nil, status: response.status.code,
                           seconds: Processes.monotonicSeconds() - (client.requestStartedAt ?? now))
            client.requestStartedAt = nil
        }
        // No WebSocket endpoints on this loop: a 101 ends the connection, as on EventLoop without them.
        switch writer.queue(response, answering: request, on: &client.http1, into: &client.output) {
        case .close?, .switchProtocols?: client.ending = .close
        case .lingeringClose?: client.ending = .linger
        default: break
        }
    }

    // MARK: - Sending: at most one send in flight per connection

    private func send(_ client: Client) {
        guard !client.isWriting, !client.closed else { return }
        guard !client.output.isEmpty else { return allSent(client) }
        if client.output.fileBytes > SendBuffer.size { return writeDirectly(client) }
        // HTTP/2: more than a send buffer of frames is a large body's DATA, its payloads slices of the cached
        // body between 9-octet headers. Copied into send buffers they left one 64 KB send at a time (100 KB,
        // ten streams: 14–19k requests a second against 38–40k on EventLoop); gathered in one `writev`, as
        // EventLoop writes them, nothing is copied.
        if client.speaksHTTP2 && client.output.bufferedBytes > SendBuffer.size { return writeDirectly(client) }
        let buffer = spareBuffers.popLast() ?? SendBuffer()
        if let (head, body) = client.output.takeHeadAndOwnBody(headLimit: buffer.capacity) {
            // A large body in an array of its own (a cached file): the head is copied, the body is sent from
            // where it lies (copying 100 KB cost more than the rest of the answer), in one sendmsg.
            head.withUnsafeBytes { _ = try? buffer.write($0, more: true) }
            buffer.attach(body)
        } else {
            do {
                _ = try client.output.flush(to: buffer) // copies what fits; a small file is read in (pread)
            } catch {
                close(client)
                return
            }
        }
        // A head copied whole into the send buffer: its array is written again for a later head, not held
        // by an idle connection.
        if let spent = client.output.takeSpent() { writer.recycle(spent) }
        client.sending = buffer
        submitSend(of: buffer, on: client)
        rearm(client)
    }

    /// Hands what `buffer` has not sent yet to the kernel: a send, or a sendmsg when a body is attached.
    /// Before a close or a lingering close, with MSG_MORE: the last bytes wait for the FIN that `close` (or
    /// `shutdownWrite`) adds a moment later and leave with it in one segment, and a large answer leaves in
    /// full segments (EventLoop gets the same from `finFollows`). 13 B `Connection: close`: 10 TCP segments
    /// a request on loopback, both ways, became 8, as on EventLoop.
    private func submitSend(of buffer: SendBuffer, on client: Client) {
        let (copied, attached) = buffer.unsentPieces
        let more = client.ending != nil
        if attached.isEmpty {
            ring.send(client.socket.fd, copied, more: more, tag: Self.tag(client.id, .send))
        } else {
            ring.send(client.socket.fd, copied, attached, scratch: buffer.scratch, more: more, tag: Self.tag(client.id, .send))
        }
    }

    private func sent(_ completion: Completion, on client: Client?, id: UInt64) {
        guard let client, let buffer = client.sending else {
            orphanedSends[id] = nil // its connection closed meanwhile: now the buffer can go
            return
        }
        if completion.result == -EAGAIN {
            // The socket is nonblocking (for `writeDirectly`), and a send the kernel gave to a worker thread
            // (rare: after many retries) answers EAGAIN instead of waiting: wait for room, then send the rest.
            awaitWritable(client)
            return
        }
        guard completion.result > 0 else {
            close(client) // EPIPE, ECONNRESET: the client left mid-response
            return
        }
        metrics?.add(LoopMetrics.Slot.bytesOut, Int(completion.result))
        buffer.sent += Int(completion.result)
        if buffer.sent < buffer.total {
            submitSend(of: buffer, on: client) // a short send: the rest
            return
        }
        client.sending = nil
        buffer.reset()
        if spareBuffers.count < 64 { spareBuffers.append(buffer) }
        written(client)
    }

    /// What was on its way out has left: go on with requests held back by the output limit, or the next send.
    private func written(_ client: Client) {
        if !client.outputIsFull(options.maxBufferedOutput) && client.ending == nil {
            receive(client) // if it was stopped at the limit
            process(client) // requests held back by the limit; then the next send
        } else {
            send(client)
        }
    }

    /// An answer with more than a send buffer of file on disk (`SendBuffer.size`; smaller files go through the
    /// ring, read in with pread): written here, as EventLoop writes it, the head with `send` and the file with
    /// `sendfile`, which gives the socket the page cache's pages where a send on the ring would need the file's
    /// bytes in memory and copy them into the socket (100 KB, `Connection: close`, c100: 39.5 µs of CPU a
    /// request that way, 32.6 with sendfile). No send is in flight (`send`'s guard), so the bytes keep their
    /// order. When the socket's buffer is full, a poll request on the ring says when it has room again.
    private func writeDirectly(_ client: Client) {
        _ = client.output.takeSentBytes() // copies into send buffers were counted as their sends completed
        let filesQueued = client.output.fileBytes
        let done: Bool
        do {
            done = try client.output.flush(to: TCPTransport(client.socket), finFollows: client.ending != nil,
                                           fileBudget: OutputQueue.fileBytesPerFlush) // then the others' turn
        } catch {
            close(client) // EPIPE, ECONNRESET: the client left mid-response
            return
        }
        if let spent = client.output.takeSpent() { writer.recycle(spent) }
        metrics?.add(LoopMetrics.Slot.bytesOut, client.output.takeSentBytes() + filesQueued - client.output.fileBytes)
        guard done else {
            awaitWritable(client)
            return
        }
        written(client)
    }

    /// The socket's buffer is full: a poll request completes when it has room (`writable`).
    private func awaitWritable(_ client: Client) {
        client.awaitingWritable = true
        ring.pollWritable(client.socket.fd, tag: Self.tag(client.id, .writable))
        rearm(client) // the write timeout, from now (a socket fills again only after the client took some)
    }

    private func writable(_ completion: Completion, on client: Client?) {
        guard let client, client.awaitingWritable else { return } // closed meanwhile
        client.awaitingWritable = false
        guard completion.result > 0 else {
            close(client)
            return
        }
        // POLLERR or POLLHUP among the events: the write fails and closes the connection.
        if let buffer = client.sending {
            submitSend(of: buffer, on: client) // a send that answered EAGAIN (`sent`): the rest of it
        } else {
            writeDirectly(client)
        }
    }

    /// Everything queued has been sent: end the connection as the machine said, or go on with the next request.
    private func allSent(_ client: Client) {
        switch client.ending {
        case .close?:
            // A file written directly before a close was corked (`OutputQueue.flush`): `shutdown` sends its last
            // segment with the FIN at once, where a close with client bytes unread would reset and drop it.
            if client.output.corked { client.socket.shutdownWrite() }
            close(client) // the FIN leaves with the last bytes, which MSG_MORE held for it (`submitSend`)
        case .linger?:
            guard !client.lingering else { return }
            if client.inputEnded { return close(client) } // HTTP/2: the client's FIN came already, nothing to read
            client.socket.shutdownWrite() // FIN; what the client still sends is read and thrown away
            client.lingering = true
            client.deadline = now + options.lingerTimeout
            receive(client)
        case nil where client.inputEnded:
            close(client) // HTTP/2 after the client's FIN: everything that could be sent has been
        case nil:
            if !client.noDelay { // as EventLoop: only a connection that stays open pays for it
                try? client.socket.setNoDelay()
                client.noDelay = true
            }
            rearm(client) // from the write timeout back to the idle or header timeout
        }
    }

    // MARK: - Time: the same rules as EventLoop's

    private func rearm(_ client: Client) {
        guard !client.lingering else { return }
        if !client.output.isEmpty || client.isWriting {
            client.deadline = now + options.writeTimeout
            return
        }
        // HTTP/2 is idle or busy, never half-way through a head (HEADERS come whole): the idle timeout.
        let (phase, answered) = client.speaksHTTP2 ? (.idle, 1) : client.http1.timerState()
        client.deadline = options.http1Deadline(phase: phase, answered: answered, headStartedAt: &client.headStartedAt, now: now)
    }

    /// Closes connections past their deadline; one in the middle of a request head or body gets 408 first.
    private func closeExpired() {
        for client in Array(clients.values) where now >= client.deadline {
            handOverUnfinishedFirstLine(client)
            if client.speaksHTTP2, !client.lingering, client.ending == nil, !client.isWriting, client.output.isEmpty {
                // HTTP/2 says goodbye with GOAWAY (§6.8): the client learns that no stream was lost and why.
                client.http2?.shutDown(reason: "idle for \(Seconds.text(options.idleTimeout))")
                process(client) // the GOAWAY, then `.close` ends it once sent
                client.deadline = now + options.lingerTimeout
                continue
            }
            let phase = client.http1.phase
            if !client.lingering, client.ending == nil, !client.isWriting, client.output.isEmpty,
               phase == .readingHead || phase == .readingBody {
                let response = HTTPResponse.error(RequestError(.requestTimeout, options.timeoutReason(phase)))
                options.onRefusal?(response, client.remoteAddress)
                answer(response, answering: .noRequest, on: client)
                client.ending = .close
                send(client)
                client.deadline = now + options.lingerTimeout // a client that does not take the 408 is cut off
                continue
            }
            close(client)
        }
    }

    func close(_ client: Client) {
        guard !client.closed else { return }
        client.closed = true
        clients[client.id] = nil
        metrics?.add(LoopMetrics.Slot.connectionsClosed)
        abortUpload(client) // an upload cut short leaves no partial file
        client.output.discard()
        if spareStrings.count < EventLoop.maxSpareStrings { spareStrings.append(client.http1.takeStrings()) }
        // Its pending receive and its pending write (a poll for room or a send, never both) are cancelled,
        // then the descriptor is closed; their completions find no client. A send's buffer is kept until that
        // send's own completion says the kernel is done with it.
        let writing = client.awaitingWritable ? Self.tag(client.id, .writable)
            : client.sending != nil ? Self.tag(client.id, .send) : nil
        ring.cancelAndClose(client.socket.fd, requests: client.receiving ? Self.tag(client.id, .receive) : nil,
                            writing, tag: Self.tag(client.id, .closing))
        if let buffer = client.sending, !client.awaitingWritable { orphanedSends[client.id] = buffer }
        client.sending = nil
        client.awaitingWritable = false
    }
}

/// The bytes of one send in flight, at a fixed address: the kernel reads them after `send` returns, until
/// the completion. OutputQueue fills it through the `Transport` protocol, as it would write to a socket:
/// `write` copies what fits, and a full buffer answers "would block".
///
/// A large body that is an array of its own (a cached file's bytes) is not copied: `attach` keeps the array
/// here, and the kernel reads it where it lies. A Swift array's storage is a heap object that never moves;
/// held by this reference and never mutated (a change through another copy copies it first), it stays at
/// that address, alive, until `reset` lets it go after the send's completion.
final class SendBuffer: Transport {
    /// A send's worth: past it, files go with sendfile (`CompletionLoop.writeDirectly`); up to it, one pread
    /// into this buffer and one send cost less than a send, a sendfile, and before a close a cork and a
    /// shutdown (the eventloop stage, which caches nothing, 13 B with `Connection: close`: 27–30 µs of CPU a
    /// request that way, 32–36 with sendfile).
    static let size = 64 * 1024
    let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: SendBuffer.size, alignment: 16)
    /// Where a sendmsg's header and iovecs are written, for as long as the kernel may read them.
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: CompletionRing.sendTwoScratchSize, alignment: 16)
    /// Bytes filled, and bytes the kernel has taken of them and of the attached body.
    private(set) var count = 0
    var sent = 0
    private var body: [UInt8] = []
    private var bodyStart: UnsafeRawPointer?

    deinit {
        memory.deallocate()
        scratch.deallocate()
    }

    var capacity: Int { memory.count }
    /// The copied bytes and the attached body, together.
    var total: Int { count + body.count }

    /// What is left to send: the rest of the copied bytes, then the rest of the attached body.
    var unsentPieces: (copied: UnsafeRawBufferPointer, attached: UnsafeRawBufferPointer) {
        let copied = UnsafeRawBufferPointer(rebasing: memory[min(sent, count)..<count])
        let bodySent = max(sent - count, 0)
        let attached = UnsafeRawBufferPointer(start: bodyStart.map { $0 + bodySent }, count: body.count - bodySent)
        return (copied, attached)
    }

    /// Sends `body` after the copied bytes, from its own storage.
    func attach(_ body: [UInt8]) {
        self.body = body
        bodyStart = self.body.withUnsafeBytes { $0.baseAddress } // the storage's address: see the type's comment
    }

    func reset() {
        count = 0
        sent = 0
        body = []
        bodyStart = nil
    }

    var socket: Socket { Socket(fd: -1) } // never read: this transport ends in memory
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> { .wouldBlock }

    func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        let taken = min(bytes.count, memory.count - count)
        guard taken > 0 else { return .wouldBlock }
        (memory.baseAddress! + count).copyMemory(from: bytes.baseAddress!, byteCount: taken)
        count += taken
        return .done(taken)
    }

    /// nil: OutputQueue reads the file (pread) and writes its bytes here. Only small files come this way;
    /// larger ones the loop sends itself (`CompletionLoop.writeDirectly`).
    func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? { nil }
    func shutdownWrite() {}
    func close() {}
}
