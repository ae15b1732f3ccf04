/// The dynamic table of HPACK (RFC 7541 §2.3.2, §4): the fields an encoder chose to index, newest first, in a
/// budget of octets. Each end of a connection keeps one per direction, and the encoder's and the decoder's
/// copies stay identical because both apply the same steps in the same order.
///
/// - Adding puts the new field at index 1 (overall 62) and pushes the others up (§2.3.3).
/// - Each entry costs 32 + name + value octets (§4.1).
/// - When the total would pass `maxSize`, the oldest entries go first (§4.4); a field larger than `maxSize`
///   empties the table and is not added — that is not an error.
/// - `maxSize` changes only by a "dynamic table size update" from the encoder (§4.3, §6.3).
public struct HPACKDynamicTable: Sendable, Hashable {
    /// Oldest first, so adding is an append and evicting removes from the front.
    private var entries: [HPACKHeaderField] = []
    /// For each entry, whether it keeps RFC 9113 §8.2.1's octet rules (`HTTP2FieldRules`), found when it was
    /// added by a decoder that checks (`add(_:wellFormed:)`): the decoder lends it with the answer.
    private var wellFormed: [Bool] = []
    /// The sum of the entries' sizes; never over `maxSize`.
    public private(set) var size = 0
    public private(set) var maxSize: Int
    /// How many fields were ever added. A field's index grows with every later addition; its insertion
    /// number (`insertions` when it was added) does not, so it names the entry for as long as it stays.
    public private(set) var insertions = 0

    public init(maxSize: Int = 4096) {
        self.maxSize = maxSize
    }

    public var count: Int { entries.count }

    // Two tables are equal when their entries and sizes are (the encoder's and the decoder's copies must
    // stay so); `wellFormed` is what one decoder learned about its entries, not part of the table's state.
    public static func == (a: HPACKDynamicTable, b: HPACKDynamicTable) -> Bool {
        a.entries == b.entries && a.size == b.size && a.maxSize == b.maxSize && a.insertions == b.insertions
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries)
        hasher.combine(maxSize)
        hasher.combine(insertions)
    }

    /// The entry at a dynamic index, 1 being the newest (overall index 62 is dynamic index 1).
    public subscript(index: Int) -> HPACKHeaderField {
        entries[entries.count - index]
    }

    /// Lends `body` the name and value of the entry at a dynamic index (1 the newest), without copying it.
    func lend<E: Error>(_ index: Int, _ body: (_ name: Span<UInt8>, _ value: Span<UInt8>, _ wellFormed: Bool) throws(E) -> Void) throws(E) {
        let all = entries.span
        let position = entries.count - index
        try body(all[position].name.span, all[position].value.span, wellFormed[position])
    }

    /// The entries, newest first, as the RFC prints them.
    public var fields: [HPACKHeaderField] { entries.reversed() }

    public mutating func add(_ field: HPACKHeaderField, wellFormed: Bool = false) {
        var entry = field
        entry.neverIndexed = false
        guard entry.size <= maxSize else {
            entries.removeAll()
            self.wellFormed.removeAll()
            size = 0
            return
        }
        evict(toFit: maxSize - entry.size)
        entries.append(entry)
        self.wellFormed.append(wellFormed)
        size += entry.size
        insertions += 1
    }

    /// The dynamic index of the entry added as insertion number `insertion`, if it is still in the table and
    /// holds exactly `name` and `value`: one comparison, where `index(name:value:)` walks the table.
    public func index(ofInsertion insertion: Int, name: Span<UInt8>, value: Span<UInt8>) -> Int? {
        let index = insertions - insertion
        guard index >= 1, index <= entries.count else { return nil } // evicted, or never added
        let position = entries.count - index
        let all = entries.span // borrowed: `entries[position]` would copy the entry, two retains and releases
        return all[position].value.span.elementsEqual(value) && all[position].name.span.elementsEqual(name) ? index : nil
    }

    public mutating func setMaxSize(_ newMax: Int) {
        maxSize = newMax
        evict(toFit: newMax)
    }

    /// A dynamic index whose name and value both match, else the newest whose name does.
    ///
    /// Searched oldest first: the fields every response repeats (content-type, cache-control…) were added by
    /// the first responses and sit at the old end, while a new `date` arrives at the new end every second;
    /// newest first, each repeated field would be compared with every date before it is found. Which exact
    /// match is found does not matter: the encoder adds a field only when the table does not hold it.
    public func index(name: Span<UInt8>, value: Span<UInt8>) -> (index: Int, nameOnly: Bool)? {
        var nameMatch: Int?
        let all = entries.span // borrowed, as in `index(ofInsertion:name:value:)`
        for position in all.indices where all[position].name.span.elementsEqual(name) {
            let index = all.count - position
            if all[position].value.span.elementsEqual(value) { return (index, false) }
            nameMatch = index // each later one is newer: its index is smaller
        }
        return nameMatch.map { ($0, true) }
    }

    private mutating func evict(toFit budget: Int) {
        var evicted = 0
        while size > budget, evicted < entries.count {
            size -= entries[evicted].size
            evicted += 1
        }
        entries.removeFirst(evicted)
        wellFormed.removeFirst(evicted)
    }
}
