/// The rules of one HTTP/1.1 connection, as a machine without I/O (the design of Python's h11).
///
/// Its driver — the event loop, or the blocking exchange of the early stages — feeds it the bytes that
/// arrived and asks it what to do, one action at a time:
///
///     connection.receive(bytesFromTheTransport)
///     while let action = connection.nextAction() {
///         switch action {
///         case .request(let request):
///             for output in connection.respond(handler(request), to: request, date: date) { send(output) }
///         ...
///         }
///     }
///
/// It never touches a socket, a clock or a file; so every rule below is tested on bytes alone:
/// - keep-alive (RFC 9112 §9.3): HTTP/1.1 stays open unless `Connection: close`, HTTP/1.0 only with
///   `Connection: keep-alive`, never past `maxRequests`, never after a body framed by closing;
/// - pipelining (§9.3.2): requests are handed out one at a time, and the next only once the previous one
///   has been answered, so responses leave in request order;
/// - `Expect: 100-continue` (RFC 9110 §10.1.1): the interim response, once, before the body is read;
/// - framing (§6): Content-Length when the length is known, chunked (1.1) or close-delimited (1.0) when not;
/// - errors (§9.6 and the lingering close of §9.6's note): a request the parser refuses is answered with
///   its status and reason, then the connection shuts down its sending side and discards what still
///   arrives, because the byte stream can no longer be trusted.
/// - `101 Switching Protocols` (RFC 9110 §15.2.2): after it, the bytes belong to another protocol, and
///   the machine hands over what it has not read.
public struct HTTP1Connection: Sendable {
    /// What a stage turns on.
    public struct Policy: Sendable, Hashable {
        /// Persistent connections (the keepalive stage on); off, every response closes the connection.
        public var keepAlive: Bool
        /// Requests answered on one connection before it closes (0: no limit).
        public var maxRequests: Int
        /// Hand out request bodies piece by piece (`.head`, `.body`, `.bodyEnd`) instead of whole.
        public var streamsBodies: Bool
        public var limits: RequestLimits

        public init(keepAlive: Bool = true, maxRequests: Int = 0, streamsBodies: Bool = false,
                    limits: RequestLimits = RequestLimits()) {
            self.keepAlive = keepAlive
            self.maxRequests = maxRequests
            self.streamsBodies = streamsBodies
            self.limits = limits
        }
    }

    /// One thing for the driver to do.
    public enum Action: Sendable, Hashable {
        // Input side: what `nextAction()` hands out.
        /// A whole request: answer it with `respond(_:to:date:)` before asking for the next action.
        case request(HTTPRequest)
        /// The head of a request whose body follows as `.body` pieces (only with `streamsBodies`). The
        /// driver may answer it at once with `respond` (a refused upload): the body is then never read.
        case head(HTTPRequest)
        case body([UInt8])
        /// The streamed body of `request` is complete: answer it with `respond`.
        case bodyEnd(HTTPRequest)
        /// The parser refused the bytes: answer with `respond(.error(error), to: nil, date:)`; the
        /// connection then closes with a linger, whatever the response says.
        case rejected(RequestError)

        // Output side: what `respond` returns (and `nextAction` for the interim 100 and a closing peer).
        /// Bytes to send as they are.
        case write([UInt8])
        /// `length` bytes of the file at `path` from `offset` (with sendfile where the transport allows).
        case sendFile(path: String, offset: Int, length: Int)
        /// A body of unknown length, pulled piece by piece as the previous one leaves; chunk-framed if asked.
        case stream(StreamedBody, chunked: Bool)
        /// Close once everything before it has been sent.
        case close
        /// Shut down our sending side once everything is sent, read and discard what still arrives for a
        /// moment, then close: the client's unread bytes would otherwise make the kernel reset the
        /// connection (RST) before the client has read our error response.
        case lingeringClose
        /// After a 101: the connection now speaks another protocol; these bytes arrived for it already.
        case switchProtocols(leftover: [UInt8])
    }

    /// Where the connection is, for the driver's timers.
    public enum Phase: Sendable, Hashable {
        /// Between requests: the idle timeout applies.
        case idle
        /// A request head is arriving: the header timeout applies (slowloris).
        case readingHead
        /// A request body is arriving: each read must make progress within the body timeout.
        case readingBody
        /// A request (or an error) was handed out and waits for `respond`.
        case awaitingResponse
        /// The last response is queued; nothing more will be read.
        case closing
        /// Another protocol owns the bytes now.
        case switched
    }

