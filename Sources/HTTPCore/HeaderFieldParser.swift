/// Parses one field line: `field-name ":" OWS field-value OWS` (RFC 9112 §5).
enum HeaderFieldParser {
    static func parse(_ line: ArraySlice<UInt8>) throws(RequestError) -> HeaderField {
        guard let first = line.first else { throw .badRequest("empty header line") }
        if ASCII.isWhitespace(first) {
            throw .badRequest("header line starts with whitespace (obsolete line folding is not accepted)")
        }
        guard let colon = line.firstIndex(of: ASCII.colon) else {
            throw .badRequest("header line has no colon: \(RequestError.quote(line))")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty else { throw .badRequest("header line has an empty name") }
        if let last = name.last, ASCII.isWhitespace(last) {
            let end = name.lastIndex { !ASCII.isWhitespace($0) }.map { $0 + 1 } ?? name.startIndex
            throw .badRequest("whitespace between the header name \(RequestError.quote(name[..<end])) and the colon")
        }
        guard name.allSatisfy(ASCII.isTokenChar) else {
            throw .badRequest("header name \(RequestError.quote(name)) contains a character that is not allowed in a token")
        }
        var valueStart = colon + 1, valueEnd = line.endIndex
        while valueStart < valueEnd, ASCII.isWhitespace(line[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, ASCII.isWhitespace(line[valueEnd - 1]) { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy(ASCII.isFieldValueChar) else {
            throw .badRequest("header \(RequestError.quote(name)) has a control character in its value")
        }
        return HeaderField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
