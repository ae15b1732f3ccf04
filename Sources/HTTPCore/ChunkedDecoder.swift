/// Decodes a `Transfer-Encoding: chunked` body (RFC 9112 §7.1) from a buffer it does not own:
///
///     chunked-body = *chunk last-chunk trailer-section CRLF
///     chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///
/// It consumes whole elements only, so bytes that have not arrived yet stay in the caller's buffer.
/// Chunk extensions are ignored; trailer fields are read, checked and discarded.
public struct ChunkedDecoder: Sendable, Hashable {
    enum State: Sendable, Hashable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(count: Int, bytes: Int)
        case done
    }

    /// The longest chunk-size line accepted, extensions included.
    public static let maxSizeLineBytes = 4096

    private(set) var state: State = .size
    /// Body bytes decoded so far (the sum of the chunk sizes).
    public private(set) var decodedBytes = 0

    public init() {}

    public var isDone: Bool { state == .done }

    /// Decodes from `buffer[start...]`, appending chunk data to `body` and advancing `start` past what it
    /// used. Returns true once the last chunk and its trailer section have been read.
    public mutating func decode(_ buffer: [UInt8], start: inout Int, into body: inout [UInt8],
                                limits: RequestLimits) throws(RequestError) -> Bool {
        while true {
            switch state {
            case .done:
                return true

            case .size:
                // Judged on the bytes before the LF, arrived or not, so every split gets the same answer.
                let lineLimit = Self.maxSizeLineBytes + 1
                guard let line = LineScanner.nextLine(in: buffer, start: start, scanFrom: start) else {
                    if buffer.count - start > lineLimit {
                        throw .badRequest("chunk-size line longer than \(Self.maxSizeLineBytes) bytes")
                    }
                    return false
                }
                guard line.bytesBeforeLF <= lineLimit else {
                    throw .badRequest("chunk-size line longer than \(Self.maxSizeLineBytes) bytes")
                }
                if line.bareLF { throw LineScanner.bareLF("chunk-size line") }
                let size = try Self.parseChunkSize(buffer[line.content])
                start = line.next
                if size == 0 {
                    state = .trailers(count: 0, bytes: 0)
                } else {
                    guard decodedBytes + size <= limits.maxBodyBytes else {
                        throw RequestError(.contentTooLarge,
                                           "chunked body exceeds the limit of \(limits.maxBodyBytes) bytes")
                    }
                    state = .data(remaining: size)
                }

            case .data(let remaining):
                let available = buffer.count - start
                guard available > 0 else { return false }
                let take = min(available, remaining)
                body.append(contentsOf: buffer[start..<(start + take)])
                start += take
                decodedBytes += take
                state = take == remaining ? .dataEnd : .data(remaining: remaining - take)

            case .dataEnd:
                guard buffer.count - start >= 2 else { return false }
                guard buffer[start] == ASCII.cr, buffer[start + 1] == ASCII.lf else {
                    throw .badRequest("chunk data is not followed by CRLF: the chunk size disagrees with its data")
                }
                start += 2
                state = .size

            case .trailers(let count, let bytes):
                guard let line = LineScanner.nextLine(in: buffer, start: start, scanFrom: start) else {
                    // As for the header section (RequestParser): nothing pending, or a lone CR, may be the
                    // empty line that ends the trailers, which does not count toward the limit.
                    let pending = buffer.count - start
                    let mayBeEnd = pending == 0 || (pending == 1 && buffer[start] == ASCII.cr)
                    if !mayBeEnd && bytes + pending + 1 > limits.maxHeaderBytes {
                        throw RequestError(.requestHeaderFieldsTooLarge, "trailer section too large")
                    }
                    return false
                }
                if line.content.isEmpty && line.bytesBeforeLF <= 1 {
                    if line.bareLF { throw LineScanner.bareLF("trailer section") }
                    start = line.next
                    state = .done
                    return true
                }
                let newCount = count + 1, newBytes = bytes + line.bytesBeforeLF + 1
                guard newCount <= limits.maxHeaderCount, newBytes <= limits.maxHeaderBytes else {
                    throw RequestError(.requestHeaderFieldsTooLarge, "trailer section too large")
                }
                if line.bareLF { throw LineScanner.bareLF("trailer line") }
                start = line.next
                _ = try HeaderFieldParser.parse(buffer[line.content])
                state = .trailers(count: newCount, bytes: newBytes)
            }
        }
    }

    /// chunk-size = 1*HEXDIG, then optional extensions after `;` (ignored).
    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws(RequestError) -> Int {
        var size = 0, digits = 0
        var index = line.startIndex
        while index < line.endIndex, let value = ASCII.hexValue(line[index]) {
            digits += 1
            guard digits <= 15 else { throw .badRequest("chunk size has too many digits (overflow)") }
            size = size * 16 + value
            index += 1
        }
        guard digits > 0 else { throw .badRequest("chunk size is not a hexadecimal number") }
        while index < line.endIndex, ASCII.isWhitespace(line[index]) { index += 1 }
        if index < line.endIndex {
            guard line[index] == ASCII.semicolon else { throw .badRequest("invalid characters after the chunk size") }
            guard line[index...].allSatisfy(ASCII.isFieldValueChar) else {
                throw .badRequest("control character in a chunk extension")
            }
        }
        return size
    }
}
