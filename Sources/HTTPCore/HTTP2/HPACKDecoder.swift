/// Decodes header blocks (RFC 7541 §3, §6) into header lists. One decoder per connection and direction: its
/// dynamic table carries over from one block to the next, so blocks must be decoded in the order they were
/// sent, each whole (a HEADERS frame and its CONTINUATIONs joined first).
///
/// The representations, told apart by their first bits:
///
///     1xxxxxxx  indexed field (§6.1): a whole field from the tables
///     01xxxxxx  literal with incremental indexing (§6.2.1): decoded, then added to the dynamic table
///     0000xxxx  literal without indexing (§6.2.2)
///     0001xxxx  literal never indexed (§6.2.3): like the above, and must stay unindexed downstream
///     001xxxxx  dynamic table size update (§6.3): only at the start of a block
///
/// In a literal, an index of 0 means the name follows as a string; otherwise the name comes from the tables.
/// Any error is a COMPRESSION_ERROR for the whole connection: once a block is half-decoded the tables of the
/// two ends may no longer match.
public struct HPACKDecoder: Sendable {
    public private(set) var dynamicTable: HPACKDynamicTable
    /// What this end advertised as SETTINGS_HEADER_TABLE_SIZE: the largest size an update may ask for.
    public private(set) var maxTableSizeLimit: Int
    /// What this end advertised as SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2), nil for no limit: the
    /// decoder stops as soon as the header list grows past it, rather than holding it all in memory.
    public var maxHeaderListSize: Int?
    /// The limit was lowered below the table's size, so the next block must start with an update (§4.2).
    private var sizeUpdateRequired = false

    public init(maxTableSize: Int = 4096, maxHeaderListSize: Int? = nil) {
        dynamicTable = HPACKDynamicTable(maxSize: maxTableSize)
        maxTableSizeLimit = maxTableSize
        self.maxHeaderListSize = maxHeaderListSize
    }

    /// Call when the peer has acknowledged a new SETTINGS_HEADER_TABLE_SIZE. If it is below the table's current
    /// maximum, the peer's encoder must signal a size update at the start of its next block.
    public mutating func setMaxTableSizeLimit(_ limit: Int) {
        maxTableSizeLimit = limit
        if dynamicTable.maxSize > limit { sizeUpdateRequired = true }
    }

    public mutating func decode(_ block: [UInt8]) throws(HTTP2Error) -> [HPACKHeaderField] {
        var fields: [HPACKHeaderField] = []
        fields.reserveCapacity(16) // a request's handful of fields: one allocation, not one per doubling
        var listSize = 0
        var index = 0
        var atStart = true
        while index < block.count {
            let first = block[index]
            if first & 0xE0 == 0x20 {
                // §4.2: "This dynamic table size update MUST occur at the beginning of the first header block
                // following the change"; one after a field would make the two tables' evictions differ.
                guard atStart else { throw .compression("a dynamic table size update after a header field") }
                let newSize = try HPACKInteger.decode(block, at: &index, prefixBits: 5)
                guard newSize <= maxTableSizeLimit else {
                    throw .compression("a dynamic table size update to \(newSize), over the limit of \(maxTableSizeLimit) in SETTINGS")
                }
                dynamicTable.setMaxSize(newSize)
                sizeUpdateRequired = false
                continue
            }
            if sizeUpdateRequired {
                throw .compression("the header block does not start with the dynamic table size update that SETTINGS_HEADER_TABLE_SIZE = \(maxTableSizeLimit) requires")
            }
            atStart = false
            let field: HPACKHeaderField
            if first & 0x80 != 0 {
                field = try self.field(at: HPACKInteger.decode(block, at: &index, prefixBits: 7))
            } else if first & 0xC0 == 0x40 {
                field = try literal(block, at: &index, prefixBits: 6, neverIndexed: false)
                dynamicTable.add(field)
            } else {
                // 0000xxxx without indexing, 0001xxxx never indexed.
                field = try literal(block, at: &index, prefixBits: 4, neverIndexed: first & 0x10 != 0)
            }
            listSize += field.size
            if let max = maxHeaderListSize, listSize > max {
                throw .compression("the header list is over SETTINGS_MAX_HEADER_LIST_SIZE = \(max) octets")
            }
            fields.append(field)
        }
        if sizeUpdateRequired {
            throw .compression("the header block does not start with the dynamic table size update that SETTINGS_HEADER_TABLE_SIZE = \(maxTableSizeLimit) requires")
        }
        return fields
    }

    /// The field at an overall index: 1...61 static, 62 and up dynamic (§2.3.3).
    private func field(at index: Int) throws(HTTP2Error) -> HPACKHeaderField {
        if index == 0 { throw .compression("index 0 (§6.1: \"MUST be treated as a decoding error\")") }
        if index <= HPACKStaticTable.count { return HPACKStaticTable.fields[index - 1] }
        let dynamicIndex = index - HPACKStaticTable.count
        guard dynamicIndex <= dynamicTable.count else {
            throw .compression("index \(index) is past the end of the tables (61 static + \(dynamicTable.count) dynamic)")
        }
        return dynamicTable[dynamicIndex]
    }

    private func literal(_ block: [UInt8], at index: inout Int, prefixBits: Int, neverIndexed: Bool) throws(HTTP2Error) -> HPACKHeaderField {
        let nameIndex = try HPACKInteger.decode(block, at: &index, prefixBits: prefixBits)
        let name = nameIndex == 0 ? try HPACKString.decode(block, at: &index) : try field(at: nameIndex).name
        let value = try HPACKString.decode(block, at: &index)
        return HPACKHeaderField(name: name, value: value, neverIndexed: neverIndexed)
    }
}
