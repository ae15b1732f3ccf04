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
    /// The place of the next String in the request.
    private var position = 0
    /// The octets the kept Strings hold, at most `keptLimit`.
    private var kept = 0
    static let keptLimit = 4096
    /// The octets held now (for the tests of the bound).
    var keptOctets: Int { kept }

    /// The String of `octets` (UTF-8, repaired as `String(decoding:as:)` does).
    mutating func string(_ octets: Span<UInt8>) -> String {
        defer { position += 1 }
        if position < made.count, made[position].utf8.count == octets.count, !octets.isEmpty,
           made[position].utf8.span.elementsEqual(octets) {
            return made[position]
        }
        let string = String(copying: octets)
        let previous = position < made.count ? made[position].utf8.count : 0
        let keep = kept - previous + octets.count <= Self.keptLimit
        let stored = keep ? string : ""
        if position < made.count {
            made[position] = stored
        } else {
            // A connection's first request fills the array: room for a typical head's Strings at once (the
            // target, and a name and a value per field), not a reallocation at each doubling.
            if made.isEmpty { made.reserveCapacity(2 * RequestParser.typicalFieldCount + 1) }
            made.append(stored)
        }
        kept += (keep ? octets.count : 0) - previous
        return string
    }

    /// The String of `octets`, from an array's slice (the HTTP/1.1 parser's read buffer).
    mutating func string(_ octets: ArraySlice<UInt8>) -> String {
        octets.withUnsafeBufferPointer { string(Span(_unsafeElements: $0)) }
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
