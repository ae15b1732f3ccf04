import Glibc

/// What the parser found next in the byte stream.
public enum RequestEvent: Sendable, Hashable {
    /// A whole request, body included.
    case request(HTTPRequest)
    /// With `streamsBodies`: a request head whose body follows as `bodyPart`s and then `end`.
    case head(HTTPRequest)
    case bodyPart([UInt8])
    case end
}

/// An incremental HTTP/1.1 request parser (RFC 9112).
///
/// Feed it whatever `read()` returned with `append(_:)`, then call `next()` until it returns nil:
///
///     parser.append(bytesFromRead)
///     while let request = try parser.next() { respond(to: request) }
///
/// One byte at a time or several requests in one buffer give the same requests: the parser keeps the
/// bytes it has not used, and bytes after one request's body are the start of the next request.
/// After it throws, the connection's framing can no longer be trusted: answer the error and close.
public struct RequestParser: Sendable {
    enum State: Sendable {
        case requestLine
        case headers
        case body(remaining: Int)
        case chunked(ChunkedDecoder)
        /// A streamed body has ended; `.end` is reported next.
        case streamEnd
        case failed(RequestError)
    }

    public let limits: RequestLimits

    /// When true, `nextEvent()` reports a request with a body as soon as its head is complete, then the
    /// body in pieces as they arrive, so a server can stream an upload to disk instead of holding it.
    public var streamsBodies = false

    /// Received bytes; `buffer[start...]` are not consumed yet.
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the current line's LF resumes.
    private var scanFrom = 0
    private var state = State.requestLine

    // The request being assembled.
    private var method: HTTPMethod = ""
    private var target = ""
    /// Found on the target's octets as the request line is read: the request then does not look again.
    private var targetShape = TargetShape()
    private var version = HTTPVersion.http1_1
    private var headers = HTTPHeaders()
    /// The previous request's Strings, given back for the same octets at the same place (`RepeatedStrings`).
    private var strings = RepeatedStrings()
    /// The last Host found valid on this connection: a client sends the same one on every request, and
    /// `strings` hands back the same String for it, so comparing costs a few instructions where checking
    /// again cost about 150. Only names of DNS length are kept (an idle connection holds no large value).
    private var lastValidHost: String?
    /// The longest Host remembered: a 253-octet DNS name, ':' and a 5-digit port (RFC 1035 §2.3.4).
    private static let longestRememberedHost = 259
    private var headerBytes = 0
    /// What the header lines so far said about the framing (`HeaderFieldParser.FramingField`): the first Host,
    /// how many there were, and whether Content-Length or Transfer-Encoding came.
    private var host: String?
    private var hostCount = 0
    private var hasContentLength = false
    private var hasTransferEncoding = false
    private var body: [UInt8] = []
    private var bodyBytesReceived = 0
    private var emptyLinesSkipped = 0
    private var continueSent = false

    public init(limits: RequestLimits = RequestLimits(), strings: RepeatedStrings = RepeatedStrings()) {
        self.limits = limits
        self.strings = strings
    }

    /// The Strings this parser made, taken out (it keeps none): for the next connection's parser.
    public mutating func takeStrings() -> RepeatedStrings {
        var taken = RepeatedStrings()
        swap(&taken, &strings)
        return taken
    }

    /// Adds bytes received from the peer.
    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a returned request.
    public var unconsumedBytes: ArraySlice<UInt8> { buffer[start...] }

    /// True when some of a request has arrived but not all of it: a peer that closes now cut a request short.
    public var isMidRequest: Bool {
        var parser = self // `progress` is `mutating`, for the reason it gives
        return parser.progress().midRequest
    }

    /// True while the header section is still arriving (what a header timeout guards).
    public var isReadingHead: Bool {
        var parser = self
        return parser.progress().readingHead
    }

    /// `isMidRequest` and `isReadingHead` at once, for a caller that holds the parser in place (`mutating`
    /// only so that it is passed by address: through the getters the compiler copied the whole parser).
    public mutating func progress() -> (midRequest: Bool, readingHead: Bool) {
        switch state {
        case .requestLine:
            guard start < buffer.count else { return (false, false) }
            // Only CRLFs so far: empty lines a client may send before a request (RFC 9112 §2.2), not one yet.
            return (!buffer[start...].allSatisfy { $0 == ASCII.cr || $0 == ASCII.lf }, true)
        case .headers: return (true, true)
        default: return (true, false)
        }
    }

