/// An entity tag (RFC 9110 §8.8.3): an opaque validator for one representation of a resource.
/// `"xyzzy"` is strong (byte-for-byte identical); `W/"xyzzy"` is weak (equivalent, not identical).
public struct EntityTag: Sendable, Hashable, CustomStringConvertible {
    public var opaque: String
    public var isWeak: Bool

    public init(_ opaque: String, weak: Bool = false) {
        self.opaque = opaque
        self.isWeak = weak
    }

    /// The header form: `"opaque"` or `W/"opaque"`.
    public var description: String { (isWeak ? "W/" : "") + "\"" + opaque + "\"" }

    /// §8.8.3.2: strong comparison — both strong and the same opaque string.
    public func strongMatches(_ other: EntityTag) -> Bool { !isWeak && !other.isWeak && opaque == other.opaque }

    /// §8.8.3.2: weak comparison — the same opaque string, weak or not.
    public func weakMatches(_ other: EntityTag) -> Bool { opaque == other.opaque }

    /// Parses one tag; nil if malformed (a tag is `W/`? DQUOTE *etagc DQUOTE, etagc excludes DQUOTE,
    /// controls and space).
    public init?(parsing text: Substring) {
        var rest = text
        var weak = false
        if rest.hasPrefix("W/") {
            weak = true
            rest = rest.dropFirst(2)
        }
        guard rest.count >= 2, rest.first == "\"", rest.last == "\"" else { return nil }
        let inner = rest.dropFirst().dropLast()
        guard inner.utf8.allSatisfy({ $0 == 0x21 || ($0 >= 0x23 && $0 != 0x7F) }) else { return nil }
        self.init(String(inner), weak: weak)
    }

    /// The members of an `If-Match`/`If-None-Match` field (RFC 9110 §13.1.1): `*`, or a list of tags.
    public enum Condition: Sendable, Hashable {
        case any
        case tags([EntityTag])
        /// The field did not parse: the request is treated as if the field were absent... except that
        /// a malformed If-Match must not let a write through, so callers decide.
        case malformed
    }

    /// Parses every value of a conditional header (it may be repeated, and is a comma-separated list).
    public static func condition(_ values: [String]) -> Condition? {
        guard !values.isEmpty else { return nil }
        let joined = values.joined(separator: ",")
        if joined.trimmingASCIIWhitespace() == "*" { return .any }
        var tags: [EntityTag] = []
        for element in splitList(joined) {
            guard let tag = EntityTag(parsing: element) else { return .malformed }
            tags.append(tag)
        }
        return tags.isEmpty ? .malformed : .tags(tags)
    }

    /// Splits on commas outside quotes (an opaque tag may contain a comma).
    static func splitList(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" { quoted.toggle() }
            if character == "," && !quoted {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        parts.append(text[start...])
        return parts.map { Substring($0.trimmingASCIIWhitespace()) }.filter { !$0.isEmpty }
    }
}
