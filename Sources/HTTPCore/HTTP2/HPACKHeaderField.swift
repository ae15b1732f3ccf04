/// One header field as HPACK carries it (RFC 7541 §1.3): a name and a value, each a sequence of octets.
///
/// Octets, not `String`: a value may hold obs-text (0x80–0xFF) that is not UTF-8, and the dynamic table counts
/// octets (§4.1). Converting would change the count and put the two ends' tables out of step.
public struct HPACKHeaderField: Sendable, Hashable, CustomStringConvertible {
    public var name: [UInt8]
    public var value: [UInt8]
    /// The field was (when decoded) or must be (when encoded) a "literal never indexed" (§6.2.3): no
    /// intermediary may put it in a table, so a secret such as a password is not exposed to compression attacks
    /// (§7.1). A proxy that forwards it must keep the flag.
    public var neverIndexed: Bool

    public init(name: [UInt8], value: [UInt8], neverIndexed: Bool = false) {
        self.name = name
        self.value = value
        self.neverIndexed = neverIndexed
    }

    public init(_ name: String, _ value: String, neverIndexed: Bool = false) {
        self.init(name: Array(name.utf8), value: Array(value.utf8), neverIndexed: neverIndexed)
    }

    /// The field's size in a dynamic table (§4.1): the octets of name and value plus 32, "an estimate of the
    /// overhead" of an entry. The same count measures a header list (RFC 9113 §6.5.2, MAX_HEADER_LIST_SIZE).
    public var size: Int { 32 + name.count + value.count }

    public var nameString: String { String(decoding: name, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }

    public var description: String { "\(nameString): \(valueString)" + (neverIndexed ? " (never indexed)" : "") }
}
