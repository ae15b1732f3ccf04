/// A response read off the wire.
public struct ParsedResponse: Sendable, Hashable {
    public var version: HTTPVersion
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    /// How the body was delimited, for a person reading a dump.
    public var framing: BodyFraming

    /// Whether the server will keep the connection open after this response.
    public var keepsConnection: Bool {
        if headers.contains("Connection", token: "close") { return false }
        if framing == .untilClose { return false }
        if version == .http1_1 { return true }
        return headers.contains("Connection", token: "keep-alive")
    }
}

/// An incremental HTTP/1.1 response parser (RFC 9112 §4, §6.3), the client side of `RequestParser`:
/// for the load generator, the REPL and tests. Interim 1xx responses are returned like any other.
public struct ResponseParser: Sendable {
    enum State: Sendable {
        case statusLine, headers, body(remaining: Int), chunked(ChunkedDecoder), untilClose, failed(RequestError)
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.statusLine
    private var version = HTTPVersion.http1_1
    private var status = 0
    private var reason = ""
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var framing = BodyFraming.none
    /// The method of the request this response answers: a response to HEAD has no body.
    public var requestMethod = "GET"
    private let limits = RequestLimits(maxRequestLineBytes: 64 * 1024, maxHeaderBytes: 256 * 1024,
                                       maxHeaderCount: 1000, maxBodyBytes: Int.max / 2)

    public init(requestMethod: String = "GET") {
        self.requestMethod = requestMethod
    }

    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public var unconsumedBytes: ArraySlice<UInt8> { buffer[start...] }

    /// True when part of a response has arrived.
    public var isMidResponse: Bool {
        if case .statusLine = state { return start < buffer.count }
        return true
    }

    /// The next complete response, or nil if more bytes are needed.
    public mutating func next() throws(RequestError) -> ParsedResponse? {
        do {
            return try advance()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// The connection closed: a close-delimited body ends here. Returns that response, if one was pending.
    public mutating func finish() throws(RequestError) -> ParsedResponse? {
        if case .untilClose = state {
            body.append(contentsOf: buffer[start...])
            start = buffer.count
            return complete()
        }
        if isMidResponse { throw .badRequest("connection closed in the middle of a response") }
        return nil
    }

    private mutating func advance() throws(RequestError) -> ParsedResponse? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .statusLine:
                guard let line = LineScanner.nextLine(in: buffer, start: start, scanFrom: start) else { return nil }
                if line.bareLF { throw LineScanner.bareLF("status line") }
                start = line.next
                try parseStatusLine(buffer[line.content])
                state = .headers
            case .headers:
                guard let line = LineScanner.nextLine(in: buffer, start: start, scanFrom: start) else { return nil }
                if line.bareLF { throw LineScanner.bareLF("header line") }
                start = line.next
                if line.content.isEmpty {
                    if let response = try startBody() { return response }
                    continue
                }
                headers.add(try HeaderFieldParser.parse(buffer[line.content]))
            case .body(let remaining):
                let take = min(buffer.count - start, remaining)
                guard take > 0 else { return nil }
                body.append(contentsOf: buffer[start..<(start + take)])
                start += take
                if take == remaining { return complete() }
                state = .body(remaining: remaining - take)
            case .chunked(var decoder):
                let done = try decoder.decode(buffer, start: &start, into: &body, limits: limits)
                state = .chunked(decoder)
                return done ? complete() : nil
            case .untilClose:
                body.append(contentsOf: buffer[start...])
                start = buffer.count
                return nil
            }
        }
    }

    private mutating func parseStatusLine(_ line: ArraySlice<UInt8>) throws(RequestError) {
        let parts = line.split(separator: ASCII.space, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[1].count == 3, parts[1].allSatisfy(ASCII.isDigit) else {
            throw .badRequest("malformed status line \(RequestError.quote(line))")
        }
        let versionBytes = parts[0]
        guard versionBytes.count == 8, versionBytes.starts(with: "HTTP/".utf8) else {
            throw .badRequest("malformed HTTP version in status line")
        }
        let text = Array(versionBytes)
        version = HTTPVersion(major: Int(text[5]) - 0x30, minor: Int(text[7]) - 0x30)
        status = Int(String(decoding: parts[1], as: UTF8.self)) ?? 0
        reason = parts.count > 2 ? String(decoding: parts[2], as: UTF8.self) : ""
    }

    private mutating func startBody() throws(RequestError) -> ParsedResponse? {
        if requestMethod == "HEAD" || (100...199).contains(status) || status == 204 || status == 304 {
            framing = .none
            return complete()
        }
        if headers.contains("Transfer-Encoding") {
            guard headers.listElements("Transfer-Encoding").last.map({ ASCII.caseInsensitiveEquals($0, "chunked") }) == true else {
                framing = .untilClose
                state = .untilClose
                return nil
            }
            framing = .chunked
            state = .chunked(ChunkedDecoder())
            return nil
        }
        if let value = headers["Content-Length"] {
            guard let length = Int(value.trimmingASCIIWhitespace()), length >= 0 else {
                throw .badRequest("invalid Content-Length \(RequestError.quote(value)) in response")
            }
            framing = .contentLength(length)
            if length == 0 { return complete() }
            state = .body(remaining: length)
            return nil
        }
        framing = .untilClose
        state = .untilClose
        return nil
    }

    private mutating func complete() -> ParsedResponse {
        let response = ParsedResponse(version: version, status: status, reason: reason, headers: headers, body: body, framing: framing)
        headers = HTTPHeaders()
        body = []
        status = 0
        reason = ""
        framing = .none
        state = .statusLine
        return response
    }
}
