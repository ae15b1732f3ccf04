import Glibc

/// Octets lent, not copied: the HPACK encoder reads a field's name and value as a `Span<UInt8>` — a view of
/// octets that live elsewhere (an array, or the UTF-8 of a `String`: `value.utf8.span`), safe like an array
/// (bounds-checked, and it cannot outlive what it views) but without the allocation an `Array(value.utf8)`
/// costs. A response's fields are nearly always found in a table, so nothing is copied for them at all.
extension Span where Element == UInt8 {
    /// The same octets in the same order, compared by `memcmp`. The encoder compares every field of every
    /// response with a table entry (about 200 octets a response); octet by octet, through the span's bounds
    /// checks, that was ~1,500 instructions a response, and memcmp, which compares a machine word or more
    /// at a time, takes a tenth. With `String(copying:)` below, the only unsafe code of HPACK: both buffers
    /// are the spans' own, and `count` octets of each are read, no more (the lengths are equal, checked first).
    func elementsEqual(_ other: Span<UInt8>) -> Bool {
        guard count == other.count else { return false }
        guard count > 0 else { return true }
        return withUnsafeBufferPointer { mine in
            other.withUnsafeBufferPointer { theirs in memcmp(mine.baseAddress!, theirs.baseAddress!, mine.count) == 0 }
        }
    }
}

extension String {
    /// The octets a span views as UTF-8 (ill-formed sequences repaired, as `String(decoding:as:)` does): a
    /// lent request field that the request keeps.
    init(copying octets: Span<UInt8>) {
        self = octets.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
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
