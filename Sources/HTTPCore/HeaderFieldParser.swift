import Glibc

/// Parses one field line: `field-name ":" OWS field-value OWS` (RFC 9112 §5).
enum HeaderFieldParser {
    static func parse(_ line: ArraySlice<UInt8>) throws(RequestError) -> HeaderField {
        let (name, value) = try ranges(of: line)
        return HeaderField(String(decoding: line[name], as: UTF8.self), String(decoding: line[value], as: UTF8.self))
    }

    /// The same, with the name and value Strings given back by `strings` when they are the octets of the
    /// previous request's field at this place (the HTTP/1.1 parser, one per connection, on the line's octets
    /// in place), and which of the three fields that decide a request's framing it is, if it is one (told by
    /// the name's length, then its octets): the parser needs no second pass over the fields for them.
    static func parse(_ line: UnsafeBufferPointer<UInt8>, reusing strings: inout RepeatedStrings) throws(RequestError)
        -> (field: HeaderField, framing: FramingField?) {
        let (name, value) = try split(line, base: 0)
        let nameBytes = UnsafeBufferPointer(rebasing: line[name])
        return (HeaderField(strings.string(nameBytes), strings.string(UnsafeBufferPointer(rebasing: line[value]))),
                FramingField(name: nameBytes))
    }

    /// Host, Content-Length and Transfer-Encoding: the fields RFC 9112 §3.2 and §6.3 read before a body.
    enum FramingField {
        case host, contentLength, transferEncoding

        init?(name: UnsafeBufferPointer<UInt8>) {
            switch name.count {
            case 4 where ASCII.equalsIgnoringCase(name, "host"): self = .host
            case 14 where ASCII.equalsIgnoringCase(name, "content-length"): self = .contentLength
            case 17 where ASCII.equalsIgnoringCase(name, "transfer-encoding"): self = .transferEncoding
            default: return nil
            }
        }
    }

    /// The checks look at every octet of every field line: they run on a buffer pointer (no bounds or index
    /// checks per octet, callgrind: ~15 instructions an octet on the slice), and the colon is found with memchr.
    private static func ranges(of line: ArraySlice<UInt8>) throws(RequestError) -> (name: Range<Int>, value: Range<Int>) {
        try line.withUnsafeBufferPointer { bytes throws(RequestError) in try split(bytes, base: line.startIndex) }
    }

    /// The name's and the value's ranges in the line (indices from `base`), or the 400 the line deserves.
    private static func split(_ bytes: UnsafeBufferPointer<UInt8>, base: Int) throws(RequestError) -> (Range<Int>, Range<Int>) {
        guard let first = bytes.first else { throw .badRequest("empty header line") }
        if ASCII.isWhitespace(first) {
            throw .badRequest("header line starts with whitespace (obsolete line folding is not accepted)")
        }
        guard let found = memchr(bytes.baseAddress!, Int32(ASCII.colon), bytes.count) else {
            throw .badRequest("header line has no colon: \(RequestError.quote(bytes))")
        }
        let colon = UnsafeRawPointer(found) - UnsafeRawPointer(bytes.baseAddress!)
        let name = UnsafeBufferPointer(rebasing: bytes[..<colon])
        guard !name.isEmpty else { throw .badRequest("header line has an empty name") }
        if let last = name.last, ASCII.isWhitespace(last) {
            let end = name.lastIndex { !ASCII.isWhitespace($0) }.map { $0 + 1 } ?? 0
            throw .badRequest("whitespace between the header name \(RequestError.quote(name[..<end])) and the colon")
        }
        guard ASCII.allTokenChars(name) else {
            throw .badRequest("header name \(RequestError.quote(name)) contains a character that is not allowed in a token")
        }
        var valueStart = colon + 1, valueEnd = bytes.count
        while valueStart < valueEnd, ASCII.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, ASCII.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        guard ASCII.allFieldValueChars(UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])) else {
            throw .badRequest("header \(RequestError.quote(name)) has a control character in its value")
        }
        return (base..<(base + colon), (base + valueStart)..<(base + valueEnd))
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
