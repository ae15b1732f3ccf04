import Glibc
import HTTPCore
import Sockets

/// A handler turns a request into a response. It must not block: on an event loop, a handler that
/// waits makes every other connection wait with it.
///
/// The handler takes the request as its own (`consuming`): a caller done with it moves it in, and the router
/// keeps it in its `RoutedRequest` without a copy (a copy retains its strings and arrays and releases them
/// after: about 340 instructions a request, callgrind). A caller that still needs it passes a copy, as before.
public typealias Handler = @Sendable (consuming HTTPRequest) -> HTTPResponse

/// One thread, nonblocking sockets, a readiness loop: the design of nginx, Node.js and Tokio.
///
/// The loop only moves bytes and keeps time. It asks the poller which sockets are ready; for a readable
/// one it reads what arrived and hands it to the connection's protocol machine (HTTP/1.1, in
/// `HTTPCore`), then does what the machine says — call the handler, queue output, close; for a writable
/// one it sends what fits. Nothing ever blocks, so one thread serves thousands of connections.
public final class EventLoop {
    public struct Options: Sendable {
        /// Keep connections open between requests (the keepalive stage) or close after each response.
        public var keepAlive = false
        /// Seconds a client has to send a complete request head once it started one (slowloris defence).
        public var headerTimeout = 10.0
        /// Seconds a kept-alive connection may sit idle between requests, and a body may stall.
        public var idleTimeout = 30.0
        /// Seconds a slow reader may go without taking any of our output.
        public var writeTimeout = 60.0
        /// Seconds a connection lingers after an error response, discarding what the client still sends.
        public var lingerTimeout = 2.0
        /// Requests served on one connection before it is closed (0: no limit).
        public var maxRequestsPerConnection = 0
        /// Stop reading (and parsing pipelined requests) while this many bytes wait to be sent.
        public var maxBufferedOutput = 256 * 1024
        public var limits = RequestLimits()
        /// Record each client's address in `HTTPRequest.remoteAddress` (one getpeername per connection).
        public var recordsRemoteAddress = false
        /// Called about every 100 ms on the loop's thread (to flush a buffered log, say).
        public var onTick: (@Sendable () -> Void)?
        /// Called with every error the loop answers by itself (a request the parser refused, 408), and the
        /// client's address when recorded: the access log sees what never reached a handler.
        public var onRefusal: (@Sendable (HTTPResponse, _ remoteAddress: String?) -> Void)?
        /// The largest WebSocket message accepted (close 1009 beyond it).
        public var maxMessageBytes = 16 << 20
        /// Seconds a WebSocket peer may stay quiet before it is pinged, and then before it is closed as dead.
        public var pingInterval = 30.0
        public var pongTimeout = 10.0
        /// TLS for every connection (nil: plain TCP). A TLS port speaks only TLS.
        public var tls: TLSContext?
        /// Serve HTTP/2 too (the http2 stage): to a client that starts with the HTTP/2 preface (prior
        /// knowledge, RFC 9113 §3.3) or that chose `h2` with ALPN over TLS (§3.2).
        public var http2 = false
        /// With `http2`: HTTP/2 only (`--http2-only`). The first bytes go to an HTTP2Connection whatever they
        /// are, so an HTTP/1.1 request is an invalid preface (§3.4); over TLS, a client without ALPN `h2` is
        /// closed (§3.2).
        public var http2Only = false
        /// After SIGTERM or SIGINT: seconds that requests in flight (an upload, a slow download) get to
        /// finish before the loop closes them and returns.
        public var drainTimeout = 5.0
        /// Counters for `GET /metrics` (nil: none kept); each loop registers its own.
        public var metrics: MetricsRegistry?
        /// The proxy stage: requests go to these upstreams instead of the handler (EventLoop+Proxy.swift).
        public var proxy: ProxyConfiguration?

        public init() {}

        /// The options a stage's configuration sets: its timeouts, request limits and per-connection cap.
        public init(_ configuration: ServerConfiguration, keepAlive: Bool) {
            self.keepAlive = keepAlive
            headerTimeout = configuration.headerTimeout
            idleTimeout = configuration.idleTimeout
            maxRequestsPerConnection = configuration.maxRequestsPerConnection
            limits = configuration.limits
            tls = configuration.tls
        }
    }

