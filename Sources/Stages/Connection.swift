import HTTPCore
import Sockets

/// One client connection on an event loop: what the loop must remember about it between readiness
/// events, because it can never wait for a client.
///
/// The rules of HTTP live in its protocol slot, a machine without I/O; the connection holds only what
/// the loop needs to move bytes: the transport, the output not yet sent, a deadline, and how it ends.
///
///     reading ──(the protocol queued output)──▶ writing ──(all sent)──┬─▶ reading (keep-alive)
///        │                                                           ├─▶ closed  (close)
///        │                                                           └─▶ lingering ─▶ closed
///        └──(peer closed, timeout, reset)────────────────────────────────▶ closed
final class Connection {
    /// What happens once the queued output has been sent.
    enum Ending { case close, linger }

    let transport: any Transport
    /// The protocol slot: the machine that turns this connection's bytes into actions. Exactly one is
    /// set. Every connection starts with HTTP/1.1; a `101 Switching Protocols` to WebSocket hands the
    /// bytes to a WebSocket machine (and HTTP/2's preface will hand them to an HTTP/2 one). They are
    /// stored properties of a class, so `connection.http1?.nextAction()` works on the machine in place.
    var http1: HTTP1Connection?
    var webSocket: WebSocketConnection?
    /// After the HTTP/2 preface (prior knowledge) or ALPN `h2` (the http2 stage).
    var http2: HTTP2Connection?
    /// HTTP/2: the files opened for each stream's body, held until the machine says the stream ended.
    var http2Files: [UInt32: [String: SharedFile]] = [:]
    /// The first bytes of a connection while they could still be either protocol (at most one request line).
    var prefaceProbe: [UInt8] = []
    var output = OutputQueue()
    /// The interest currently registered with the poller.
    var interest: Interest = .read
    /// Whether the poller watches this connection yet (a plain TCP connection is read once before it is).
    var registered = true
    /// Set when the protocol said the connection ends after this output.
    var ending: Ending?
    /// Our side is shut down; what the client still sends is read and thrown away until it closes.
    var lingering = false
    var bytesDiscarded = 0
    var closed = false
    /// Whether TCP_NODELAY is set (done when the connection first goes into keep-alive).
    var noDelay = false
    /// When this connection is closed if nothing changes; set by the loop's one timer rule.
    var deadline: Double
    /// When the head of the request now arriving started (the header timeout counts from it).
    var headStartedAt: Double?
    /// What receives the body of the request now streaming in (an upload), once its head arrived.
    var bodyConsumer: (any BodyConsumer)?
    /// The client's address, when the loop records it (for the access log).
    var remoteAddress: String?
    /// After a switch to WebSocket: the endpoint its messages go to, and how the endpoint sees it.
    var webSocketEndpoint: (any WebSocketEndpoint)?
    var webSocketPeer: WebSocketPeer?
    /// A WebSocket ping went out because the peer was quiet; the next deadline without an answer closes it.
    var pingSent = false
    /// Queued in the loop's flush list (output given to it from another connection's event).
    var flushScheduled = false
    /// When the request being answered arrived (the wake-up that brought its head), for /metrics.
    var requestStartedAt: Double?
    /// The proxy stage: the exchange with an upstream that is answering this connection's request.
    var proxied: ProxyExchange?

    /// The machine is made here from its policy: handed in made, the large struct (its parser and buffers)
    /// was copied on the way in (callgrind, `Connection: close`: 95 instructions a connection more).
    init(transport: any Transport, policy: HTTP1Connection.Policy, acceptedAt now: Double,
         strings: RepeatedStrings = RepeatedStrings()) {
        self.transport = transport
        self.tls = transport as? TLSTransport
        self.http1 = HTTP1Connection(policy: policy, strings: strings)
        self.deadline = now
        // A connection that sends nothing at all is held to the header timeout from the start.
        self.headStartedAt = now
    }

    var fd: Int32 { transport.socket.fd }

    /// The transport when it is TLS (looked up once, not cast on every request).
    let tls: TLSTransport?

    /// Over TLS, the session as the access log shows it, made once when the first request needs it.
    var tlsDescription: String? {
        if tlsDescriptionMade == nil { tlsDescriptionMade = tls?.summary?.description }
        return tlsDescriptionMade
    }
    private var tlsDescriptionMade: String?
}

/// Receives a request body piece by piece as it arrives (an upload streamed to disk), then answers.
/// Created when the head arrives; exactly one of `finish` or `abort` is called.
public protocol BodyConsumer: AnyObject {
    func consume(_ bytes: [UInt8])
    /// The whole body has arrived: the response.
    func finish() -> HTTPResponse
    /// The request failed (the client left, the body was malformed or too large): leave nothing behind.
    func abort()
    /// True when `finish` already knows the answer on the head (a refused upload): the loop sends it at
    /// once, instead of a `100 Continue` and a body read only to be thrown away.
    var answersBeforeBody: Bool { get }
}

extension BodyConsumer {
    public var answersBeforeBody: Bool { false }
}

/// Decides, from a request head, whether its body is streamed to a consumer; nil collects it in memory.
public typealias BodyConsumerFactory = @Sendable (HTTPRequest) -> (any BodyConsumer)?
