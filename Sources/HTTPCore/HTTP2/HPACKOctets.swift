/// Octets lent, not copied: the HPACK encoder reads a field's name and value as a `Span<UInt8>` — a view of
/// octets that live elsewhere (an array, or the UTF-8 of a `String`: `value.utf8.span`), safe like an array
/// (bounds-checked, and it cannot outlive what it views) but without the allocation an `Array(value.utf8)`
/// costs. A response's fields are nearly always found in a table, so nothing is copied for them at all.
extension Span where Element == UInt8 {
    /// The same octets in the same order. Compared from the last octet: values that change (a date, a
    /// length, a counter) usually change at their end, and an older date in the table then differs at once.
    func elementsEqual(_ other: Span<UInt8>) -> Bool {
        guard count == other.count else { return false }
        for index in indices.reversed() where self[index] != other[index] { return false }
        return true
    }
}

extension Array where Element == UInt8 {
    /// The same octets as `octets`, in the same order: a table entry compared with a field lent to the encoder.
    func elementsEqual(_ octets: Span<UInt8>) -> Bool { span.elementsEqual(octets) }

    /// A copy of the octets a span views, for what must be kept (a dynamic table entry).
    init(copying octets: Span<UInt8>) {
        self.init()
        reserveCapacity(octets.count)
        for index in octets.indices { append(octets[index]) }
    }
}
