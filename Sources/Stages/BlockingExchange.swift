import HTTPCore
import Sockets

/// One request and one response over a blocking socket: the exchange that `hello` introduces and that
/// `static`, `fork` and `threads` reuse, each around its own way of handling connections.
///
/// It drives the same HTTP/1.1 machine as the event loop (with keep-alive off) and queues responses
/// through the same `ResponseWriter`: the rules and the bytes are the same; only the waiting differs.
/// Here a read blocks until bytes arrive, and a write until the kernel took everything.
public enum BlockingExchange {
    /// Reads one request and answers it with `respond`, then returns: the whole life of a connection in
    /// the iterative stages. Protocol errors get their status and reason; a silent client gets 408.
    ///
    /// TCP delivers a byte stream, not messages, so a request may arrive in many reads (or share a read
    /// with the next one): the machine keeps what it has not used. The head must arrive within
    /// `headerTimeout` seconds in total, however it is spread out: a client that sends one byte every
    /// 100 ms would otherwise hold the connection for ever (slowloris). Once the body is arriving, each
    /// read may wait `headerTimeout` for progress.
    public static func serveOne(_ client: Socket, configuration: ServerConfiguration,
                                respond: (HTTPRequest) -> HTTPResponse) throws(SystemError) {
        try client.setNoDelay()
        try client.setSendTimeout(seconds: 60)
        let transport = TCPTransport(client)
        var machine = HTTP1Connection(policy: .init(keepAlive: false, limits: configuration.limits))
        var writer = ResponseWriter(files: OpenFileCache(validity: 0))
        var output = OutputQueue()
        var ending: HTTP1Connection.Action?
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let headDeadline = Processes.monotonicSeconds() + configuration.headerTimeout

        while ending == nil {
            while ending == nil, let action = machine.nextAction() {
                switch action {
                case .request(let request):
                    ending = writer.queue(respond(request), to: request, on: &machine, into: &output)
                case .rejected(let error):
                    ending = writer.queue(.error(error), to: nil, on: &machine, into: &output)
                case .write(let bytes):
                    output.append(bytes) // the interim 100 Continue
                case .close:
                    ending = .close
                default:
                    break // bodies arrive whole here (no streaming), and respond's actions went to the writer
                }
            }
            try sendAll(&output, to: transport)
            guard ending == nil else { break }

            let phase = machine.phase
            let wait = phase == .readingBody ? configuration.headerTimeout : headDeadline - Processes.monotonicSeconds()
            let result: IOResult<Int>
            if wait > 0 {
                try client.setReceiveTimeout(seconds: max(wait, 0.001))
                result = try buffer.withUnsafeMutableBytes { bytes in
                    Result { () throws(SystemError) in try transport.read(into: bytes) }
                }.get()
            } else {
                result = .wouldBlock
            }
            switch result {
            case .done(0):
                machine.receiveEnd()
            case .done(let count):
                buffer.withUnsafeBytes { machine.receive(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            case .wouldBlock:
                // SO_RCVTIMEO expired: the deadline passed. Someone in the middle of a request hears why.
                guard phase == .readingHead || phase == .readingBody else { return }
                let what = phase == .readingHead ? "the request head did not arrive within" : "the request body stopped arriving for"
                let timeout = RequestError(.requestTimeout, "\(what) \(Seconds.text(configuration.headerTimeout))")
                ending = writer.queue(.error(timeout), to: nil, on: &machine, into: &output)
                try sendAll(&output, to: transport)
            }
        }
        if case .lingeringClose? = ending { lingeringClose(client) }
    }

    /// Sends `response` on its own (a 503 when the server cannot take the connection), then returns.
    public static func send(_ response: HTTPResponse, to client: Socket) throws(SystemError) {
        var machine = HTTP1Connection(policy: .init(keepAlive: false))
        var writer = ResponseWriter(files: OpenFileCache(validity: 0))
        var output = OutputQueue()
        _ = writer.queue(response, to: nil, on: &machine, into: &output)
        try sendAll(&output, to: TCPTransport(client))
    }

    /// Writes everything queued. The socket blocks, so `flush` only stops short when the send timeout
    /// expired: a client that stopped reading.
    static func sendAll(_ output: inout OutputQueue, to transport: any Transport) throws(SystemError) {
        guard try output.flush(to: transport) else { throw SystemError.timedOut("write") }
    }

    /// After an error response: shut down our side and read what the client still sends (for up to a
    /// second or 1 MB), so its unread bytes do not make the kernel reset the connection before the
    /// client has read the answer.
    static func lingeringClose(_ client: Socket) {
        client.shutdownWrite()
        try? client.setReceiveTimeout(seconds: 1)
        let deadline = Processes.monotonicSeconds() + 1
        var discarded = 0
        while discarded < 1 << 20, Processes.monotonicSeconds() < deadline,
              let bytes = try? client.read(maxBytes: 64 * 1024), !bytes.isEmpty {
            discarded += bytes.count
        }
    }
}
