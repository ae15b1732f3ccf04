import HTTPCore
import Sockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A handler turns a request into a response. It must not block: on an event loop, a handler that
/// waits makes every other connection wait with it.
public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

/// One thread, nonblocking sockets, a readiness loop: the design of nginx, Node.js and Tokio.
///
/// The loop asks the poller which sockets are ready and moves each ready connection's state machine
/// one step: read what arrived and parse it, or write what fits. Nothing ever blocks, so one thread
/// serves thousands of connections; what a connection waits for is remembered in its `Connection`.
public final class EventLoop {
    public struct Options: Sendable {
        /// Keep connections open between requests (the keepalive stage) or close after each response.
        public var keepAlive = false
        /// Seconds a client has to send a complete request head once it started one (slowloris defence).
        public var headerTimeout = 10.0
        /// Seconds a kept-alive connection may sit idle between requests.
        public var idleTimeout = 30.0
        /// Seconds a slow reader may go without taking any of our output.
        public var writeTimeout = 60.0
        /// Requests served on one connection before it is closed (0: no limit).
        public var maxRequestsPerConnection = 0
        /// Stop reading (and parsing pipelined requests) while this many bytes wait to be sent.
        public var maxBufferedOutput = 256 * 1024
        public var limits = RequestLimits()
        /// Record each client's address in `HTTPRequest.remoteAddress` (one getpeername per connection).
        public var recordsRemoteAddress = false
        /// Called about every 100 ms on the loop's thread (to flush a buffered log, say).
        public var onTick: (@Sendable () -> Void)?
        /// After SIGTERM or SIGINT: seconds that requests in flight (an upload, a slow download) get to
        /// finish before the loop closes them and returns.
        public var drainTimeout = 5.0

        public init() {}

        /// The options a stage's configuration sets: its timeouts, request limits and per-connection cap.
        public init(_ configuration: ServerConfiguration, keepAlive: Bool) {
            self.keepAlive = keepAlive
            headerTimeout = configuration.headerTimeout
            idleTimeout = configuration.idleTimeout
            maxRequestsPerConnection = configuration.maxRequestsPerConnection
            limits = configuration.limits
        }
    }

    let listener: Socket
    let poller: any Poller
    let handler: Handler
    let options: Options
    let wakeFD: Int32?
    let bodyConsumers: BodyConsumerFactory?
    private let serializer = ResponseSerializer()
    private var dates = HTTPDate.Cache()
    /// Connections by descriptor.
    private var connections: [Int32: Connection] = [:]
    /// One read buffer for every connection: an idle connection costs no buffer at all.
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var listenerPausedUntil: Double?
    /// Files opened for responses, kept open for a second (like nginx's open_file_cache): a file sent
    /// again soon costs no open() and close(). Replaced files are noticed within that second.
    private var openFiles: [String: (file: SharedFile, openedAt: Double)] = [:]
    private var warnedAboutCapacity = false
    /// Set when a stop signal arrived: no new connections, no keep-alive, finish what is in flight.
    private var drainingUntil: Double?

    public init(listener: Socket, poller: any Poller, options: Options, wakeFD: Int32? = nil,
                bodyConsumers: BodyConsumerFactory? = nil, handler: @escaping Handler) {
        self.listener = listener
        self.poller = poller
        self.options = options
        self.wakeFD = wakeFD
        self.bodyConsumers = bodyConsumers
        self.handler = handler
    }

    public var connectionCount: Int { connections.count }

    // MARK: - The loop

    public func run() throws(SystemError) {
        try listener.setNonBlocking()
        try poller.add(listener.fd, .read)
        if let wakeFD { try poller.add(wakeFD, .read) }
        var events: [ReadinessEvent] = []
        var lastSweep = Processes.monotonicSeconds()

        while true {
            if StopSignal.isRequested && drainingUntil == nil { startDraining() }
            if let until = drainingUntil, connections.isEmpty || Processes.monotonicSeconds() >= until { break }
            try poller.wait(timeoutMilliseconds: 100, into: &events)
            let now = Processes.monotonicSeconds()
            for event in events {
                if event.fd == listener.fd {
                    acceptPending(now: now)
                } else if let connection = connections[event.fd] {
                    if event.writable && connection.state == .writing { flush(connection, now: now) }
                    if event.readable || event.hangup {
                        if connection.state == .reading { read(connection, now: now) }
                        else if connection.state == .lingering { drain(connection) }
                    }
                }
            }
            if now - lastSweep >= 0.1 {
                closeExpired(now: now)
                if drainingUntil == nil { resumeListenerIfPaused(now: now) }
                options.onTick?()
                lastSweep = now
            }
        }
        for connection in Array(connections.values) { close(connection) }
        if drainingUntil == nil { listener.close() }
    }