    /// The head of a request whose body is still expected and whose client sent `Expect: 100-continue`
    /// and has not been answered yet: the server should send `100 Continue` (or a final status) now.
    public var requestAwaitingContinue: HTTPRequest? {
        var parser = self // `awaitsContinue` is `mutating`, for the reason it gives
        guard parser.awaitsContinue() else { return nil }
        return HTTPRequest(method: method, target: target, shape: targetShape, version: version, headers: headers)
    }

    /// Whether there is a `requestAwaitingContinue`, without making it. `mutating` only so that the parser is
    /// passed by address: asked through a getter, the compiler copied the whole parser (281 octets) first,
    /// every time the connection ran out of bytes (once a request).
    public mutating func awaitsContinue() -> Bool {
        // Asked each time the machine runs out of bytes, nearly always between requests: the state first,
        // so the last request's headers are not searched for Expect again and again.
        switch state {
        case .body, .chunked: break
        default: return false
        }
        // RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request.
        return !continueSent && bodyBytesReceived == 0 && version == .http1_1
            && headers.contains("Expect", token: "100-continue")
    }

    /// Records that the interim `100 Continue` went out, so `requestAwaitingContinue` stops asking.
    public mutating func markContinueSent() { continueSent = true }

    /// The next complete request, nil if more bytes are needed, or the error that makes the stream unusable.
    /// Bodies are always collected whole here, whatever `streamsBodies` says.
    public mutating func next() throws(RequestError) -> HTTPRequest? {
        let streams = streamsBodies
        streamsBodies = false
        defer { streamsBodies = streams }
        guard case .request(let request)? = try nextEvent() else { return nil }
        return request
    }

    /// The next thing that happened in the byte stream, or nil if more bytes are needed.
    public mutating func nextEvent() throws(RequestError) -> RequestEvent? {
        do {
            return try advance()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func advance() throws(RequestError) -> RequestEvent? {
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .requestLine:
                // The limit allows the request line plus its CR; it is judged on the bytes before the LF
                // whether or not the LF has arrived, so every split of the input gets the same answer.
                let lineLimit = limits.maxRequestLineBytes + 1
                guard let line = LineScanner.nextLine(in: buffer, start: start, scanFrom: scanFrom) else {
                    scanFrom = buffer.count
                    if buffer.count - start > lineLimit {
                        throw RequestError(.uriTooLong, "request line longer than \(limits.maxRequestLineBytes) bytes")
                    }
                    return nil
                }
                guard line.bytesBeforeLF <= lineLimit else {
                    throw RequestError(.uriTooLong, "request line longer than \(limits.maxRequestLineBytes) bytes")
                }
                if line.bareLF { throw LineScanner.bareLF("request line") }
                start = line.next
                scanFrom = line.next
                if line.content.isEmpty {
                    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
                    emptyLinesSkipped += 1
                    guard emptyLinesSkipped <= Self.maxEmptyLinesBeforeRequest else {
                        throw .badRequest("too many empty lines before the request line")
                    }
                    continue
                }
                try parseRequestLine(buffer[line.content])
                state = .headers

            case .headers:
                guard try readFieldLines() else { return nil }
                if let request = try startBody() { return .request(request) }
                if streamsBodies {
                    return .head(HTTPRequest(method: method, target: target, shape: targetShape, version: version, headers: headers))
                }

            case .body(let remaining):
                let available = buffer.count - start
                guard available > 0 else { return nil }
                let take = min(available, remaining)
                let piece = buffer[start..<(start + take)]
                start += take
                bodyBytesReceived += take
                if streamsBodies {
                    state = take == remaining ? .streamEnd : .body(remaining: remaining - take)
                    return .bodyPart(Array(piece))
                }
                body.append(contentsOf: piece)
                if take == remaining { return .request(finishRequest()) }
                state = .body(remaining: remaining - take)

            case .chunked(var decoder):
                if streamsBodies {
                    var piece: [UInt8] = []
                    let done: Bool
                    do {
                        done = try decoder.decode(buffer, start: &start, into: &piece, limits: limits)
                    } catch {
                        // Body bytes decoded before the error are handed out first, then the error: the same
                        // events whether the bad bytes arrived with the good ones or after them (fuzz finding).
                        guard !piece.isEmpty else { throw error }
                        bodyBytesReceived += piece.count
                        state = .failed(error)
                        return .bodyPart(piece)
                    }
                    bodyBytesReceived += piece.count
                    state = done ? .streamEnd : .chunked(decoder)
                    if !piece.isEmpty { return .bodyPart(piece) }
                    if done { continue }
                    return nil
                }
                let done = try decoder.decode(buffer, start: &start, into: &body, limits: limits)
                bodyBytesReceived = body.count
                state = .chunked(decoder)
                if done { return .request(finishRequest()) }
                return nil

            case .streamEnd:
                _ = finishRequest()
                return .end
            }
        }
    }