    public let policy: Policy
    private var parser: RequestParser
    private var waitingForResponse = false
    /// The request whose body is streaming in (`streamsBodies`). Set and cleared only by `takeStreamingHead`
    /// and `case .head` in `nextAction`, which keep `hasStreamingHead` with it.
    private var streamingHead: HTTPRequest?
    /// Whether `streamingHead` holds a request, kept beside it: asking the optional itself (`!= nil`, or
    /// `if case .none`) copied the whole request and destroyed the copy, and clearing it when it was already
    /// empty called its destroy too (~300 instructions a request in the phase and `respond`, callgrind).
    private var hasStreamingHead = false

    /// The streaming head, moved out; nil when there is none (nothing touched then).
    private mutating func takeStreamingHead() -> HTTPRequest? {
        guard hasStreamingHead else { return nil }
        hasStreamingHead = false
        return streamingHead.take()
    }
    private var closing = false
    private var switched = false
    private var peerClosed = false
    private var draining = false
    private var refusal = false
    public private(set) var requestsAnswered = 0
    private let serializer: ResponseSerializer

    /// - Parameter strings: an earlier connection's (`takeStrings()`), so that a new connection's first request
    ///   finds the Strings a client sends on every connection already made.
    public init(policy: Policy, serializer: ResponseSerializer = ResponseSerializer(),
                strings: RepeatedStrings = RepeatedStrings()) {
        self.policy = policy
        self.serializer = serializer
        parser = RequestParser(limits: policy.limits, strings: strings)
        parser.streamsBodies = policy.streamsBodies
    }

    /// The Strings the parser made, taken out: a closed connection's, for the next one (`init(strings:)`).
    public mutating func takeStrings() -> RepeatedStrings { parser.takeStrings() }

    // MARK: - Input

