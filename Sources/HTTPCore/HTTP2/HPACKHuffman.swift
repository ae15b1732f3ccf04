/// The Huffman coding of HPACK string literals (RFC 7541 §5.2, code table in Appendix B).
///
/// Encoding writes each octet's code, most significant bit first, and fills the last octet with the high bits
/// of EOS (all ones). Decoding walks the code tree four bits at a time, through a table made from it. Three things make a Huffman string invalid (§5.2):
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
        try decode(bytes, into: &out)
        return out
    }

    /// The same, appending to `out`.
    public static func decode(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) throws(HTTP2Error) {
        out.reserveCapacity(out.count + bytes.count * 8 / 5)
        let table = HuffmanDecodeTable.shared
        // Four bits at a time through a table made from the code tree (nghttp2's approach): a state is a node
        // of the tree, and a nibble moves it and emits at most one octet (no code is shorter than 5 bits).
        // Read through buffer pointers: a `:path` is decoded on every request, and indexing the arrays checked
        // bounds twice a nibble.
        var state = 0
        var sawEOS = false
        table.steps.withUnsafeBufferPointer { steps in
            bytes.withUnsafeBufferPointer { input in
                for byte in input {
                    var shift = 4
                    while shift >= 0 { // the high nibble, then the low one
                        let step = steps[state << 4 | Int((byte >> UInt8(shift)) & 0x0F)]
                        if step.symbol >= 0 {
                            if step.symbol == 256 { sawEOS = true; return }
                            out.append(UInt8(truncatingIfNeeded: step.symbol))
                        }
                        state = Int(step.next)
                        shift -= 4
                    }
                }
            }
        }
        if sawEOS { throw .compression("a Huffman string contains the EOS symbol") }
        // What is left after the last octet is padding: at most 7 bits, all ones (a prefix of EOS).
        let end = table.states[state]
        if end.depth > 7 { throw .compression("a Huffman string ends with \(end.depth) bits of padding (at most 7)") }
        if !end.allOnes { throw .compression("a Huffman string's padding is not all ones (the start of EOS)") }
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

/// The decoder's table: each inner node of the tree is a state; for each state and each 4-bit input, the state
/// reached and the octet completed on the way (or -1; 256 is EOS). Built once from `HuffmanTree`.
private struct HuffmanDecodeTable: Sendable {
    struct Step: Sendable { var next: UInt16; var symbol: Int16 }
    /// An inner node: how many bits below the root it is, and whether the path there is all ones.
    struct State: Sendable { var depth: Int; var allOnes: Bool }

    var steps: [Step] = []
    var states: [State] = []

    static let shared = HuffmanDecodeTable()

    private init() {
        let tree = HuffmanTree.shared
        // Number the inner nodes (the root first) and note their depth and whether they lie on the ones path.
        var stateOf = [Int](repeating: -1, count: tree.symbols.count)
        var pending = [(node: 0, depth: 0, allOnes: true)]
        while let (node, depth, allOnes) = pending.popLast() {
            guard tree.symbols[node] < 0 else { continue }
            stateOf[node] = states.count
            states.append(State(depth: depth, allOnes: allOnes))
            pending.append((tree.children[node * 2], depth + 1, false))
            pending.append((tree.children[node * 2 + 1], depth + 1, allOnes))
        }
        var nodeOf = [Int](repeating: 0, count: states.count)
        for (node, state) in stateOf.enumerated() where state >= 0 { nodeOf[state] = node }
        steps = [Step](repeating: Step(next: 0, symbol: -1), count: states.count * 16)
        for state in 0..<states.count {
            for nibble in 0..<16 {
                var node = nodeOf[state]
                var symbol = -1
                for shift in stride(from: 3, through: 0, by: -1) {
                    node = tree.children[node * 2 + (nibble >> shift) & 1]
                    if tree.symbols[node] >= 0 {
                        symbol = tree.symbols[node]
                        node = 0
                        if symbol == 256 { break } // EOS: an error whatever follows
                    }
                }
                steps[state << 4 | nibble] = Step(next: UInt16(stateOf[node]), symbol: Int16(symbol))
            }
        }
    }
}