    let listener: Socket
    let poller: any Poller
    let handler: Handler
    let options: Options
    let wake: FileDescriptor?
    let bodyConsumers: BodyConsumerFactory?
    /// WebSocket endpoints by path: a `101 Switching Protocols` to one of these paths hands the connection
    /// to a WebSocket machine whose messages go to the endpoint.
    let webSockets: [String: any WebSocketEndpoint]
    private let policy: HTTP1Connection.Policy
    var writer = ResponseWriter()
    /// Connections by descriptor (a table indexed by the descriptor's number).
    private var connections = ConnectionTable()
    /// One read buffer for every connection: an idle connection costs no buffer at all.
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// Closed connections' request Strings (`RepeatedStrings`), for the next connections accepted: their first
    /// request finds the `Host`, path and field names a client sends on every connection already made, as a
    /// keep-alive connection's second request does (making them cost ~800 instructions per connection).
    private var spareStrings: [RepeatedStrings] = []
    /// Closed connections' Strings kept for later ones, at most (CompletionLoop keeps as many).
    static let maxSpareStrings = 64
    private var listenerPausedUntil: Double?
    private var warnedAboutCapacity = false
    /// Set when a stop signal arrived: no new connections, no keep-alive, finish what is in flight.
    private(set) var drainingUntil: Double?
    /// Connections that were given output from outside their own events (a chat message from another
    /// member): written after the current event, so one connection's event never runs inside another's.
    var flushQueue: [Connection] = []
    var nextPeerID = 0
    /// This loop's counters (nil when metrics are off), and the time of the current wake-up, which a
    /// request's duration is measured from (no extra clock read per request).
    let metrics: LoopMetrics?
    var metricsNow = 0.0
    /// The proxy stage's upstreams, pools and exchanges (nil on every other stage).
    let proxy: ProxyState?

    public init(listener: Socket, poller: any Poller, options: Options, wake: FileDescriptor? = nil,
                bodyConsumers: BodyConsumerFactory? = nil, webSockets: [String: any WebSocketEndpoint] = [:],
                handler: @escaping Handler) {
        self.webSockets = webSockets
        self.listener = listener
        self.poller = poller
        self.options = options
        self.wake = wake
        self.bodyConsumers = bodyConsumers
        self.handler = handler
        policy = HTTP1Connection.Policy(keepAlive: options.keepAlive, maxRequests: options.maxRequestsPerConnection,
                                        streamsBodies: bodyConsumers != nil, limits: options.limits)
        let metrics = options.metrics?.register()
        self.metrics = metrics
        proxy = options.proxy.map { ProxyState($0, metrics: metrics) }
    }

    // MARK: - The loop

    public func run() throws(SystemError) {
        try listener.setNonBlocking()
        try poller.add(listener.fd, .read)
        if let wake { try poller.add(wake.fd, .read) }
        var events: [ReadinessEvent] = []
        var lastSweep = Processes.monotonicSeconds()

        while true {
            if StopSignal.isRequested && drainingUntil == nil { startDraining() }
            if let until = drainingUntil, connections.isEmpty || Processes.monotonicSeconds() >= until { break }
            try poller.wait(timeoutMilliseconds: 100, into: &events)
            let now = Processes.monotonicSeconds()
            metricsNow = now
            for event in events {
                if event.fd == listener.fd {
                    acceptPending(now: now)
                } else if let upstream = proxy?.upstreams[event.fd] {
                    handleUpstream(upstream, event, now: now)
                } else if let connection = connections[event.fd] {
                    if event.writable && !connection.output.isEmpty { flush(connection, now: now) }
                    if event.writable && connection.output.isEmpty && connection.tls?.readWantsWrite == true {
                        setInterest(connection, .read)
                        read(connection, now: now) // the TLS handshake can go on now that the socket takes bytes
                    }
                    if event.readable || event.hangup {
                        if connection.lingering { discardInput(connection) }
                        else if connection.output.isEmpty && connection.ending == nil { read(connection, now: now) }
                    }
                }
                flushScheduled(now: now)
            }
            if now - lastSweep >= 0.1 {
                closeExpired(now: now)
                flushScheduled(now: now)
                if drainingUntil == nil { resumeListenerIfPaused(now: now) }
                options.onTick?()
                lastSweep = now
            }
        }
        for connection in Array(connections.values) { close(connection) }
        proxy?.closeAll(poller)
        if drainingUntil == nil { listener.close() }
    }