    /// Adds bytes that arrived from the peer. Once the connection is closing (its last response is queued),
    /// nothing more will be read from them: they are dropped, so a client that keeps sending (the rest of an
    /// upload answered early) costs no memory while the answer leaves.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !closing else { return }
        parser.append(bytes)
    }
    public mutating func receive<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        guard !closing else { return }
        parser.append(bytes)
    }

    /// The peer shut down its sending side (read returned 0): what it sent completely is still answered,
    /// then the connection closes.
    public mutating func receiveEnd() { peerClosed = true }

    /// A stop signal arrived: answer what is in flight with `Connection: close`, accept nothing new.
    public mutating func stopKeepingAlive() { draining = true }

    public var phase: Phase {
        var machine = self // a getter may not call `currentPhase`, which is `mutating` for the reason below
        return machine.currentPhase()
    }

    /// The phase and the number of requests answered, for the event loop's timer rule. `mutating` only so
    /// that `connection.http1?.timerState()` works on the machine where the connection object stores it:
    /// a getter called through the class reference copies the whole machine first (its parser's buffer
    /// included), twice per request, about 500 instructions measured with callgrind.
    public mutating func timerState() -> (phase: Phase, answered: Int) { (currentPhase(), requestsAnswered) }

    /// `phase`, worked out in place: the parser's state is read through `RequestParser.progress()`, which
    /// takes it by address. Through its getters the compiler copied the parser (281 octets) on every call,
    /// even on the paths that return before looking at it (two calls a request, 128 instructions, callgrind).
    private mutating func currentPhase() -> Phase {
        if switched { return .switched }
        if closing { return .closing }
        if waitingForResponse { return .awaitingResponse }
        let (midRequest, readingHead) = parser.progress()
        if hasStreamingHead || (midRequest && !readingHead) { return .readingBody }
        return readingHead && midRequest ? .readingHead : .idle
    }

    /// True when nothing of a request has arrived and nothing waits for an answer: closing now loses nothing.
    public var isBetweenRequests: Bool { phase == .idle }

    /// The next thing to do, or nil when the machine needs more bytes (or an answer to what it handed out).
    public mutating func nextAction() -> Action? {
        guard !closing, !switched, !waitingForResponse else { return nil }
        let event: RequestEvent?
        do {
            event = try parser.nextEvent()
        } catch {
            waitingForResponse = true
            refusal = true
            return .rejected(error)
        }
        switch event {
        case .request(let request)?:
            waitingForResponse = true
            return .request(request)
        case .head(let head)?:
            streamingHead = head
            hasStreamingHead = true
            return .head(head)
        case .bodyPart(let bytes)?:
            return .body(bytes)
        case .end?:
            guard let head = takeStreamingHead() else { return nil }
            waitingForResponse = true
            return .bodyEnd(head)
        case nil:
            if parser.awaitsContinue() {
                // The client waits for our go-ahead before it sends a large body (RFC 9110 §10.1.1).
                parser.markContinueSent()
                return .write(Self.continueResponse)
            }
            if peerClosed || (draining && !parser.progress().midRequest) {
                // Nothing more can complete: a cut-off request is not answered, there is no one to read it.
                closing = true
                return .close
            }
            return nil
        }
    }

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    // MARK: - Output

    /// The actions that send `response` to `request` (nil: the answer to a `.rejected` error), in order.
    /// It decides whether the connection stays open and writes the framing headers to say so.
    /// In-memory bodies up to this size are copied behind the head (one buffer); larger ones are handed
    /// out as a write of their own.
    static let bodyCopyLimit = 16 * 1024

    public mutating func respond(_ response: HTTPResponse, to request: HTTPRequest?, date: String) -> [Action] {
        var actions: [Action] = []
        respond(response, to: request, date: date) { actions.append($0) }
        return actions
    }

    /// The same actions handed one by one to `emit`, in order: the event loop's way, which queues each as it
    /// comes instead of collecting them in an array first (an allocation per response, ~250 instructions).
    public mutating func respond(_ response: HTTPResponse, to request: HTTPRequest?, date: String,
                                 into emit: (Action) -> Void) {
        respond(response, answering: .of(request), date: date, into: emit)
    }

    /// The same, given only what the answer needs of the request (`AnsweredRequest`): the event loop's way,
    /// which takes that before the handler and hands the handler the request itself.
    ///
    /// `spare`: an array whose bytes were sent already, for the head (and a small body) to be written into
    /// instead of a new allocation (`HeadWriter.buffer`).
    public mutating func respond(_ response: HTTPResponse, answering request: AnsweredRequest, date: String,
                                 reusing spare: consuming [UInt8]? = nil, into emit: (Action) -> Void) {
        // Answered on its head, before its body (RFC 9110 §10.1.1 allows a final status instead of 100
        // Continue): the body that may follow is never read, so the connection cannot be reused; what
        // still arrives is discarded while the connection lingers.
        let bodyUnread = takeStreamingHead() != nil
        waitingForResponse = false
        requestsAnswered += 1
        let method = request.method, version = request.version
        let answersARequest = request.isRequest, clientKeepsAlive = request.wantsKeepAlive
        let framing = BodyFraming.choose(for: response.body, version: version)
        let switching = response.status.code == 101 && answersARequest
        let keepAlive = switching || (!bodyUnread && answersARequest && keepsAlive(clientAsks: clientKeepsAlive, framing: framing))

        let sendsBody = serializer.sendsBody(response, requestMethod: method)
        // A small in-memory body goes in the head's buffer, allocated once for both: one write, one
        // syscall, no Nagle stall.
        var bodyBehindHead: [UInt8]? = nil
        if sendsBody, case .bytes(let bytes) = response.body, bytes.count <= Self.bodyCopyLimit { bodyBehindHead = bytes }
        let head = serializer.head(for: response, version: version, keepAlive: keepAlive, framing: framing, date: date,
                                   followedBy: bodyBehindHead, reusing: spare.take())
        if sendsBody {
            switch response.body {
            case .empty:
                emit(.write(head))
            case .bytes(let bytes) where bytes.count > Self.bodyCopyLimit:
                // A large body (a cached file) is not copied behind the head: the driver sends both pieces in
                // one gathered write (writev), so there is still one system call and no Nagle stall.
                emit(.write(head))
                emit(.write(bytes))
            case .bytes:
                emit(.write(head)) // the body is already in it
            case .file(let path, let offset, let length):
                emit(.write(head))
                if length > 0 { emit(.sendFile(path: path, offset: offset, length: length)) }
            case .stream(let body):
                emit(.write(head))
                emit(.stream(body, chunked: framing == .chunked))
            case .parts(let parts):
                emit(.write(head))
                for part in parts {
                    switch part {
                    case .bytes(let bytes): emit(.write(bytes))
                    case .file(let path, let offset, let length) where length > 0:
                        emit(.sendFile(path: path, offset: offset, length: length))
                    default: break
                    }
                }
            }
        } else {
            emit(.write(head))
        }
        if switching {
            switched = true
            emit(.switchProtocols(leftover: Array(parser.unconsumedBytes)))
        } else if !keepAlive {
            closing = true
            // Bytes already here past this request (pipelined requests the close cuts off) say more may be on
            // the way. Closing with the client's bytes unread makes the kernel reset the connection, and the
            // reset can destroy this response before the client reads it (RFC 9112 §9.6): linger instead, as
            // nginx does when its buffer holds more. A lone `Connection: close` request closes at once.
            let moreArrived = !parser.unconsumedBytes.isEmpty
            emit(refusal || bodyUnread || moreArrived ? .lingeringClose : .close)
        }
    }

    /// The head of a response whose body the driver relays itself as it arrives (a reverse proxy passing
    /// on an upstream's body, framed by `framing`). The machine decides whether the connection stays open,
    /// as `respond` does; `ending` (`.close` or `.lingeringClose`) applies once the driver has sent the whole
    /// body and called `relayedBodyEnded()`. Until then no next request is handed out (responses in order).
    /// `spare`: an array already sent, for the head to be written into (as `respond`'s).
    public mutating func respondRelayed(_ response: HTTPResponse, framing: BodyFraming, to request: HTTPRequest,
                                        date: String, reusing spare: consuming [UInt8]? = nil) -> (head: [UInt8], ending: Action?) {
        let bodyUnread = takeStreamingHead() != nil
        waitingForResponse = true
        requestsAnswered += 1
        let keepAlive = !bodyUnread && keepsAlive(clientAsks: request.wantsKeepAlive, framing: framing)
        let head = serializer.head(for: response, version: request.version, keepAlive: keepAlive, framing: framing,
                                   date: date, followedBy: nil, reusing: spare.take())
        guard !keepAlive else { return (head, nil) }
        closing = true
        return (head, bodyUnread ? .lingeringClose : .close)
    }

    /// The relayed body of the last `respondRelayed` has been sent: the next request may be handed out.
    public mutating func relayedBodyEnded() { waitingForResponse = false }

    /// Whether the connection stays open after answering `request` (RFC 9112 §9.3).
    /// `clientAsks`: the request's own wish (`HTTPRequest.wantsKeepAlive`: its version and `Connection`).
    private func keepsAlive(clientAsks: Bool, framing: BodyFraming) -> Bool {
        guard clientAsks, !refusal, policy.keepAlive, !draining, !peerClosed else { return false }
        // A body that ends when the connection closes leaves no way to keep the connection.
        guard framing != .untilClose else { return false }
        return policy.maxRequests == 0 || requestsAnswered < policy.maxRequests
    }
}

