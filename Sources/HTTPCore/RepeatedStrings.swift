import Glibc

/// The Strings one request's fields became, in the order they were made, kept for the next request on the
/// connection: a client sends the same `Host`, `User-Agent`, `Accept`… on every request (in HTTP/2 the same
/// `:authority` too), often the same path, and the same octets at the same place give back the same String —
/// one comparison of octets instead of making a String (~150 instructions, and an allocation past 15
/// octets). A String that differs is made and takes its place. Used by the HTTP/1.1 parser and by HTTP/2's
/// request heads; one per connection, so it holds one request's strings at most.
///
/// What it keeps is bounded (`keptLimit` octets): an idle connection whose last request carried large
/// fields (a big Cookie) does not hold them until it closes. A String past the limit is made as before and
/// its place is kept by an empty one.
///
/// Public, and opaque: an event loop takes a closed connection's Strings (`HTTP1Connection.takeStrings()`) and
/// gives them to the next connection it accepts, whose first request then finds the previous client's `Host`,
/// path and field names already made (benchmark clients and browsers send the same ones).
public struct RepeatedStrings: Sendable {
    public init() {}

    private var made: [String] = []
    /// The octets of the kept Strings, one after the other in `made`'s order, and where each one ends: a new
    /// field is compared with these by `memcmp`, and a String is touched only when it is given back. Compared
    /// through the String (its UTF-8 view's span, two retains and a release) it cost ~190 instructions a
    /// field; the octets kept here are what `keptLimit` bounds.
    private var octets: [UInt8] = []
    private var ends: [Int] = []
    /// The place of the next String in the request.
    private var position = 0
    static let keptLimit = 4096
    /// The octets held now (for the tests of the bound).
    var keptOctets: Int { octets.count }

    /// The String of `octets` (UTF-8, repaired as `String(decoding:as:)` does).
    mutating func string(_ octets: Span<UInt8>) -> String {
        octets.withUnsafeBufferPointer { string($0) }
    }

    /// The String of `new` (UTF-8, repaired as `String(decoding:as:)` does).
    mutating func string(_ new: UnsafeBufferPointer<UInt8>) -> String {
        defer { position += 1 }
        let count = new.count
        guard position < made.count else {
            let string = String(decoding: new, as: UTF8.self)
            // A connection's first request fills the arrays: room for a typical head's Strings at once (the
            // target, and a name and a value per field), not a reallocation at each doubling.
            if made.isEmpty {
                made.reserveCapacity(2 * RequestParser.typicalFieldCount + 1)
                ends.reserveCapacity(2 * RequestParser.typicalFieldCount + 1)
            }
            let keep = octets.count + count <= Self.keptLimit
            if keep { octets.append(contentsOf: new) }
            made.append(keep ? string : "")
            ends.append(octets.count)
            return string
        }
        let start = position == 0 ? 0 : ends[position - 1], end = ends[position]
        if end - start == count, count > 0,
           octets.withUnsafeBufferPointer({ memcmp($0.baseAddress! + start, new.baseAddress!, count) }) == 0 {
            return made[position]
        }
        // A String that differs takes the place, its octets those of the one it replaces (the later places
        // move by the difference): over the bound, the place is kept by an empty String and no octets.
        let string = String(decoding: new, as: UTF8.self)
        let keep = octets.count - (end - start) + count <= Self.keptLimit
        if keep {
            octets.replaceSubrange(start..<end, with: new)
        } else {
            octets.removeSubrange(start..<end)
        }
        let moved = (keep ? count : 0) - (end - start)
        if moved != 0 { for later in position..<ends.count { ends[later] += moved } }
        made[position] = keep ? string : ""
        return string
    }

    /// Ready for the next request: its first String is compared with this one's first.
    mutating func rewind() { position = 0 }

    /// The last target's shape (`TargetShape`), kept with it: a target this gave back again is the same
    /// String, found equal at once (same storage), and its shape is not worked out again.
    private var lastTarget = ""
    private var lastShape = TargetShape()

    mutating func shape(of target: String, _ find: () -> TargetShape) -> TargetShape {
        if target == lastTarget, !target.isEmpty { return lastShape }
        lastTarget = target
        lastShape = find()
        return lastShape
    }
}
