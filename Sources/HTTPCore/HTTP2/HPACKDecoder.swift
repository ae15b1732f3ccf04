import Glibc

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
    /// Where a literal that is not indexed is decoded, reused block after block: its octets are only lent.
    private var literalName: [UInt8] = []
    private var literalValue: [UInt8] = []
    /// The Huffman-coded octets `literalValue` holds the decoding of (empty when it holds anything else): a
    /// client sends the same `:path` as the same literal request after request (nghttp2 and curl never index
    /// `:path`), and the same coded octets decode to the same octets — compared, not decoded again.
    private var literalValueCoded: [UInt8] = []

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

    /// The header list of a block, each field copied out of the tables into its own arrays: for tests, the
    /// REPL and the wire dump. It is `decode(_:each:)` with a visitor that keeps what it is lent.
    public mutating func decode(_ block: [UInt8]) throws(HTTP2Error) -> [HPACKHeaderField] {
        try decode(block[...])
    }

    /// The same for a slice (a parsed HEADERS frame's `fieldBlock`).
    public mutating func decode(_ block: ArraySlice<UInt8>) throws(HTTP2Error) -> [HPACKHeaderField] {
        var fields: [HPACKHeaderField] = []
        fields.reserveCapacity(16) // a request's handful of fields: one allocation, not one per doubling
        try decode(block) { name, value, field in
            fields.append(HPACKHeaderField(name: [UInt8](copying: name), value: [UInt8](copying: value), neverIndexed: field.neverIndexed))
        }
        return fields
    }

    /// Decodes a block and lends each field to `visit`, in order: its name and value as spans of the octets
    /// where they already are — a static or dynamic table entry, or the decoder's buffer for a literal — so
    /// nothing is copied for a field the caller does not keep. A request's fields are nearly all indexed
    /// (`:method`, `:scheme`, `:authority`, `user-agent`…); copying each out of the table into a new
    /// `HPACKHeaderField` cost two retains and releases a field. The spans live only during the call.
    ///
    /// With each field comes what the decoder knows of it (`LentField`): never-indexed, and well-formed for
    /// HTTP/2 — a static entry always is, a dynamic one was checked once when it was added.
    public mutating func decode(_ block: [UInt8], each visit: (_ name: Span<UInt8>, _ value: Span<UInt8>, _ field: LentField) throws(HTTP2Error) -> Void) throws(HTTP2Error) {
        try decode(block[...], each: visit)
    }

    /// The same on a slice: a HEADERS frame's block where it was received (`HTTP2FrameParser`), not copied.
    public mutating func decode(_ block: ArraySlice<UInt8>, each visit: (_ name: Span<UInt8>, _ value: Span<UInt8>, _ field: LentField) throws(HTTP2Error) -> Void) throws(HTTP2Error) {
        // The closures below capture locals only: one that captured `self` made the compiler copy the whole
        // decoder (its tables) for every field.
        let limit = maxHeaderListSize
        var listSize = 0
        var index = block.startIndex
        var atStart = true
        while index < block.endIndex {
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
            if first & 0x80 != 0 {
                // A whole field from the tables: lent where it is.
                let fieldIndex = try HPACKInteger.decode(block, at: &index, prefixBits: 7)
                try Self.lendField(at: fieldIndex, from: dynamicTable) { name, value, wellFormed throws(HTTP2Error) in
                    try Self.countField(name.count + value.count, into: &listSize, limit: limit)
                    try visit(name, value, LentField(neverIndexed: false, wellFormed: wellFormed))
                }
            } else if first & 0xC0 == 0x40 {
                // Kept in the table, so made into arrays; lent from there.
                let field = try literal(block, at: &index, prefixBits: 6)
                let wellFormed = HTTP2FieldRules.wellFormed(name: field.name.span, value: field.value.span)
                dynamicTable.add(field, wellFormed: wellFormed)
                try Self.countField(field.name.count + field.value.count, into: &listSize, limit: limit)
                try visit(field.name.span, field.value.span, LentField(neverIndexed: false, wellFormed: wellFormed))
            } else {
                // 0000xxxx without indexing, 0001xxxx never indexed: decoded into the decoder's own buffers,
                // which the next literal reuses.
                let neverIndexed = first & 0x10 != 0
                let nameIndex = try HPACKInteger.decode(block, at: &index, prefixBits: 4)
                if nameIndex == 0 { try HPACKString.decode(block, at: &index, into: &literalName) }
                try decodeLiteralValue(block, at: &index)
                let value = literalValue.span
                if nameIndex == 0 {
                    try Self.countField(literalName.count + value.count, into: &listSize, limit: limit)
                    try visit(literalName.span, value, LentField(neverIndexed: neverIndexed, wellFormed: false))
                } else {
                    try Self.lendField(at: nameIndex, from: dynamicTable) { name, _, _ throws(HTTP2Error) in
                        try Self.countField(name.count + value.count, into: &listSize, limit: limit)
                        try visit(name, value, LentField(neverIndexed: neverIndexed, wellFormed: false))
                    }
                }
            }
        }
        if sizeUpdateRequired {
            throw .compression("the header block does not start with the dynamic table size update that SETTINGS_HEADER_TABLE_SIZE = \(maxTableSizeLimit) requires")
        }
    }

    /// `HPACKString.decode(block, at: &index, into: &literalValue)`, except that a Huffman literal whose
    /// coded octets are those `literalValue` was decoded from is not decoded again.
    private mutating func decodeLiteralValue(_ block: ArraySlice<UInt8>, at index: inout Int) throws(HTTP2Error) {
        let isHuffman = index < block.endIndex && block[index] & 0x80 != 0
        var coded = index // where the coded octets start, after the length
        if isHuffman {
            let length = try HPACKInteger.decode(block, at: &coded, prefixBits: 7)
            if length == literalValueCoded.count, length > 0, length <= block.endIndex - coded,
               block.withUnsafeBufferPointer({ all in // `all` starts at the slice's startIndex
                   literalValueCoded.withUnsafeBufferPointer {
                       memcmp(all.baseAddress! + (coded - block.startIndex), $0.baseAddress!, length) == 0
                   }
               }) {
                index = coded + length
                return
            }
        }
        literalValueCoded.removeAll(keepingCapacity: true)
        try HPACKString.decode(block, at: &index, into: &literalValue)
        if isHuffman { literalValueCoded.append(contentsOf: block[coded..<index]) }
    }

    /// Adds a field's size to the header list's (32 + name + value octets, §4.1's count, which RFC 9113
    /// §6.5.2 uses for SETTINGS_MAX_HEADER_LIST_SIZE) and stops as soon as the list is over the limit.
    private static func countField(_ octets: Int, into listSize: inout Int, limit: Int?) throws(HTTP2Error) {
        listSize += 32 + octets
        if let max = limit, listSize > max {
            throw .compression("the header list is over SETTINGS_MAX_HEADER_LIST_SIZE = \(max) octets")
        }
    }

    /// Lends `body` the name and value of the field at an overall index: 1...61 static, 62 and up dynamic
    /// (§2.3.3), where they are, without copying the entry.
    private static func lendField(at index: Int, from dynamicTable: borrowing HPACKDynamicTable,
                                  _ body: (_ name: Span<UInt8>, _ value: Span<UInt8>, _ wellFormed: Bool) throws(HTTP2Error) -> Void) throws(HTTP2Error) {
        try checkIndex(index, dynamicCount: dynamicTable.count)
        if index <= HPACKStaticTable.count {
            let fields = HPACKStaticTable.fields // held in a local: a span's source must outlive it
            let entries = fields.span
            // The static table's names are lowercase tokens and its values plain text: all well-formed.
            try body(entries[index - 1].name.span, entries[index - 1].value.span, true)
        } else {
            try dynamicTable.lend(index - HPACKStaticTable.count, body)
        }
    }

    /// The field at an overall index, copied: for a literal's name that goes into the dynamic table.
    private func field(at index: Int) throws(HTTP2Error) -> HPACKHeaderField {
        try Self.checkIndex(index, dynamicCount: dynamicTable.count)
        if index <= HPACKStaticTable.count { return HPACKStaticTable.fields[index - 1] }
        return dynamicTable[index - HPACKStaticTable.count]
    }

    /// An index names a field in the tables: 0 never does, nor one past the dynamic table's end.
    private static func checkIndex(_ index: Int, dynamicCount: Int) throws(HTTP2Error) {
        if index == 0 { throw .compression("index 0 (§6.1: \"MUST be treated as a decoding error\")") }
        guard index <= HPACKStaticTable.count + dynamicCount else {
            throw .compression("index \(index) is past the end of the tables (61 static + \(dynamicCount) dynamic)")
        }
    }

    /// What the decoder knows of a field it lends.
    public struct LentField: Sendable {
        /// Sent as "never indexed" (§6.2.3): a proxy must forward it that way.
        public var neverIndexed: Bool
        /// Known to keep RFC 9113 §8.2.1's octet rules (`HTTP2FieldRules`); false means not looked at.
        public var wellFormed: Bool
    }

    /// A literal with incremental indexing: its name (from the tables or a string) and value as arrays, which
    /// the dynamic table keeps.
    private func literal(_ block: ArraySlice<UInt8>, at index: inout Int, prefixBits: Int) throws(HTTP2Error) -> HPACKHeaderField {
        let nameIndex = try HPACKInteger.decode(block, at: &index, prefixBits: prefixBits)
        let name = nameIndex == 0 ? try HPACKString.decode(block, at: &index) : try field(at: nameIndex).name
        let value = try HPACKString.decode(block, at: &index)
        return HPACKHeaderField(name: name, value: value)
    }
}