    /// A stop signal arrived: stop accepting, close connections that are between requests, and let the
    /// ones in the middle of a request or a response finish (with `Connection: close`), for at most
    /// `drainTimeout` seconds.
    private func startDraining() {
        drainingUntil = Processes.monotonicSeconds() + options.drainTimeout
        poller.remove(listener.fd)
        listener.close()
        if let wakeFD { poller.remove(wakeFD) } // it stays readable: watching it would spin the loop
        for connection in Array(connections.values)
        where connection.state == .reading && !connection.parser.isMidRequest && connection.output.isEmpty {
            close(connection)
        }
    }

    // MARK: - Accepting

    private func acceptPending(now: Double) {
        for _ in 0..<256 {
            let client: Socket
            do {
                guard let accepted = try listener.acceptNonBlocking() else { return }
                client = accepted
            } catch {
                if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno) {
                    // Out of descriptors. The listener stays readable, so a level-triggered loop would spin
                    // at 100% CPU retrying: stop watching it for 100 ms, keep serving the others.
                    Console.error("\(error); pausing accept for 100 ms")
                    poller.remove(listener.fd)
                    listenerPausedUntil = now + 0.1 // resumed by the next sweep, which runs every 100 ms
                }
                return
            }
            do {
                try poller.add(client.fd, .read)
            } catch {
                refuse(client, because: error)
                continue
            }
            let connection = Connection(socket: client, limits: options.limits, deadline: now + options.headerTimeout)
            connection.parser.streamsBodies = bodyConsumers != nil
            if options.recordsRemoteAddress { connection.remoteAddress = try? client.remoteAddress().host }
            connections[client.fd] = connection
        }
    }

    /// A connection the poller cannot watch (select's FD_SETSIZE wall): tell the client and close.
    private func refuse(_ client: Socket, because error: SystemError) {
        if !warnedAboutCapacity {
            Console.error("\(error.call): refusing connections beyond it with 503. Use --poller epoll (or poll) to go past it.")
            warnedAboutCapacity = true
        }
        let response = HTTPResponse.text(.serviceUnavailable, "503 Service Unavailable: the server's \(poller.name) cannot watch more connections\n")
        var bytes = serializer.serialize(response, requestMethod: "GET", keepAlive: false, date: dates.current())
        _ = bytes.withUnsafeMutableBytes { try? client.write(UnsafeRawBufferPointer($0)) }
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
                Result { () throws(SystemError) in try connection.socket.read(into: buffer) }
            }.get()
        } catch {
            close(connection) // ECONNRESET and friends: the client is gone
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .done(0):
            connection.peerClosed = true
            if !connection.parser.isMidRequest || connection.parser.unconsumedBytes.isEmpty {
                close(connection)
                return
            }
        case .done(let count):
            let wasIdle = !connection.parser.isMidRequest
            connection.parser.append(readBuffer[0..<count])
            if wasIdle && !connection.headTimerStarted {
                // The first byte of a new request starts its header timeout.
                connection.deadline = now + options.headerTimeout
                connection.headTimerStarted = true
            }
        }
        process(connection, now: now)
        if connection.state == .reading && connection.parser.isMidRequest && !connection.parser.isReadingHead {
            // A body in progress (parsed just now): the deadline moves with every read that makes progress.
            connection.deadline = now + options.idleTimeout
        }
    }

    /// Parses every complete request in the connection's buffer and queues its response, in order, while
    /// the queued output stays under the limit (a client that pipelines without reading gets no more).
    private func process(_ connection: Connection, now: Double) {
        while !connection.closeAfterWrite && connection.output.bufferedBytes < options.maxBufferedOutput {
            let event: RequestEvent
            do {
                guard let next = try connection.parser.nextEvent() else { break }
                event = next
            } catch {
                abortUpload(connection)
                connection.lingerBeforeClose = true
                queue(.error(error), for: nil, on: connection, keepAlive: false)
                break
            }
            switch event {
            case .request(var request):
                request.remoteAddress = connection.remoteAddress
                answer(request, with: handler(request), on: connection)
            case .head(var head):
                // A body follows: stream it to a consumer (an upload), or collect it for the handler.
                head.remoteAddress = connection.remoteAddress
                connection.streamingHead = head
                connection.bodyConsumer = bodyConsumers?(head) ?? CollectingConsumer(head, handler)
            case .bodyPart(let bytes):
                connection.bodyConsumer?.consume(bytes)
            case .end:
                guard let head = connection.streamingHead, let consumer = connection.bodyConsumer else { break }
                connection.streamingHead = nil
                connection.bodyConsumer = nil
                answer(head, with: consumer.finish(), on: connection)
            }
        }
        if connection.output.isEmpty, connection.parser.requestAwaitingContinue != nil {
            connection.output.append(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            connection.parser.markContinueSent()
        }
        if connection.output.isEmpty {
            if connection.peerClosed { close(connection) }
            return
        }
        connection.state = .writing
        connection.deadline = now + options.writeTimeout
        flush(connection, now: now) // most responses fit in the send buffer: no need to wait for writability
    }

    private func answer(_ request: HTTPRequest, with response: HTTPResponse, on connection: Connection) {
        connection.requestsServed += 1
        let underLimit = options.maxRequestsPerConnection == 0 || connection.requestsServed < options.maxRequestsPerConnection
        let keepAlive = options.keepAlive && request.wantsKeepAlive && underLimit && drainingUntil == nil
        queue(response, for: request, on: connection, keepAlive: keepAlive)
    }

    private func abortUpload(_ connection: Connection) {
        connection.bodyConsumer?.abort()
        connection.bodyConsumer = nil
        connection.streamingHead = nil
    }

    private func queue(_ response: HTTPResponse, for request: HTTPRequest?, on connection: Connection, keepAlive: Bool) {
        let method = request?.method ?? "GET"
        let version = request?.version ?? .http1_1
        let date = dates.current()
        let sendsBody = serializer.sendsBody(response, requestMethod: method)
        let framing = BodyFraming.choose(for: response.body, version: version)
        // A body that ends when the connection closes leaves no way to keep the connection.
        let keepAlive = keepAlive && framing != .untilClose
        if !keepAlive { connection.closeAfterWrite = true }
        switch response.body {
        case .file(let path, let offset, let length) where sendsBody:
            guard let file = openFile(path) else {
                let failure = HTTPResponse.text(.forbidden, "403 Forbidden: the file could not be opened\n")
                connection.output.append(serializer.serialize(failure, requestMethod: method, version: version, keepAlive: keepAlive, date: date))
                return
            }
            connection.output.append(serializer.head(for: response, requestMethod: method, version: version, keepAlive: keepAlive, date: date))
            connection.output.append(file: file, offset: offset, length: length)
        case .stream(let body) where sendsBody:
            guard let stream = try? body.open() else {
                let failure = HTTPResponse.text(.internalServerError, "500 Internal Server Error: the body could not be produced\n")
                connection.output.append(serializer.serialize(failure, requestMethod: method, version: version, keepAlive: keepAlive, date: date))
                return
            }
            connection.output.append(serializer.head(for: response, requestMethod: method, version: version,
                                                     keepAlive: keepAlive, framing: framing, date: date))
            connection.output.append(stream: stream, chunked: framing == .chunked)
        default:
            connection.output.append(serializer.head(for: response, requestMethod: method, version: version,
                                                     keepAlive: keepAlive, framing: framing, date: date))
            if sendsBody, case .bytes(let bytes) = response.body { connection.output.append(bytes) }
        }
    }

    private func openFile(_ path: String) -> SharedFile? {
        let now = Processes.monotonicSeconds()
        if let cached = openFiles[path], now - cached.openedAt < 1 { return cached.file }
        guard let descriptor = try? FileDescriptor.openForReading(path) else {
            openFiles[path] = nil
            return nil
        }
        if openFiles.count >= 1024 { openFiles.removeAll(keepingCapacity: true) }
        let file = SharedFile(descriptor)
        openFiles[path] = (file, now)
        return file
    }

    // MARK: - Writing

    private func flush(_ connection: Connection, now: Double) {
        let done: Bool
        do {
            done = try connection.output.flush(to: connection.socket)
        } catch {
            close(connection) // EPIPE, ECONNRESET: the client left mid-response
            return
        }
        guard done else {
            connection.deadline = now + options.writeTimeout
            setInterest(connection, .write) // the send buffer is full: wait until the client reads
            return
        }
        if connection.closeAfterWrite && connection.lingerBeforeClose && !connection.peerClosed {
            connection.socket.shutdownWrite()
            connection.state = .lingering
            connection.deadline = now + 2
            setInterest(connection, .read)
            return
        }
        if connection.closeAfterWrite || connection.peerClosed && !connection.parser.isMidRequest {
            close(connection)
            return
        }
        // Back to reading: an idle connection now waits under the idle timeout. From its second response
        // on, a small write could wait for the client's delayed ACK (Nagle): turn that off now, once per
        // connection, as nginx does; a connection that closes after one response never pays for it.
        if !connection.noDelay {
            try? connection.socket.setNoDelay()
            connection.noDelay = true
        }
        connection.state = .reading
        connection.headTimerStarted = connection.parser.isMidRequest
        connection.deadline = now + (connection.headTimerStarted ? options.headerTimeout : options.idleTimeout)
        setInterest(connection, .read)
        if !connection.parser.unconsumedBytes.isEmpty {
            process(connection, now: now) // pipelined requests already buffered
        }
    }

    /// Reads and discards what a client still sends after our error response, until it closes, 1 MB
    /// has been thrown away, or the 2-second deadline passes (closeExpired).
    private func drain(_ connection: Connection) {
        let result = try? readBuffer.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try connection.socket.read(into: buffer) }
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

    private func setInterest(_ connection: Connection, _ interest: Interest) {
        guard connection.state != .closed, connection.interest != interest else { return }
        do {
            try poller.modify(connection.socket.fd, interest)
            connection.interest = interest
        } catch {
            close(connection)
        }
    }

    // MARK: - Timeouts and closing

    /// Closes connections past their deadline. A client still sending its head gets 408 first.
    private func closeExpired(now: Double) {
        for connection in connections.values where now >= connection.deadline {
            if connection.state == .reading && connection.parser.isMidRequest {
                let timeout = connection.parser.isReadingHead
                    ? RequestError(.requestTimeout, "the request head did not arrive within \(Seconds.text(options.headerTimeout))")
                    : RequestError(.requestTimeout, "the request body stopped arriving for \(Seconds.text(options.idleTimeout))")
                var bytes = serializer.serialize(.error(timeout), requestMethod: "GET", keepAlive: false, date: dates.current())
                _ = bytes.withUnsafeMutableBytes { try? connection.socket.write(UnsafeRawBufferPointer($0)) }
            }
            close(connection)
        }
    }

    private func close(_ connection: Connection) {
        guard connection.state != .closed else { return }
        connection.state = .closed
        abortUpload(connection)
        connection.output.discard()
        poller.forgetBeforeClose(connection.socket.fd)
        connections[connection.socket.fd] = nil
        connection.socket.close()
    }
}

/// Makes the poller a stage asked for.
public func makePoller(_ kind: PollerKind) throws(SystemError) -> any Poller {
    switch kind {
    case .select: return SelectPoller()
    case .poll: return PollPoller()
    case .epoll:
        #if os(Linux)
        return try EpollPoller()
        #else
        return PollPoller()
        #endif
    }
}

/// A pipe the stop-signal handler writes to, so a loop blocked in its poller wakes up at once.
public func makeStopWakePipe() throws(SystemError) -> Int32 {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw SystemError("pipe", errno: errno) }
    _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
    StopSignal.wake(fds[1])
    return fds[0]
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
