import HTTPCore
import Sockets

/// One TCP connection from the proxy to an upstream: nonblocking, in the loop's poller like a client.
///
///     connecting ──(writable, SO_ERROR 0)──▶ busy ──(response ended, reusable)──▶ idle (in the pool)
///         │                                   │  ▲                                   │
///         │                                   │  └────────(taken for a request)──────┘
///         └──(refused, timeout)──▶ closed ◀───┴──(not reusable, failed)      (expired, closed by upstream)
final class UpstreamConnection {
    enum State { case connecting, busy, idle }

    let socket: Socket
    let transport: TCPTransport
    let server: UpstreamServer
    var state = State.connecting
    /// The request head and body bytes not yet taken by the upstream's socket.
    var output = OutputQueue()
    var interest: Interest = .write
    /// The exchange this connection is carrying (nil while idle).
    var exchange: ProxyExchange?
    /// When a connect, a silent upstream or an idle pooled connection times out.
    var deadline: Double
    /// Taken from the pool (it carried a request before), rather than opened for this request.
    var reused = false
    var closed = false
    /// The client is behind (its output is over the bound): stop reading the upstream until it catches up.
    var readPaused = false
    /// The response now arriving, read without I/O.
    var reader = UpstreamResponseReader(requestMethod: .get)

    init(socket: Socket, server: UpstreamServer, deadline: Double) {
        self.socket = socket
        self.transport = TCPTransport(socket)
        self.server = server
        self.deadline = deadline
    }

    var fd: Int32 { socket.fd }
}

/// One client request on its way through the proxy: which connection carries it upstream, how its
/// response is framed for the client, and whether it may be tried again.
final class ProxyExchange {
    /// The client's request head, as the parser made it (the body streams separately).
    let request: HTTPRequest
    /// The head the upstream gets: hop-by-hop fields removed, X-Forwarded-*, Via (and the cache's validators).
    var forwarded: ProxyRequest
    let client: Connection
    var upstream: UpstreamConnection?
    var attempts = 0
    /// The whole request body has been queued for the upstream.
    var requestComplete: Bool
    /// The response head went to the client: from now on a failure can only cut the connection.
    var relaying = false
    /// The client's framing: chunks re-made from the upstream's pieces (its chunking is its own hop's).
    var clientChunked = false
    /// How the client's connection ends once the relayed body is sent (the HTTP/1.1 machine decided).
    var clientEnding: HTTP1Connection.Action?
    var status = 0
    /// After a `101 Switching Protocols` to WebSocket: the two connections are one byte tunnel.
    var tunnelling = false
    /// Whether the client's connection may be read: not while its complete request waits for the upstream.
    var holdsClientReads: Bool { (requestComplete || clientEnded) && !tunnelling }
    /// The client shut down its sending side while this exchange was in flight: at EOF its socket stays
    /// readable for ever, so it must not be watched for reading (a level-triggered poller would spin).
    var clientEnded = false
    /// The cache's part: a stale copy being revalidated (a 304 answers the client from it), and the body
    /// of a storable response recorded as it streams by (dropped once over the cache's entry limit).
    var revalidating: CachedResponse?
    var recording: (status: HTTPStatus, headers: HTTPHeaders, body: [UInt8])?

    /// The request as the upstream sees it, for the cache: its key and its Vary variant must be made of the
    /// fields that reached the upstream, or a client could strip one (`Connection: Accept-Language`) and have
    /// the answer to the stripped request stored under its own variant.
    var cacheRequest: HTTPRequest {
        var seen = request
        seen.headers = HopByHop.removing(from: request.headers)
        return seen
    }

    init(request: HTTPRequest, forwarded: ProxyRequest, client: Connection) {
        self.request = request
        self.forwarded = forwarded
        self.client = client
        requestComplete = !forwarded.hasBody
    }

    /// A failed attempt may be sent again (once, on a fresh connection) when nothing of the response
    /// arrived, the method is idempotent (RFC 9110 §9.2.2), and there is no body (it was streamed on, not kept).
    var mayRetry: Bool { attempts < 2 && !relaying && forwarded.isIdempotent && !forwarded.hasBody }
}
