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
    }

    public mutating func encode(_ fields: [HPACKHeaderField]) -> [UInt8] {
        var out: [UInt8] = []
        if let update = pendingSizeUpdate {
            if update.smallest < update.last {
                HPACKInteger.encode(update.smallest, prefixBits: 5, firstByteFlags: 0x20, into: &out)
            }
            HPACKInteger.encode(update.last, prefixBits: 5, firstByteFlags: 0x20, into: &out)
            pendingSizeUpdate = nil
        }
        for field in fields { encode(field, into: &out) }
        return out
    }

    private mutating func encode(_ field: HPACKHeaderField, into out: inout [UInt8]) {
        let (staticExact, staticName) = HPACKStaticTable.lookup(field)
        if field.neverIndexed || Self.isNeverIndexed(field.name) {
            let nameIndex = staticName ?? dynamicTable.index(of: field).map { HPACKStaticTable.count + $0.index }
            literal(field, nameIndex: nameIndex, prefixBits: 4, flags: 0x10, into: &out)
            return
        }
        if let index = staticExact {
            HPACKInteger.encode(index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            return
        }
        let dynamicMatch = dynamicTable.index(of: field)
        if let match = dynamicMatch, !match.nameOnly {
            HPACKInteger.encode(HPACKStaticTable.count + match.index, prefixBits: 7, firstByteFlags: 0x80, into: &out)
            return
        }
        let nameIndex = staticName ?? dynamicMatch.map { HPACKStaticTable.count + $0.index }
        if field.size > dynamicTable.maxSize * 3 / 4 {
            literal(field, nameIndex: nameIndex, prefixBits: 4, flags: 0x00, into: &out)
            return
        }
        literal(field, nameIndex: nameIndex, prefixBits: 6, flags: 0x40, into: &out)
        dynamicTable.add(field)
    }

    private static let authorization = Array("authorization".utf8)
    private static let cookie = Array("cookie".utf8)

    /// `authorization` or `cookie` (the names in `neverIndexedNames`), compared without hashing.
    static func isNeverIndexed(_ name: [UInt8]) -> Bool {
        (name.count == 13 && name == authorization) || (name.count == 6 && name == cookie)
    }

    private func literal(_ field: HPACKHeaderField, nameIndex: Int?, prefixBits: Int, flags: UInt8, into out: inout [UInt8]) {
        if let nameIndex {
            HPACKInteger.encode(nameIndex, prefixBits: prefixBits, firstByteFlags: flags, into: &out)
        } else {
            out.append(flags)
            HPACKString.encode(field.name, huffman: huffman, into: &out)
        }
        HPACKString.encode(field.value, huffman: huffman, into: &out)
    }
}
