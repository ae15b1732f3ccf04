/// One stream of an HTTP/2 connection as the server sees it (RFC 9113 §5.1): one request and its response.
///
/// Only the states a client-opened stream passes through on a server are kept here:
///
///         idle ──HEADERS──▶ open ──END_STREAM received──▶ half-closed (remote) ──END_STREAM sent──▶ closed
///                             │                                                                     ▲
///                             └──────────────── RST_STREAM sent or received ───────────────────────┘
///
/// "idle" and "closed" are not stored: a stream the connection does not hold is idle when its ID is above every
/// ID the client has used, closed otherwise (§5.1.1). A server that answers before the request body has ended
/// (a 413) ends its side, then resets the stream with NO_ERROR (§8.1), so "half-closed (local)" never lasts.
struct HTTP2Stream: Sendable {
    enum State: Sendable, Hashable {
        /// The client may still send DATA (or trailers).
        case open
        /// The client has sent END_STREAM; the request is whole and waits for (or is getting) its response.
        case halfClosedRemote
    }

    let id: UInt32
    var state = State.open

    // Receiving the request.
    /// The request built from the header block; its body grows as DATA arrives. Once whole it is handed out
    /// (`takeRequest`) and nil here: the response needs only `method`, and a stream that holds no request
    /// costs nothing to end.
    var request: HTTPRequest?
    /// The request's method: a HEAD is answered without a body.
    let method: HTTPMethod
    /// The `content-length` the client announced: the DATA must add up to it (§8.1.1).
    var expectedLength: Int?
    /// What the client may still send before we send a WINDOW_UPDATE (§6.9).
    var receiveWindow: Int
    /// The body went over the limit: the rest of it is counted and dropped, the answer is a 413.
    var bodyRefused = false

    // Sending the response.
    /// What we may still send on this stream before the client's WINDOW_UPDATE; negative after the client
    /// lowers SETTINGS_INITIAL_WINDOW_SIZE (§6.9.2).
    var sendWindow: Int
    /// `respond` was called: a second answer is ignored.
    var responded = false
    /// The response body not yet sent, front first: bytes in memory, or ranges of files that the driver sends
    /// from disk (`.sendFile`), as the flow-control windows allow.
    var pending: [HTTP2BodySegment] = []
    /// The octets in `pending`.
    var pendingCount = 0
    /// The last DATA frame must carry END_STREAM once `pending` is sent.
    var endStreamPending = false
    /// The body names files: the driver hears `.streamEnded` when the stream is over, to let them go.
    var sendsFiles = false

    init(id: UInt32, request: HTTPRequest, receiveWindow: Int, sendWindow: Int) {
        self.id = id
        self.request = request
        method = request.method
        self.receiveWindow = receiveWindow
        self.sendWindow = sendWindow
    }

    /// A stream whose request came whole in its HEADERS (END_STREAM) and has been handed out: half-closed
    /// (remote), waiting for its answer.
    init(id: UInt32, answering method: HTTPMethod, receiveWindow: Int, sendWindow: Int) {
        self.id = id
        self.method = method
        state = .halfClosedRemote
        self.receiveWindow = receiveWindow
        self.sendWindow = sendWindow
    }
    /// Moves the request out for the handler (once). Handing out a copy cost a retain of each of its strings
    /// and arrays, and their release when the stream ends.
    mutating func takeRequest() -> HTTPRequest? {
        var taken: HTTPRequest?
        swap(&taken, &request)
        return taken
    }

    /// The octets of request body received so far.
    var bodyCount: Int { request?.body.count ?? 0 }
}

/// A piece of a response body waiting for its DATA frames.
enum HTTP2BodySegment: Sendable, Hashable {
    /// Bytes in memory, sent from `offset` on.
    case bytes([UInt8], offset: Int)
    /// `remaining` octets of the file at `path` from `offset`: the machine never reads it, the driver does.
    case file(path: String, offset: Int, remaining: Int)

    var count: Int {
        switch self {
        case .bytes(let bytes, let offset): return bytes.count - offset
        case .file(_, _, let remaining): return remaining
        }
    }
}