    /// A stop signal arrived: stop accepting, close connections that are between requests, and let the
    /// ones in the middle of a request or a response finish (with `Connection: close`), for at most
    /// `drainTimeout` seconds.
    private func startDraining() {
        drainingUntil = Processes.monotonicSeconds() + options.drainTimeout
        poller.remove(listener.fd)
        listener.close()
        if let wake { poller.remove(wake.fd) } // it stays readable: watching it would spin the loop
        for connection in Array(connections.values) {
            // A WebSocket peer hears why (1001 going away) and answers with its close frame.
            connection.webSocketPeer?.close(code: 1001, reason: "the server is shutting down")
            if connection.http2 != nil {
                connection.http2?.stopAccepting() // GOAWAY: streams in flight finish, no new ones
                process(connection, now: Processes.monotonicSeconds()) // send it now, even to an idle connection
                continue
            }
            connection.http1?.stopKeepingAlive()
            // A first line still held by the http2 stage's probe is a request arriving, not an idle connection.
            let idle = (connection.http1?.isBetweenRequests ?? false) && connection.prefaceProbe.isEmpty
            if idle && connection.output.isEmpty { close(connection) }
        }
        flushScheduled(now: Processes.monotonicSeconds())
    }

    // MARK: - Accepting

    private func acceptPending(now: Double) {
        // At most 32 per wakeup: each one is read and answered at once, and every other ready socket waits
        // meanwhile (256 doubled wrk's p99 with `Connection: close`: lesson 06, docs/performance.md §7).
        for _ in 0..<32 {
            let client: Socket
            do {
                guard let accepted = try listener.acceptNonBlocking() else { return }
                client = accepted
            } catch {
                if error.isOutOfResources {
                    // Out of descriptors. The listener stays readable, so a level-triggered loop would spin
                    // at 100% CPU retrying: stop watching it for 100 ms, keep serving the others.
                    Console.error("\(error); pausing accept for 100 ms")
                    poller.remove(listener.fd)
                    listenerPausedUntil = now + 0.1 // resumed by the next sweep, which runs every 100 ms
                }
                return
            }
            // Plain TCP on epoll: the request is often here already (a client writes it right after connecting),
            // so it is read at once and the connection joins the poller only if it is still open afterwards: a
            // `Connection: close` request is answered and closed without an epoll_ctl.
            let readsFirst = options.tls == nil && poller is EpollPoller
            if !readsFirst {
                do {
                    try poller.add(client.fd, .read)
                } catch {
                    refuse(client, because: error)
                    continue
                }
            }
            let transport: any Transport
            if let tls = options.tls {
                do {
                    transport = try TLSTransport(client, context: tls)
                } catch {
                    Console.error("tls: \(error)")
                    poller.forgetBeforeClose(client.fd)
                    client.close()
                    continue
                }
            } else {
                transport = TCPTransport(client)
            }
            let connection = Connection(transport: transport, policy: policy, acceptedAt: now,
                                        strings: spareStrings.popLast() ?? RepeatedStrings())
            // The address is kept for the access log, and for TLS errors (which may come after the peer left).
            if options.recordsRemoteAddress || options.tls != nil { connection.remoteAddress = try? client.remoteAddress().host }
            rearm(connection, now: now)
            connections[client.fd] = connection
            metrics?.add(LoopMetrics.Slot.connectionsOpened)
            if readsFirst {
                connection.registered = false
                read(connection, now: now)
                if !connection.closed && !connection.registered {
                    do {
                        try poller.add(client.fd, connection.interest)
                        connection.registered = true
                    } catch {
                        close(connection)
                    }
                }
            }
        }
    }

    /// A connection the poller cannot watch (select's FD_SETSIZE wall): tell the client and close.
    private func refuse(_ client: Socket, because error: SystemError) {
        if !warnedAboutCapacity {
            Console.error("\(error.call): refusing connections beyond it with 503. Use --poller epoll (or poll) to go past it.")
            warnedAboutCapacity = true
        }
        let response = HTTPResponse.text(.serviceUnavailable, "503 Service Unavailable: the server's \(poller.name) cannot watch more connections\n")
        var machine = HTTP1Connection(policy: policy)
        var output = OutputQueue()
        _ = writer.queue(response, to: nil, on: &machine, into: &output)
        _ = try? output.flush(to: TCPTransport(client))
        client.close()
    }

