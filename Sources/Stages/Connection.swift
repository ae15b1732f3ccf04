import HTTPCore
import Sockets

/// One client connection on an event loop: a small state machine, because the loop can never wait for
/// a client — it must remember where each one is and move it along when the socket is ready.
///
///     reading ──(a whole request parsed)──▶ writing ──(everything sent)──┬─▶ reading (keep-alive)
///        │                                                               └─▶ closed
///        └──(peer closed, timeout, protocol error)─────────────────────────▶ closed
///
/// After an error response the connection lingers: our side is shut down and what the client still
/// sends is read and thrown away for a moment, so that its unread bytes do not make the kernel reset
/// the connection (RST) before the client has read our answer.
final class Connection {
    enum State { case reading, writing, lingering, closed }

    let socket: Socket
    var parser: RequestParser
    var output = OutputQueue()
    var state = State.reading
    /// The interest currently registered with the poller.
    var interest: Interest = .read
    /// Close once the output is sent (Connection: close, an error, or the last allowed request).
    var closeAfterWrite = false
    /// Linger (drain the client's remaining bytes) before closing: set for error responses.
    var lingerBeforeClose = false
    var bytesDiscarded = 0
    /// The client shut down its sending side: answer what it sent, then close.
    var peerClosed = false
    var requestsServed = 0
    /// Whether TCP_NODELAY is set (done when the connection first goes into keep-alive).
    var noDelay = false
    /// When this connection is closed if nothing changes (header, idle or write timeout).
    var deadline: Double
    /// Whether the deadline is the header timeout of a request whose head is arriving.
    var headTimerStarted = false
    /// The request whose body is streaming in, and what receives that body.
    var streamingHead: HTTPRequest?
    var bodyConsumer: (any BodyConsumer)?
    /// The client's address, when the loop records it (for the access log).
    var remoteAddress: String?

    init(socket: Socket, limits: RequestLimits, deadline: Double) {
        self.socket = socket
        self.parser = RequestParser(limits: limits)
        self.deadline = deadline
        self.headTimerStarted = true
    }
}

/// Receives a request body piece by piece as it arrives (an upload streamed to disk), then answers.
/// Created when the head arrives; exactly one of `finish` or `abort` is called.
public protocol BodyConsumer: AnyObject {
    func consume(_ bytes: [UInt8])
    /// The whole body has arrived: the response.
    func finish() -> HTTPResponse
    /// The request failed (the client left, the body was malformed or too large): leave nothing behind.
    func abort()
}

/// Decides, from a request head, whether its body is streamed to a consumer; nil collects it in memory.
public typealias BodyConsumerFactory = @Sendable (HTTPRequest) -> (any BodyConsumer)?