/// What a response's head and the keep-alive decision need of the request it answers: its method (HEAD gets
/// no body), its version (the framing: chunked is HTTP/1.1's), and whether it asked to keep the connection
/// (RFC 9112 §9.3). The event loop takes this before the handler runs, so the handler can take the request
/// itself, moved rather than copied (the router keeps it in its `RoutedRequest`).
///
/// Not optional where it is passed: an optional of it was copied through a generic witness at each use
/// (~300 instructions a response, callgrind). `noRequest` stands for the answer to bytes that never became one.
public struct AnsweredRequest: Sendable, Equatable {
    public var method: HTTPMethod
    public var version: HTTPVersion
    public var wantsKeepAlive: Bool
    /// false for `noRequest`: the answer to a `.rejected` error, after which the connection closes.
    public var isRequest: Bool

    public init(_ request: borrowing HTTPRequest) {
        method = request.method
        version = request.version
        wantsKeepAlive = request.wantsKeepAlive
        isRequest = true
    }

    private init(method: HTTPMethod, version: HTTPVersion, wantsKeepAlive: Bool, isRequest: Bool) {
        self.method = method
        self.version = version
        self.wantsKeepAlive = wantsKeepAlive
        self.isRequest = isRequest
    }

    /// The answer to no request (a `.rejected` error): HTTP/1.1 framing, and the connection closes.
    public static var noRequest: AnsweredRequest {
        AnsweredRequest(method: .get, version: .http1_1, wantsKeepAlive: false, isRequest: false)
    }

    /// What answering `request` needs, `noRequest` for nil: for callers that still hold the request.
    public static func of(_ request: HTTPRequest?) -> AnsweredRequest {
        request.map { AnsweredRequest($0) } ?? .noRequest
    }
}
