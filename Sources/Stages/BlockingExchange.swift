import HTTPCore
import Sockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One request and one response over a blocking socket: the exchange that `hello` introduces and that
/// `static`, `fork` and `threads` reuse, each around its own way of handling connections.
public enum BlockingExchange {
    /// What reading a request from a connection can end with.
    public enum Outcome: Sendable {
        case request(HTTPRequest)
        /// The bytes broke the protocol: answer the error, then close.
        case refused(RequestError)
        /// The client closed before a whole request arrived (or sent nothing at all).
        case closed
        /// The client stopped sending before the head was complete: answer 408, then close.
        case timedOut
    }

    /// Reads until the parser has a whole request. TCP delivers a byte stream, not messages, so a request
    /// may arrive in many reads (or share a read with the next one): the parser keeps what it has not used.
    ///
    /// The head must arrive within `headerTimeout` seconds in total, however it is spread out: a client
    /// that sends one byte every 100 ms would otherwise hold the connection for ever (slowloris). Once the
    /// body is arriving, each read may wait `headerTimeout` for progress.
    public static func readRequest(from client: Socket, parser: inout RequestParser,
                                   headerTimeout: Double) throws(SystemError) -> Outcome {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let headDeadline = Processes.monotonicSeconds() + headerTimeout
        while true {
            do {
                if let request = try parser.next() { return .request(request) }
            } catch {
                return .refused(error)
            }
            if parser.requestAwaitingContinue != nil {
                // The client waits for our go-ahead before sending a large body (RFC 9110 §10.1.1).
                try client.writeAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                parser.markContinueSent()
            }
            let wait = parser.isReadingHead || !parser.isMidRequest
                ? headDeadline - Processes.monotonicSeconds() : headerTimeout
            guard wait > 0 else { return parser.isMidRequest ? .timedOut : .closed }
            try client.setReceiveTimeout(seconds: max(wait, 0.001))
            let result = try buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(SystemError) in try client.read(into: bytes) }
            }.get()
            switch result {
            case .done(0):
                return .closed
            case .done(let count):
                parser.append(buffer[0..<count])
            case .wouldBlock:
                // SO_RCVTIMEO expired: the deadline passed.
                return parser.isMidRequest ? .timedOut : .closed
            }
        }
    }

    /// Writes `response` to `client`: the head and an in-memory body in one write, a file body straight from
    /// the page cache with sendfile, in bounded pieces, so a 1 GB file costs no more memory than a 1 KB one.
    public static func send(_ response: HTTPResponse, to client: Socket, for request: HTTPRequest?,
                            keepAlive: Bool = false, serializer: ResponseSerializer = ResponseSerializer()) throws(SystemError) {
        let method = request?.method ?? "GET"
        let version = request?.version ?? .http1_1
        let date = HTTPDate.now()
        if case .stream(let body) = response.body, serializer.sendsBody(response, requestMethod: method) {
            try sendStream(body, head: response, to: client, method: method, version: version, keepAlive: keepAlive,
                           serializer: serializer, date: date)
            return
        }
        guard case .file(let path, let offset, let length) = response.body,
              serializer.sendsBody(response, requestMethod: method) else {
            try client.writeAll(serializer.serialize(response, requestMethod: method, version: version,
                                                     keepAlive: keepAlive, date: date))
            return
        }
        let file: FileDescriptor
        do {
            file = try FileDescriptor.openForReading(path)
        } catch {
            let failure = HTTPResponse.text(.forbidden, "403 Forbidden: the file could not be opened (\(error.errnoName))\n")
            try client.writeAll(serializer.serialize(failure, requestMethod: method, version: version,
                                                     keepAlive: false, date: date))
            return
        }
        defer { file.close() }
        try client.writeAll(serializer.head(for: response, requestMethod: method, version: version,
                                            keepAlive: keepAlive, date: date))
        var sent = 0
        while sent < length {
            let result = try client.sendFile(file, offset: offset + sent, count: min(length - sent, 1 << 20))
            guard case .done(let count) = result else { throw SystemError("sendfile", errno: EAGAIN) }
            if count == 0 { throw SystemError("sendfile", errno: EIO) } // the file shrank under us
            sent += count
        }
    }

    /// A body of unknown length: chunked for HTTP/1.1, until close for HTTP/1.0.
    static func sendStream(_ body: StreamedBody, head response: HTTPResponse, to client: Socket, method: String,
                           version: HTTPVersion, keepAlive: Bool, serializer: ResponseSerializer, date: String) throws(SystemError) {
        let framing = BodyFraming.choose(for: response.body, version: version)
        guard let stream = try? body.open() else {
            try client.writeAll(serializer.serialize(.text(.internalServerError, "500 Internal Server Error: the body could not be produced\n"),
                                                     requestMethod: method, version: version, keepAlive: false, date: date))
            return
        }
        defer { stream.close() }
        try client.writeAll(serializer.head(for: response, requestMethod: method, version: version,
                                            keepAlive: keepAlive && framing != .untilClose, framing: framing, date: date))
        while true {
            let piece: [UInt8]?
            do { piece = try stream.next() } catch { throw SystemError("body stream", errno: EIO) }
            guard let piece else { break }
            try client.writeAll(framing == .chunked ? ChunkedEncoder.chunk(piece) : piece)
        }
        if framing == .chunked { try client.writeAll(ChunkedEncoder.lastChunk) }
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

    /// Reads one request and answers it with `respond`, then returns: the whole life of a connection in
    /// the iterative stages. Protocol errors get their status and reason; a silent client gets 408.
    public static func serveOne(_ client: Socket, configuration: ServerConfiguration,
                                respond: (HTTPRequest) -> HTTPResponse) throws(SystemError) {
        try client.setNoDelay()
        try client.setSendTimeout(seconds: 60)
        var parser = RequestParser(limits: configuration.limits)
        switch try readRequest(from: client, parser: &parser, headerTimeout: configuration.headerTimeout) {
        case .request(let request):
            try send(respond(request), to: client, for: request)
        case .refused(let error):
            try send(.error(error), to: client, for: nil)
            lingeringClose(client)
        case .timedOut:
            let what = parser.isReadingHead ? "the request head did not arrive within" : "the request body stopped arriving for"
            try send(.error(RequestError(.requestTimeout, "\(what) \(Seconds.text(configuration.headerTimeout))")),
                     to: client, for: nil)
        case .closed:
            break
        }
    }
}
