/// Byte constants and character classes from RFC 9110 §5.6, declared once so the parser reads like the grammar.
public enum ASCII {
    public static let cr: UInt8 = 0x0D
    public static let lf: UInt8 = 0x0A
    public static let space: UInt8 = 0x20
    public static let tab: UInt8 = 0x09
    public static let colon: UInt8 = 0x3A
    public static let semicolon: UInt8 = 0x3B
    public static let comma: UInt8 = 0x2C
    public static let slash: UInt8 = 0x2F
    public static let question: UInt8 = 0x3F
    public static let percent: UInt8 = 0x25
    public static let crlf: [UInt8] = [cr, lf]
    public static let colonSpace: [UInt8] = [colon, space]

    /// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    public static func isTokenChar(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    /// A header value may hold visible characters, space, tab and obs-text (0x80–0xFF); no other controls.
    public static func isFieldValueChar(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    public static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    public static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The value of a hex digit, or nil.
    public static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }

    public static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Compares two ASCII strings ignoring case, without allocating.
    public static func caseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // Header names are compared many times per request: on the strings' contiguous bytes, not through
        // two UTF8View iterators, and borrowed (`withUTF8` would need a mutable copy, a retain per call).
        // nil at either level: a string without contiguous UTF-8 (bridged, not native), compared the slow way.
        let compared: Bool?? = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for index in 0..<x.count where x[index] != y[index] && lowercased(x[index]) != lowercased(y[index]) {
                    return false
                }
                return true
            }
        }
        if case let same?? = compared { return same }
        return a.utf8.elementsEqual(b.utf8) { $0 == $1 || lowercased($0) == lowercased($1) }
    }

    /// Whether `bytes` are exactly `literal` (a method name, "HTTP/"): a length check, then the bytes.
    public static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        // A plain loop over two buffers: the generic `elementsEqual` was not specialized here and cost about
        // 150 instructions for "HTTP/" (callgrind), on every request line.
        let expected = literal.utf8Start
        for index in 0..<bytes.count where bytes[index] != expected[index] { return false }
        return true
    }

    /// Whether `bytes` begin with `lowercasePrefix`, ignoring the case of `bytes`. `withUTF8Buffer`, not
    /// `utf8Start`: a one-character literal ("q", "*") is stored as a scalar, not as a pointer.
    public static func startsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercasePrefix: StaticString) -> Bool {
        lowercasePrefix.withUTF8Buffer { expected in
            guard bytes.count >= expected.count else { return false }
            for index in 0..<expected.count where lowercased(bytes[index]) != expected[index] { return false }
            return true
        }
    }

    /// Whether `bytes` are `lowercaseName`, ignoring the case of `bytes` (a coding, a media type, a parameter).
    public static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercaseName: StaticString) -> Bool {
        bytes.count == lowercaseName.utf8CodeUnitCount && startsIgnoringCase(bytes, lowercaseName)
    }

    /// `bytes` without leading and trailing spaces and tabs (HTTP's OWS).
    public static func trimmingWhitespace(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0, end = bytes.count
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// Whether every byte of `bytes` is a token character, with the table looked up once for the run
    /// (`isTokenChar` per byte reached the lazily made table through its one-time check on every byte).
    /// Two 64-bit masks tested by shifting instead of the table cost more (~12 instructions an octet against ~9).
    public static func allTokenChars(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        tokenTable.withUnsafeBufferPointer { table in
            for byte in bytes where !table[Int(byte)] { return false }
            return true
        }
    }

    /// Whether every byte of `bytes` may stand in a field value (`isFieldValueChar`).
    ///
    /// Eight octets at a time: a word with no octet below 0x20 and none equal to 0x7F is all allowed (octets
    /// from 0x80 are obs-text, allowed too). The two tests are the classic "has a zero byte" trick on the
    /// word and on the word XOR 0x7F…; they may flag an allowed word (a tab, or a borrow past a real match),
    /// never miss a bad one, and a flagged word is looked at octet by octet.
    public static func allFieldValueChars(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        if let base = bytes.baseAddress, bytes.count >= 8 {
            let raw = UnsafeRawPointer(base)
            func allowed(at offset: Int) -> Bool {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let belowSpace = (word &- ones &* 0x20) & ~word & highs
                let deleted = word ^ (ones &* 0x7F)
                let hasDelete = (deleted &- ones) & ~deleted & highs
                if belowSpace | hasDelete != 0 {
                    for octet in offset..<(offset + 8) where !isFieldValueChar(bytes[octet]) { return false }
                }
                return true
            }
            while index + 8 <= bytes.count {
                if !allowed(at: index) { return false }
                index += 8
            }
            // The last octets as the word that ends the value (overlapping octets already looked at), not one
            // by one: ~6 instructions an octet for up to seven octets.
            return index == bytes.count || allowed(at: bytes.count - 8)
        }
        while index < bytes.count {
            if !isFieldValueChar(bytes[index]) { return false }
            index += 1
        }
        return true
    }

    private static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension String {
    /// `body` with the string's UTF-8 octets, borrowed where they lie (a native string is contiguous), copied
    /// only for a string that is not (`withUTF8` would need a mutable copy of the string, a retain per call).
    @inlinable public func withUTF8Octets<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        return try Array(utf8).withUnsafeBufferPointer(body)
    }
}