    // MARK: - Field lines

    /// Reads every complete field line in the buffer into `headers`: true once the empty line that ends the
    /// head is read (`start` is past it), false when more bytes are needed.
    ///
    /// All the lines that have arrived are read through one buffer pointer: a slice of the buffer per line
    /// (`buffer[line.content]`, a retain and a release of its storage, and a pointer taken again for each
    /// check) cost about 150 instructions a line more (callgrind).
    private mutating func readFieldLines() throws(RequestError) -> Bool {
        let received = buffer // the same storage (a retain, not a copy): read while `headers` and `strings` change
        return try received.withUnsafeBufferPointer { bytes throws(RequestError) in
            while true {
                // The header section's size counts every byte of every field line, line ends included;
                // a line still arriving counts with the LF it must end with.
                // Limits come first, then meaning: a head over the limit is a 431 whatever its fields say, and a
                // head within it is judged on its fields, however the bytes were split into reads.
                guard let line = LineScanner.nextLine(in: bytes, start: start, scanFrom: scanFrom) else {
                    scanFrom = bytes.count
                    // Nothing pending, or a lone CR, may be the empty line that ends the head, which does not
                    // count. Fuzz finding: with the field lines exactly at the limit, a read that ended after a
                    // line's LF counted the LF of a line not yet begun, a 431 that the whole head did not get.
                    let pending = bytes.count - start
                    let mayBeEnd = pending == 0 || (pending == 1 && bytes[start] == ASCII.cr)
                    if !mayBeEnd && headerBytes + pending + 1 > limits.maxHeaderBytes {
                        throw RequestError(.requestHeaderFieldsTooLarge,
                                           "header section larger than \(limits.maxHeaderBytes) bytes")
                    }
                    return false
                }
                if line.content.isEmpty && line.bytesBeforeLF <= 1 {
                    if line.bareLF { throw LineScanner.bareLF("header section") }
                    start = line.next
                    scanFrom = line.next
                    return true
                }
                headerBytes += line.bytesBeforeLF + 1
                guard headerBytes <= limits.maxHeaderBytes else {
                    throw RequestError(.requestHeaderFieldsTooLarge,
                                       "header section larger than \(limits.maxHeaderBytes) bytes")
                }
                if line.bareLF { throw LineScanner.bareLF("header line") }
                start = line.next
                scanFrom = line.next
                guard headers.count < limits.maxHeaderCount else {
                    throw RequestError(.requestHeaderFieldsTooLarge, "more than \(limits.maxHeaderCount) header fields")
                }
                // A request's first field makes room for a typical head's (a browser sends 8 to 15): one
                // allocation instead of one at each doubling.
                if headers.count == 0 { headers.reserveCapacity(Self.typicalFieldCount) }
                let (field, framing) = try HeaderFieldParser.parse(UnsafeBufferPointer(rebasing: bytes[line.content]),
                                                                   reusing: &strings)
                switch framing {
                case .host?: host = host ?? field.value; hostCount += 1
                case .contentLength?: hasContentLength = true
                case .transferEncoding?: hasTransferEncoding = true
                case nil: break
                }
                headers.add(field)
            }
        }
    }

    // MARK: - Request line

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
    private mutating func parseRequestLine(_ line: ArraySlice<UInt8>) throws(RequestError) {
        // Every octet of the line is looked at once, through a buffer pointer: the same checks on the slice
        // (`firstIndex`, `allSatisfy` with closures) cost about 300 instructions more a request (callgrind).
        try line.withUnsafeBufferPointer { bytes throws(RequestError) in try parseRequestLine(bytes) }
    }