    private func resumeListenerIfPaused(now: Double) {
        guard let until = listenerPausedUntil, now >= until else { return }
        listenerPausedUntil = nil
        try? poller.add(listener.fd, .read)
    }

    // MARK: - Reading

    private func read(_ connection: Connection, now: Double) {
        let result: IOResult<Int>
        do {
            result = try readBuffer.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in try connection.transport.read(into: buffer) }
            }.get()
        } catch {
            // ECONNRESET and friends: the client is gone. A TLS failure (a bad handshake, plain HTTP on a
            // TLS port, a client that rejected our certificate) is worth a line with OpenSSL's reason.
            if !error.isPeerGone && connection.tls != nil {
                Console.error("tls: \(connection.remoteAddress ?? (try? connection.transport.socket.remoteAddress().host) ?? "?"): \(error.call)")
            }
            close(connection)
            return
        }
        if let metrics, case .done(let count) = result { metrics.add(LoopMetrics.Slot.bytesIn, count) }
        switch result {
        case .wouldBlock:
            // TLS may need to *send* before it can read more (WANT_WRITE): wait for writability instead.
            if connection.tls?.readWantsWrite == true { setInterest(connection, .write) }
            return
        case .done(0):
            guard connection.http1 != nil else {
                close(connection, webSocketCode: 1006, reason: "the client closed TCP without a close frame")
                return
            }
            handOverUnfinishedFirstLine(connection)
            connection.http1?.receiveEnd()
            if let exchange = connection.proxied {
                exchange.clientEnded = true // its answer still goes out; the socket is not read again meanwhile
                setInterest(connection, .read)
            }
        case .done(let count):
            connection.pingSent = false // any bytes prove the peer alive
            readBuffer.withUnsafeBytes { buffer in
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if options.http2, connection.http1?.requestsAnswered == 0, connection.http1?.timerState().phase == .idle {
                    // The first bytes decide: HTTP/2's preface, or HTTP/1.1 (handed over by `probePreface`).
                    probePreface(connection, bytes)
                    return
                }
                connection.http1?.receive(bytes)
                connection.webSocket?.receive(bytes)
                connection.http2?.receive(bytes)
                if let exchange = connection.proxied { received(bytes, from: exchange) }
            }
        }
        process(connection, now: now)
    }

    /// Does what the protocol machine says until it needs more bytes, while the queued output stays under
    /// the limit (a client that pipelines without reading gets no more answers until it reads).
    private func process(_ connection: Connection, now: Double) {
        while connection.ending == nil && connection.output.bufferedBytes < options.maxBufferedOutput && !connection.closed {
            if connection.http1 != nil {
                guard let action = connection.http1?.nextAction() else { break }
                perform(action, on: connection)
            } else if connection.http2 != nil {
                // DATA is made as it is asked for: files queued count too, so a big body waits for the client.
                guard connection.output.queuedBytes < options.maxBufferedOutput,
                      let action = connection.http2?.nextAction() else { break }
                perform(action, on: connection)
            } else {
                guard let action = connection.webSocket?.nextAction() else { break }
                perform(action, on: connection)
            }
        }
        guard !connection.closed else { return }
        rearm(connection, now: now)
        if !connection.output.isEmpty || connection.ending != nil {
            flush(connection, now: now) // most responses fit in the send buffer: no need to wait for writability
        }
    }

    func perform(_ action: consuming HTTP1Connection.Action, on connection: Connection) {
        switch action {
        case .request, .head: connection.requestStartedAt = metricsNow // for the duration in /metrics
        default: break
        }
        if proxy != nil, forward(action, on: connection) { return }
        switch consume action { // its payload moves into the bindings, not copied: `request` changes below
        case .request(let request):
            respond(to: request, on: connection)
        case .head(var head):
            // A body follows: stream it to a consumer (an upload), or collect it for the handler.
            head.remoteAddress = connection.remoteAddress
            head.tls = connection.tlsDescription
            let consumer = bodyConsumers?(head) ?? CollectingConsumer(head, handler)
            if consumer.answersBeforeBody {
                answer(consumer.finish(), to: head, on: connection) // refused on its head: no body is read
            } else {
                connection.bodyConsumer = consumer
            }
        case .body(let bytes):
            connection.bodyConsumer?.consume(bytes)
        case .bodyEnd(var head):
            head.remoteAddress = connection.remoteAddress
            let consumer = connection.bodyConsumer ?? CollectingConsumer(head, handler)
            connection.bodyConsumer = nil
            answer(consumer.finish(), to: head, on: connection)
        case .rejected(let error):
            abortUpload(connection)
            let response = HTTPResponse.error(error)
            options.onRefusal?(response, connection.remoteAddress)
            answer(response, to: nil, on: connection)
        case .write(let bytes):
            connection.output.append(bytes)
        case .close:
            connection.ending = .close
        case .lingeringClose:
            connection.ending = .linger
        case .sendFile, .stream, .switchProtocols:
            break // only `respond` produces these, and `answer` handles them
        }
    }

    /// Calls the handler for a request without a body and queues its answer. The request is moved into the
    /// handler, not copied: what the answer needs of it (`AnsweredRequest`) is taken first, and its path only
    /// where a 101 may switch to a WebSocket endpoint.
    private func respond(to request: consuming HTTPRequest, on connection: Connection) {
        request.remoteAddress = connection.remoteAddress
        request.tls = connection.tlsDescription
        if options.http2, connection.tls == nil, let settings = H2CUpgrade.settings(in: request) {
            upgradeToHTTP2(connection, request: request, settings: settings) // `Upgrade: h2c` (curl --http2)
            return
        }
        let asked = AnsweredRequest(request)
        let path = webSockets.isEmpty ? nil : request.path
        answer(handler(consume request), answering: asked, path: path, on: connection)
    }

    func answer(_ response: HTTPResponse, to request: HTTPRequest?, on connection: Connection) {
        answer(response, answering: .of(request), path: webSockets.isEmpty ? nil : request?.path, on: connection)
    }

    /// Queues `response` through the connection's HTTP/1.1 machine. `path` is the request's, for a 101 that
    /// switches to a WebSocket endpoint (nil: no endpoint, a 101 closes).
    func answer(_ response: HTTPResponse, answering request: AnsweredRequest, path: String?, on connection: Connection) {
        guard connection.http1 != nil else { return }
        if let metrics {
            let started = connection.requestStartedAt ?? metricsNow
            metrics.record(request.isRequest ? request.method : nil, status: response.status.code, seconds: Processes.monotonicSeconds() - started)
            connection.requestStartedAt = nil
        }
        let ending = writer.queue(response, answering: request, on: &connection.http1!, into: &connection.output)
        switch ending {
        case .switchProtocols(let leftover)?:
            switchToWebSocket(connection, path: path, response: response, leftover: leftover)
        case .close?:
            connection.ending = .close
        case .lingeringClose?:
            connection.ending = .linger
        default:
            break
        }
    }

    // MARK: - Writing

    func flush(_ connection: Connection, now: Double) {
        let done: Bool
        let filesQueued = connection.output.fileBytes
        do {
            done = try connection.output.flush(to: connection.transport, finFollows: connection.ending != nil,
                                               fileBudget: OutputQueue.fileBytesPerFlush)
        } catch {
            close(connection) // EPIPE, ECONNRESET: the client left mid-response
            return
        }
        if let spent = connection.output.takeSpent() { writer.recycle(spent) }
        if let metrics {
            // In-memory bytes as written, plus file bytes sendfile sent (under TLS, files go out as bytes).
            let fromFiles = connection.tls == nil ? filesQueued - connection.output.fileBytes : 0
            metrics.add(LoopMetrics.Slot.bytesOut, connection.output.takeSentBytes() + fromFiles)
        }
        if connection.proxied != nil { clientDrained(connection, now: now) } // room again for the upstream's bytes
        rearm(connection, now: now)
        guard done else {
            // The send buffer is full: wait until the client reads. (Or this turn's share of a large file has
            // left, `fileBytesPerFlush`: writable at once, after the other connections' events.)
            setInterest(connection, .write)
            return
        }
        switch connection.ending {
        case .close?:
            // A corked answer still holds its last segment. `shutdown` sends it with the FIN at once; a bare
            // `close` with client bytes unread (sent after our last read: a request pipelined behind one the
            // server closes after) resets the connection and drops what the cork still holds (RFC 9112 §9.6).
            if connection.output.corked { connection.transport.shutdownWrite() }
            close(connection)
            return
        case .linger?:
            connection.transport.shutdownWrite()
            connection.lingering = true
            connection.deadline = now + options.lingerTimeout
            setInterest(connection, .read)
            return
        case nil:
            break
        }
        // Back to reading. From its second response on, a small write could wait for the client's delayed
        // ACK (Nagle): turn that off now, once per connection, as nginx does; a connection that closes
        // after one response never pays for it.
        if !connection.noDelay {
            try? connection.transport.socket.setNoDelay()
            connection.noDelay = true
        }
        setInterest(connection, .read)
        process(connection, now: now) // pipelined requests already buffered, or answers held back by the limit
    }

    /// Reads and discards what a client still sends after our error response, until it closes, 1 MB
    /// has been thrown away, or the linger deadline passes.
    private func discardInput(_ connection: Connection) {
        let result = try? readBuffer.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try connection.transport.read(into: buffer) }
        }.get()
        switch result {
        case .wouldBlock?:
            return
        case .done(let count)? where count > 0:
            connection.bytesDiscarded += count
            if connection.bytesDiscarded > 1 << 20 { close(connection) }
        default:
            close(connection)
        }
    }

    func setInterest(_ connection: Connection, _ interest: Interest) {
        // The proxy: a client whose request waits for its upstream is not read (pipelined bytes wait in the kernel).
        let interest = interest == .read && connection.proxied?.holdsClientReads == true ? [] : interest
        guard !connection.closed, connection.interest != interest || !connection.registered else { return }
        do {
            if connection.registered {
                try poller.modify(connection.fd, interest)
            } else {
                try poller.add(connection.fd, interest) // read at once after accept, not watched yet
                connection.registered = true
            }
            connection.interest = interest
        } catch {
            close(connection)
        }
    }

    // MARK: - Time

    /// The one timer rule: a connection's deadline follows from what it is doing now.
    /// - sending: the client must take some output within the write timeout;
    /// - a head arriving (or nothing at all yet on a new connection): the whole head within the header
    ///   timeout, counted from its first byte, however slowly it trickles in (slowloris);
    /// - a body arriving: each read must make progress within the idle timeout;
    /// - between requests: the idle timeout;
    /// - lingering: fixed when the linger starts.
    private func rearm(_ connection: Connection, now: Double) {
        guard !connection.lingering else { return }
        if !connection.output.isEmpty {
            connection.deadline = now + options.writeTimeout
            return
        }
        if connection.proxied != nil {
            // Its request is with an upstream, whose own timers answer it (504) in time: never cut it shorter
            // than `send` allowed, and keep extending it while the answer flows.
            connection.deadline = max(connection.deadline, now + options.idleTimeout)
            return
        }
        if let state = connection.webSocket?.state {
            // WebSocket: a quiet peer is pinged after pingInterval; the ping's deadline is set when it goes.
            if state == .open && !connection.pingSent { connection.deadline = now + options.pingInterval }
            return
        }
        let (phase, answered) = connection.http1?.timerState() ?? (.idle, 1)
        connection.deadline = options.http1Deadline(phase: phase, answered: answered,
                                                    headStartedAt: &connection.headStartedAt, now: now)
    }

    /// Closes connections past their deadline. A client in the middle of a request gets 408 first.
    private func closeExpired(now: Double) {
        if proxy != nil { expireUpstreams(now: now) } // the proxy's upstream connections keep time the same way
        for connection in Array(connections.values) where now >= connection.deadline {
            if connection.webSocket?.state == .open, !connection.pingSent, connection.output.isEmpty,
               !connection.lingering, let ping = connection.webSocket?.ping(Array("are you there?".utf8)) {
                // Quiet for pingInterval: ask (RFC 6455 §5.5.2). Any bytes back clear `pingSent`.
                connection.pingSent = true
                connection.output.append(ping)
                flush(connection, now: now)
                connection.deadline = now + options.pongTimeout
                continue
            }
            handOverUnfinishedFirstLine(connection)
            if !connection.lingering, connection.output.isEmpty, let phase = connection.http1?.phase,
               phase == .readingHead || phase == .readingBody {
                let response = HTTPResponse.error(RequestError(.requestTimeout, options.timeoutReason(phase)))
                options.onRefusal?(response, connection.remoteAddress)
                answer(response, to: nil, on: connection)
                _ = try? connection.output.flush(to: connection.transport) // best effort: it is leaving anyway
            }
            if connection.http2 != nil, !connection.lingering, connection.output.isEmpty {
                // HTTP/2 says goodbye with GOAWAY (§6.8): the client learns that no stream was lost and why.
                connection.http2?.shutDown(reason: "idle for \(Seconds.text(options.idleTimeout))")
                while let action = connection.http2?.nextAction() { perform(action, on: connection) }
                _ = try? connection.output.flush(to: connection.transport) // best effort: it is leaving anyway
            }
            close(connection, webSocketCode: 1006, reason: connection.pingSent ? "no answer to a ping" : "timed out")
        }
    }

    /// A first line still unfinished when the client stops (timeout, or end of input) while the http2 stage
    /// waits for it to choose a protocol: the bytes go to HTTP/1.1's parser, so the connection ends as it
    /// would on the router stage: a 408 at the header timeout; at the end of input, closed unanswered (a
    /// request cut short is not answered).
    private func handOverUnfinishedFirstLine(_ connection: Connection) {
        guard !connection.prefaceProbe.isEmpty else { return }
        connection.http1?.receive(connection.prefaceProbe)
        connection.prefaceProbe = []
    }

    func close(_ connection: Connection, webSocketCode: UInt16 = 1006, reason: String = "the connection closed") {
        if !connection.closed { willClose(connection) }
        guard !connection.closed else { return }
        connection.closed = true
        notifyClosed(connection, code: webSocketCode, reason: reason)
        abortUpload(connection)
        connection.output.discard()
        poller.forgetBeforeClose(connection.fd)
        connections[connection.fd] = nil
        connection.transport.close()
        // Its Strings go to a connection accepted later (at most `maxSpareStrings` wait, 4 KB of octets each).
        if spareStrings.count < Self.maxSpareStrings, connection.http1 != nil {
            spareStrings.append(connection.http1!.takeStrings())
        }
    }
}

