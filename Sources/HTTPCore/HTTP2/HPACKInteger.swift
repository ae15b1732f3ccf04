/// Integers in HPACK (RFC 7541 §5.1): a value starts in the low N bits of an octet (the "prefix"; the high bits
/// belong to the representation's type). If it fits in N bits minus the all-ones value, that is all. Otherwise
/// the prefix is all ones and the rest follows 7 bits at a time, least significant first, the high bit of each
/// octet saying "more follows":
///
///     1337 with a 5-bit prefix:  xxx11111  10011010  00001010
///                                   31   + (26 + 128 × 10) = 1337
public enum HPACKInteger {
    /// The largest value the decoder accepts. Nothing in HTTP/2 needs more (the largest sizes and indices are
    /// 32-bit); without a bound, a run of 0x80/0xFF octets would overflow or grow forever (§5.1: "Integer
    /// encodings that exceed implementation limits ... MUST be treated as decoding errors").
    public static let maxValue = Int(UInt32.max)

    /// Appends `value` with an N-bit prefix, OR-ing `firstByteFlags` (the representation's type bits) into
    /// the first octet.
    public static func encode(_ value: Int, prefixBits: Int, firstByteFlags: UInt8 = 0, into out: inout [UInt8]) {
        precondition((1...8).contains(prefixBits) && value >= 0)
        let limit = (1 << prefixBits) - 1
        if value < limit {
            out.append(firstByteFlags | UInt8(value))
            return
        }
        out.append(firstByteFlags | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    public static func encode(_ value: Int, prefixBits: Int, firstByteFlags: UInt8 = 0) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, prefixBits: prefixBits, firstByteFlags: firstByteFlags, into: &out)
        return out
    }

    /// Reads an integer with an N-bit prefix starting at `bytes[index]` and moves `index` past it. A header
    /// block is decoded whole, so running out of octets is an error, not "wait for more".
    public static func decode(_ bytes: [UInt8], at index: inout Int, prefixBits: Int) throws(HTTP2Error) -> Int {
        try decode(bytes[...], at: &index, prefixBits: prefixBits)
    }

    /// The same in a slice (a HEADERS frame's block, in the bytes received): `index` is the slice's own.
    public static func decode(_ bytes: ArraySlice<UInt8>, at index: inout Int, prefixBits: Int) throws(HTTP2Error) -> Int {
        guard index < bytes.endIndex else { throw .compression("an integer is cut off at the end of the header block") }
        let limit = (1 << prefixBits) - 1
        var value = Int(bytes[index]) & limit
        index += 1
        guard value == limit else { return value }
        var shift = 0
        while true {
            guard index < bytes.endIndex else { throw .compression("an integer is cut off at the end of the header block") }
            // Five continuation octets carry 35 bits, more than any accepted value needs; a sixth is an overflow
            // even if it only adds zeros (0x80 0x80 ... is a valid-looking way to never end).
            guard shift <= 28 else { throw .compression("an integer with more continuation octets than \(maxValue) needs") }
            let byte = bytes[index]
            index += 1
            value += Int(byte & 0x7F) << shift
            guard value <= maxValue else { throw .compression("an integer over \(maxValue) (overflow)") }
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
    }
}