    private mutating func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) throws(RequestError) {
        // Two single spaces cut the line in three (found by index: no array of parts for every request).
        guard let firstSpace = Self.index(of: ASCII.space, in: line, from: 0),
              let secondSpace = Self.index(of: ASCII.space, in: line, from: firstSpace + 1),
              firstSpace > 0, secondSpace > firstSpace + 1, secondSpace + 1 < line.count else {
            throw .badRequest("request line must be 'METHOD TARGET HTTP/1.1' with single spaces, got \(RequestError.quote(line))")
        }
        let methodBytes = UnsafeBufferPointer(rebasing: line[..<firstSpace])
        let targetBytes = UnsafeBufferPointer(rebasing: line[(firstSpace + 1)..<secondSpace])
        let versionBytes = UnsafeBufferPointer(rebasing: line[(secondSpace + 1)...])
        guard ASCII.allTokenChars(methodBytes) else {
            throw .badRequest("method \(RequestError.quote(methodBytes)) is not a valid token")
        }
        for byte in targetBytes where byte <= 0x20 || byte >= 0x7F {
            throw .badRequest("request target contains whitespace or a control character")
        }
        version = try Self.parseVersion(versionBytes)
        method = HTTPMethod(bytes: methodBytes)
        // The last request's field array, emptied: its storage is this request's when the last request is gone
        // (its handler has finished), so a request on a kept connection allocates no array (nor frees one).
        headers.removeAll(keepingCapacity: true)
        strings.rewind()
        target = strings.string(targetBytes)
        targetShape = strings.shape(of: target) { TargetShape(bytes: targetBytes) }
        // origin-form, nearly every request, is known by its first octet without looking at the String.
        if targetBytes[0] != ASCII.slash { try checkTargetForm() }
    }

    /// The index of the first `octet` in `bytes` at or after `from`, found with memchr.
    private static func index(of octet: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard from < bytes.count, let base = bytes.baseAddress,
              let found = memchr(base + from, Int32(octet), bytes.count - from) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT: 1.0 and 1.1 are served, 1.2 to 1.9 are served as 1.1, other
    /// well-formed versions (2.0, 3.0, 0.9) get 505.
    static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>) throws(RequestError) -> HTTPVersion {
        // Nearly every request says exactly HTTP/1.1: those eight octets, compared as one 64-bit word.
        if bytes.count == 8, UnsafeRawPointer(bytes.baseAddress!).loadUnaligned(as: UInt64.self) == Self.http1_1Word {
            return .http1_1
        }
        let text = 0
        guard bytes.count == 8, ASCII.equals(UnsafeBufferPointer(rebasing: bytes[text..<(text + 5)]), "HTTP/"), ASCII.isDigit(bytes[text + 5]),
              bytes[text + 6] == UInt8(ascii: "."), ASCII.isDigit(bytes[text + 7]) else {
            throw .badRequest("malformed HTTP version \(RequestError.quote(bytes)) (expected HTTP/1.1)")
        }
        let version = HTTPVersion(major: Int(bytes[text + 5] - 0x30), minor: Int(bytes[text + 7] - 0x30))
        // RFC 9112 §2.3: a higher minor version of the same major version can be understood as the highest
        // minor version the server supports; a server SHOULD respond with that version. So HTTP/1.2 (up to
        // HTTP/1.9) is an HTTP/1.1 request, with 1.1's rules (Host required, chunked allowed, keep-alive).
        if version.major == 1 && version.minor >= 2 { return .http1_1 }
        guard version == .http1_1 || version == .http1_0 else {
            throw RequestError(.httpVersionNotSupported, "\(version) is not supported; use HTTP/1.1 or HTTP/1.0")
        }
        return version
    }

    /// "HTTP/1.1" as the word its eight octets make in memory (the byte order of this machine).
    private static let http1_1Word: UInt64 = Array("HTTP/1.1".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }

    /// origin-form (`/path?q`), absolute-form (`http://host/path`), asterisk-form (`*`, OPTIONS only),
    /// authority-form (`host:port`, CONNECT only) — RFC 9112 §3.2.
    private func checkTargetForm() throws(RequestError) {
        if target.hasPrefix("/") { return }
        if target == "*" {
            guard method == .options else { throw .badRequest("the '*' target is only allowed with OPTIONS") }
            return
        }
        let lower = target.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") { return }
        if method == .connect { return }
        throw .badRequest("request target must start with '/' (or be an absolute http:// URL)")
    }

    // MARK: - Framing

    /// Decides how the body is framed (RFC 9112 §6.3) once the header section is complete.
    /// Returns the request if it has no body.
    private mutating func startBody() throws(RequestError) -> HTTPRequest? {
        // The three fields that decide the framing were noted as their lines were read (most requests have
        // neither of the two framing fields, and then nothing else is looked at).
        try checkHost(host, count: hostCount)

        if hasTransferEncoding {
            let transferEncodings = headers.listElements("Transfer-Encoding")
            if hasContentLength {
                throw .badRequest("both Content-Length and Transfer-Encoding are present (a request smuggling risk)")
            }
            if version == .http1_0 {
                throw .badRequest("Transfer-Encoding is not defined for HTTP/1.0")
            }
            let chunkedPositions = transferEncodings.indices.filter {
                ASCII.caseInsensitiveEquals(transferEncodings[$0], "chunked")
            }
            let unknown = transferEncodings.filter { !ASCII.caseInsensitiveEquals($0, "chunked") }
            if chunkedPositions.isEmpty {
                let named = unknown.first ?? ""
                throw RequestError(.notImplemented, "Transfer-Encoding \(RequestError.quote(named)) is not implemented (only chunked is)")
            }
            guard chunkedPositions == [transferEncodings.count - 1] else {
                throw .badRequest("chunked must be the final transfer coding, applied once")
            }
            if let other = unknown.first {
                throw RequestError(.notImplemented, "Transfer-Encoding \(RequestError.quote(other)) is not implemented (only chunked is)")
            }
            state = .chunked(ChunkedDecoder())
            return nil
        }

        if hasContentLength {
            let length = try contentLength()
            guard length <= limits.maxBodyBytes else {
                throw RequestError(.contentTooLarge,
                                   "body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes) bytes")
            }
            if length > 0 {
                state = .body(remaining: length)
                return nil
            }
        }
        return finishRequest()
    }

    /// Content-Length = 1*DIGIT. Repeated identical values are accepted; differing ones are refused.
    private func contentLength() throws(RequestError) -> Int {
        let elements = headers.values("Content-Length").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingASCIIWhitespace() }
        var result: Int?
        for element in elements {
            guard !element.isEmpty, element.utf8.allSatisfy(ASCII.isDigit) else {
                throw .badRequest("Content-Length \(RequestError.quote(element)) is not a number of bytes")
            }
            guard element.utf8.count <= 18, let value = Int(element) else {
                throw .badRequest("Content-Length \(RequestError.quote(element)) is too large")
            }
            if let previous = result, previous != value {
                throw .badRequest("conflicting Content-Length values \(previous) and \(value)")
            }
            result = value
        }
        return result ?? 0
    }

    /// HTTP/1.1 requests carry exactly one valid Host (RFC 9112 §3.2); HTTP/1.0 at most one. An invalid one
    /// gets 400 (RFC 9112 §3.2: "a server MUST respond with a 400 ... to any request message that ... contains
    /// more than one Host header field line or a Host header field with an invalid field value").
    private mutating func checkHost(_ host: String?, count: Int) throws(RequestError) {
        if count > 1 { throw .badRequest("more than one Host header") }
        if version == .http1_1 && host == nil { throw .badRequest("missing Host header (required in HTTP/1.1)") }
        // Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3): see HostField.
        guard let host, host != lastValidHost else { return }
        if let problem = HostField.problem(host.utf8) {
            throw .badRequest("invalid Host header \(RequestError.quote(host)): \(problem)")
        }
        lastValidHost = host.utf8.count <= Self.longestRememberedHost ? host : nil
    }

    static let typicalFieldCount = 16
    /// Empty lines skipped before a request line (RFC 9112 §2.2); more are refused with 400.
    static let maxEmptyLinesBeforeRequest = 8

    private mutating func finishRequest() -> HTTPRequest {
        // The method, target and body are moved out (swapped with empty values), not copied and then
        // overwritten: a retain and a release fewer for each (callgrind). `headers` stays: see below.
        var method: HTTPMethod = "", target = "", body: [UInt8] = []
        swap(&method, &self.method)
        swap(&target, &self.target)
        swap(&body, &self.body)
        let request = HTTPRequest(method: method, target: target, shape: targetShape, version: version, headers: headers, body: body)
        // `headers` is kept (shared with the request until its handler lets it go) and emptied when the next
        // request line is read: its array is then reused, not allocated again.
        headerBytes = 0
        host = nil
        hostCount = 0
        hasContentLength = false
        hasTransferEncoding = false
        bodyBytesReceived = 0
        emptyLinesSkipped = 0
        continueSent = false
        state = .requestLine
        return request
    }

    /// Drops consumed bytes so the buffer does not grow across a long keep-alive connection.
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scanFrom -= start
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            scanFrom -= start
            start = 0
        }
    }
}