extension EventLoop.Options {
    /// The HTTP/1.1 part of the one timer rule, shared by both loops (EventLoop, CompletionLoop): a head
    /// arriving, or a new connection that has sent nothing yet, is on the header timer, counted from its
    /// first byte however slowly it trickles in (slowloris); anything else waits on the idle timer.
    func http1Deadline(phase: HTTP1Connection.Phase, answered: Int, headStartedAt: inout Double?, now: Double) -> Double {
        let waitsForHead = phase == .readingHead || (phase == .idle && answered == 0 && headStartedAt != nil)
        guard waitsForHead else {
            headStartedAt = nil
            return now + idleTimeout
        }
        let started = headStartedAt ?? now
        headStartedAt = started
        return started + headerTimeout
    }

    /// Why a request that stopped arriving (`phase` is `.readingHead` or `.readingBody`) is answered 408.
    func timeoutReason(_ phase: HTTP1Connection.Phase) -> String {
        phase == .readingHead
            ? "the request head did not arrive within \(Seconds.text(headerTimeout))"
            : "the request body stopped arriving for \(Seconds.text(idleTimeout))"
    }
}

extension EventLoop {
    /// What the metrics and the proxy note when a client connection closes (once, before it does).
    func willClose(_ connection: Connection) {
        metrics?.add(LoopMetrics.Slot.connectionsClosed)
        if connection.proxied != nil { abandonExchange(of: connection) }
    }
}

/// Makes the poller a stage asked for.
public func makePoller(_ kind: PollerKind) throws(SystemError) -> any Poller {
    switch kind {
    case .select: return SelectPoller()
    case .poll: return PollPoller()
    case .epoll: return try EpollPoller()
    case .ioUring: throw SystemError("--poller io_uring runs a completion loop, not a poller: only the eventloop, keepalive and router stages have one", errno: EINVAL)
    }
}

/// A pipe the stop-signal handler writes to, so a loop blocked in its poller wakes up at once.
/// Returns the end to watch.
public func makeStopWakePipe() throws(SystemError) -> FileDescriptor {
    let pipe = try Pipe()
    try pipe.setWriteEndNonBlocking()
    StopSignal.wake(pipe.writeEnd.fd)
    return pipe.readEnd
}

/// The default consumer: collects the body in memory and hands the whole request to the handler.
final class CollectingConsumer: BodyConsumer {
    private var request: HTTPRequest
    private let handler: Handler

    init(_ head: HTTPRequest, _ handler: @escaping Handler) {
        self.request = head
        self.handler = handler
    }

    func consume(_ bytes: [UInt8]) { request.body.append(contentsOf: bytes) }
    func finish() -> HTTPResponse { handler(request) }
    func abort() {}
}
