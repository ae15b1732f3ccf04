/// A set of path first-segment lengths, one bit each (bit n for n octets; 63 and more share bit 63). The router,
/// Basic auth and gzip's `everySizeUnder` each keep the lengths their patterns or prefixes can match, and rule out
/// most requests by their path's first-segment length (`HTTPRequest.normalPathFirstSegmentLength`, found with the
/// target's shape) before comparing any octet. A length in the set decides nothing: the octets are compared then.
public struct FirstSegmentLengths: Sendable, Equatable {
    @usableFromInline var bits: UInt64 = 0

    public init() {}

    /// Every length: the set of a pattern or prefix that any path may match.
    public static let all: FirstSegmentLengths = { var all = FirstSegmentLengths(); all.bits = ~0; return all }()

    public mutating func insert(_ length: Int) { bits |= Self.bit(length) }

    /// `length` and every longer one (a prefix such as `/echo` starts `/echoes` too).
    public mutating func insert(atLeast length: Int) { bits |= ~(Self.bit(length) - 1) }

    /// Inlinable: asked for every request, from the Stages module too.
    @inlinable public func contains(_ length: Int) -> Bool { bits & Self.bit(length) != 0 }

    @inlinable static func bit(_ length: Int) -> UInt64 { 1 << UInt64(min(length, 63)) }
}
