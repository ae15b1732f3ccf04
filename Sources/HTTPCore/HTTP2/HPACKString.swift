/// String literals in HPACK (RFC 7541 §5.2):
///
///       0   1   2   3   4   5   6   7
///     +---+---+---+---+---+---+---+---+
///     | H |    String Length (7+)     |
///     +---+---------------------------+
///     |  String Data (Length octets)  |
///     +-------------------------------+
///
/// H says whether the data is Huffman-encoded; the length counts the octets on the wire (encoded).
public enum HPACKString {
    /// When the encoder uses Huffman coding.
    public enum Huffman: Sendable, Hashable {
        /// Never: the octets as they are (RFC 7541 C.3 and C.5).
        case never
        /// When the Huffman form is not longer than the octets (C.4 and C.6 use it even for "307", three octets
        /// either way).
        case whenNotLonger
    }

    public static func encode(_ bytes: [UInt8], huffman: Huffman, into out: inout [UInt8]) {
        let huffmanCount = HPACKHuffman.encodedCount(bytes)
        if huffman == .whenNotLonger && huffmanCount <= bytes.count {
            HPACKInteger.encode(huffmanCount, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            HPACKHuffman.encode(bytes, into: &out)
        } else {
            HPACKInteger.encode(bytes.count, prefixBits: 7, into: &out)
            out += bytes
        }
    }

    /// Reads a string literal at `bytes[index]`, moves `index` past it, and returns the decoded octets.
    public static func decode(_ bytes: [UInt8], at index: inout Int) throws(HTTP2Error) -> [UInt8] {
        var out: [UInt8] = []
        try decode(bytes[...], at: &index, into: &out)
        return out
    }

    /// The same in a slice (a HEADERS frame's block, in the bytes received): `index` is the slice's own.
    public static func decode(_ bytes: ArraySlice<UInt8>, at index: inout Int) throws(HTTP2Error) -> [UInt8] {
        var out: [UInt8] = []
        try decode(bytes, at: &index, into: &out)
        return out
    }

    public static func decode(_ bytes: [UInt8], at index: inout Int, into out: inout [UInt8]) throws(HTTP2Error) {
        try decode(bytes[...], at: &index, into: &out)
    }

    /// The same into `out`, which is emptied first and keeps its storage: a buffer reused literal after literal.
    public static func decode(_ bytes: ArraySlice<UInt8>, at index: inout Int, into out: inout [UInt8]) throws(HTTP2Error) {
        guard index < bytes.endIndex else { throw .compression("a string is cut off at the end of the header block") }
        let isHuffman = bytes[index] & 0x80 != 0
        let length = try HPACKInteger.decode(bytes, at: &index, prefixBits: 7)
        guard length <= bytes.endIndex - index else {
            throw .compression("a string of \(length) octets with only \(bytes.endIndex - index) left in the header block")
        }
        let data = bytes[index..<(index + length)]
        index += length
        out.removeAll(keepingCapacity: true)
        if isHuffman { try HPACKHuffman.decode(data, into: &out) } else { out += data }
    }
}
