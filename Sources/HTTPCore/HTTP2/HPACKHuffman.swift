/// The Huffman coding of HPACK string literals (RFC 7541 §5.2, code table in Appendix B).
///
/// Encoding writes each octet's code, most significant bit first, and fills the last octet with the high bits
/// of EOS (all ones). Decoding walks a binary tree bit by bit. Three things make a Huffman string invalid (§5.2):
/// padding longer than 7 bits, padding that is not all ones (not "the most significant bits of EOS"), and
/// an EOS symbol inside the string.
public enum HPACKHuffman {
    /// The number of octets `bytes` takes once Huffman-encoded, without encoding it.
    public static func encodedCount<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Int {
        var bits = 0
        for byte in bytes { bits += Int(hpackHuffmanCodes[Int(byte)].length) }
        return (bits + 7) / 8
    }

    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into out: inout [UInt8]) {
        // Bits waiting to be written, in the low `pending` bits of `accumulator` (at most 7 + 30 < 64).
        var accumulator: UInt64 = 0
        var pending = 0
        for byte in bytes {
            let (code, length) = hpackHuffmanCodes[Int(byte)]
            accumulator = accumulator << UInt64(length) | UInt64(code)
            pending += Int(length)
            while pending >= 8 {
                pending -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(pending)))
            }
        }
        if pending > 0 {
            // Pad with the most significant bits of EOS: ones.
            let padding = 8 - pending
            out.append(UInt8(truncatingIfNeeded: accumulator << UInt64(padding)) | UInt8((1 << padding) - 1))
        }
    }

    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return out
    }

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(HTTP2Error) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 8 / 5)
        let tree = HuffmanTree.shared
        var node = 0
        // The bits read since the last whole symbol, and whether all were ones: at the end they are the padding.
        var bitsSinceSymbol = 0
        var allOnes = true
        for byte in bytes {
            for shift in stride(from: 7, through: 0, by: -1) {
                let bit = Int(byte >> UInt8(shift)) & 1
                node = tree.children[node * 2 + bit]
                bitsSinceSymbol += 1
                if bit == 0 { allOnes = false }
                let symbol = tree.symbols[node]
                if symbol >= 0 {
                    if symbol == 256 { throw .compression("a Huffman string contains the EOS symbol") }
                    out.append(UInt8(symbol))
                    node = 0
                    bitsSinceSymbol = 0
                    allOnes = true
                }
            }
        }
        if bitsSinceSymbol > 7 { throw .compression("a Huffman string ends with \(bitsSinceSymbol) bits of padding (at most 7)") }
        if !allOnes { throw .compression("a Huffman string's padding is not all ones (the start of EOS)") }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(HTTP2Error) -> [UInt8] {
        try decode(bytes[...])
    }
}

/// The code table as a binary tree, built once: node 0 is the root; node n's children are
/// `children[2n]` (bit 0) and `children[2n + 1]` (bit 1); `symbols[n]` is the octet (or 256 for EOS) at a leaf
/// and -1 inside. The code is complete (every bit string reaches a leaf or continues), so no child is missing.
private struct HuffmanTree: Sendable {
    var children: [Int] = [0, 0]
    var symbols: [Int] = [-1]

    static let shared = HuffmanTree()

    private init() {
        for (symbol, entry) in hpackHuffmanCodes.enumerated() {
            var node = 0
            for shift in stride(from: Int(entry.length) - 1, through: 0, by: -1) {
                let bit = Int(entry.code >> UInt32(shift)) & 1
                if children[node * 2 + bit] == 0 {
                    children[node * 2 + bit] = symbols.count
                    symbols.append(-1)
                    children += [0, 0]
                }
                node = children[node * 2 + bit]
            }
            symbols[node] = symbol
        }
    }
}
