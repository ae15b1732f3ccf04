/// Encodes header lists into header blocks (RFC 7541 §6), keeping its dynamic table in step with the peer's
/// decoder. The choices, field by field (§7 says which fields to keep out of the table):
///
/// 1. `authorization` and `cookie`, or a field marked `neverIndexed`: literal never indexed (§6.2.3), the name
///    from the tables when it is there. Their values are secrets; an indexed secret can be guessed by an attacker
///    who adds fields and watches the compressed size (CRIME, §7.1.3).
/// 2. A field whose name and value are in a table: its index (§6.1), one or two octets.
/// 3. A field that would take more than 3/4 of the table: literal without indexing (§6.2.2), so one large value
///    does not flush everything else.
/// 4. Anything else: literal with incremental indexing (§6.2.1), so the next block can send it as an index.
///
/// Strings use Huffman coding when that is not longer (`huffman: .whenNotLonger`). With these rules the encoder
/// reproduces the bytes of RFC 7541 Appendix C.3–C.6.
public struct HPACKEncoder: Sendable {
    public private(set) var dynamicTable: HPACKDynamicTable
    public var huffman: HPACKString.Huffman
    /// The smallest and the last table size set since the previous block: both must be signaled (§4.2).
    private var pendingSizeUpdate: (smallest: Int, last: Int)?
    /// For the n-th field of the previous block, the insertion number of the dynamic entry it was sent as
    /// (-1: none). A server sends the same fields in the same order response after response, so the entry
    /// that served the n-th field last time is tried first: one comparison instead of a walk through the
    /// table, whose new end fills with a `date` a second.
    private var previousEntries: [Int] = []
    /// The position of the next field in the block being encoded.
    private var position = 0
    /// Counts the changes to the dynamic table (an entry added, a new size): a block encoded when the table
    /// was at the same version, and that changed nothing, would be encoded to the same octets again.
    public private(set) var tableVersion = 0
    /// A table size update waits for the next block (`setMaxTableSize`).
    public var sizeUpdatePending: Bool { pendingSizeUpdate != nil }

    /// Names whose values are never indexed.
    public static let neverIndexedNames: Set<[UInt8]> = [Array("authorization".utf8), Array("cookie".utf8)]

    public init(maxTableSize: Int = 4096, huffman: HPACKString.Huffman = .whenNotLonger) {
        dynamicTable = HPACKDynamicTable(maxSize: maxTableSize)
        self.huffman = huffman
    }

    /// Sets the size of the encoder's table, at most the peer's SETTINGS_HEADER_TABLE_SIZE. The next block starts
    /// with the update(s).
    public mutating func setMaxTableSize(_ size: Int) {
        let smallest = min(pendingSizeUpdate?.smallest ?? size, size)
        pendingSizeUpdate = (smallest, size)
        dynamicTable.setMaxSize(size)
        tableVersion += 1
    }

    public mutating func encode(_ fields: [HPACKHeaderField]) -> [UInt8] {
        var out: [UInt8] = []
        startBlock(into: &out)
        for field in fields { encode(name: field.name.span, value: field.value.span, neverIndexed: field.neverIndexed, into: &out) }
        return out
    }

    /// Starts a header block in `out` with the table size updates owed since the previous block (§4.2: they
    /// come before its first field). Then `encode(name:value:into:)` appends each field.
    public mutating func startBlock(into out: inout [UInt8]) {
        position = 0
        guard let update = pendingSizeUpdate else { return }
        if update.smallest < update.last {
            HPACKInteger.encode(update.smallest, prefixBits: 5, firstByteFlags: 0x20, into: &out)
        }
        HPACKInteger.encode(update.last, prefixBits: 5, firstByteFlags: 0x20, into: &out)
        pendingSizeUpdate = nil
    }

    /// Appends one field to the block `startBlock` began. Name and value are lent as spans (`HPACKOctets.swift`):
    /// a field found in a table is written as its index and never copied. HTTP/2 wants the name lowercase
    /// (RFC 9113 §8.2.1); HPACK itself sends whatever octets it is given.
    public mutating func encode(name: Span<UInt8>, value: Span<UInt8>, neverIndexed: Bool = false, into out: inout [UInt8]) {
        if neverIndexed || Self.isNeverIndexed(name) {
            let staticName = HPACKStaticTable.lookup(name: name, value: value).name
            let nameIndex = staticName ?? dynamicTable.index(name: name, value: value).map { HPACKStaticTable.count + $0.index }
            literal(name: name, value: value, nameIndex: nameIndex, prefixBits: 4, flags: 0x10, into: &out)
            return
        }
        // The entry this position used in the previous block, then the whole dynamic table: after the first
        // response nearly every field is there. A field the static table holds whole is never added to it
        // (its static index is sent), so an exact dynamic match means there is no static one, and the static
        // table need not be searched.
        let position = self.position
        self.position += 1
        if position >= previousEntries.count { previousEntries.append(-1) }
        if let index = dynamicTable.index(ofInsertion: previousEntries[position], name: name, value: value) {
            HPACKInteger.encode(HPACKStaticTable.count + index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            return
        }
        let dynamicMatch = dynamicTable.index(name: name, value: value)
        if let match = dynamicMatch, !match.nameOnly {
            previousEntries[position] = dynamicTable.insertions - match.index
            HPACKInteger.encode(HPACKStaticTable.count + match.index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            return
        }
        let (staticExact, staticName) = HPACKStaticTable.lookup(name: name, value: value)
        if let index = staticExact {
            HPACKInteger.encode(index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            return
        }
        let nameIndex = staticName ?? dynamicMatch.map { HPACKStaticTable.count + $0.index }
        if 32 + name.count + value.count > dynamicTable.maxSize * 3 / 4 { // the entry's size (§4.1)
            literal(name: name, value: value, nameIndex: nameIndex, prefixBits: 4, flags: 0x00, into: &out)
            return
        }
        literal(name: name, value: value, nameIndex: nameIndex, prefixBits: 6, flags: 0x40, into: &out)
        dynamicTable.add(HPACKHeaderField(name: [UInt8](copying: name), value: [UInt8](copying: value)))
        tableVersion += 1
        previousEntries[position] = dynamicTable.insertions - 1
    }

    /// Appends a field by its index in the tables (§6.1), for a caller that knows it (`:status: 200` is 8).
    public func encodeIndexed(_ index: Int, into out: inout [UInt8]) {
        HPACKInteger.encode(index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
    }

    private static let authorization = Array("authorization".utf8)
    private static let cookie = Array("cookie".utf8)

    /// `authorization` or `cookie` (the names in `neverIndexedNames`), compared without hashing and only
    /// when the length is theirs: this runs for every field.
    static func isNeverIndexed(_ name: Span<UInt8>) -> Bool {
        switch name.count {
        case 13: return authorization.elementsEqual(name)
        case 6: return cookie.elementsEqual(name)
        default: return false
        }
    }

    /// A literal representation: the name's index or the name itself, then the value. The octets are copied
    /// into arrays here for `HPACKString`; literals are rare once the table holds a connection's usual fields.
    private func literal(name: Span<UInt8>, value: Span<UInt8>, nameIndex: Int?, prefixBits: Int, flags: UInt8, into out: inout [UInt8]) {
        if let nameIndex {
            HPACKInteger.encode(nameIndex, prefixBits: prefixBits, firstByteFlags: flags, into: &out)
        } else {
            out.append(flags)
            HPACKString.encode([UInt8](copying: name), huffman: huffman, into: &out)
        }
        HPACKString.encode([UInt8](copying: value), huffman: huffman, into: &out)
    }
}
