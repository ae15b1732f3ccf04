/// The static table of HPACK (RFC 7541 Appendix A): 61 fields that are common in requests and responses,
/// at indices 1...61. The dynamic table's entries follow at 62 and up (§2.3.3).
///
/// The order is the RFC's: by name, the pseudo-header fields first. Some names appear several times with
/// different values (:method, :path, :scheme, :status); most have an empty value and serve as a name only.
enum HPACKStaticTable {
    static let entries: [(name: String, value: String)] = [
        (":authority", ""), // 1
        (":method", "GET"), // 2
        (":method", "POST"), // 3
        (":path", "/"), // 4
        (":path", "/index.html"), // 5
        (":scheme", "http"), // 6
        (":scheme", "https"), // 7
        (":status", "200"), // 8
        (":status", "204"), // 9
        (":status", "206"), // 10
        (":status", "304"), // 11
        (":status", "400"), // 12
        (":status", "404"), // 13
        (":status", "500"), // 14
        ("accept-charset", ""), // 15
        ("accept-encoding", "gzip, deflate"), // 16
        ("accept-language", ""), // 17
        ("accept-ranges", ""), // 18
        ("accept", ""), // 19
        ("access-control-allow-origin", ""), // 20
        ("age", ""), // 21
        ("allow", ""), // 22
        ("authorization", ""), // 23
        ("cache-control", ""), // 24
        ("content-disposition", ""), // 25
        ("content-encoding", ""), // 26
        ("content-language", ""), // 27
        ("content-length", ""), // 28
        ("content-location", ""), // 29
        ("content-range", ""), // 30
        ("content-type", ""), // 31
        ("cookie", ""), // 32
        ("date", ""), // 33
        ("etag", ""), // 34
        ("expect", ""), // 35
        ("expires", ""), // 36
        ("from", ""), // 37
        ("host", ""), // 38
        ("if-match", ""), // 39
        ("if-modified-since", ""), // 40
        ("if-none-match", ""), // 41
        ("if-range", ""), // 42
        ("if-unmodified-since", ""), // 43
        ("last-modified", ""), // 44
        ("link", ""), // 45
        ("location", ""), // 46
        ("max-forwards", ""), // 47
        ("proxy-authenticate", ""), // 48
        ("proxy-authorization", ""), // 49
        ("range", ""), // 50
        ("referer", ""), // 51
        ("refresh", ""), // 52
        ("retry-after", ""), // 53
        ("server", ""), // 54
        ("set-cookie", ""), // 55
        ("strict-transport-security", ""), // 56
        ("transfer-encoding", ""), // 57
        ("user-agent", ""), // 58
        ("vary", ""), // 59
        ("via", ""), // 60
        ("www-authenticate", ""), // 61
    ]

    /// The static table as fields, index 1 at position 0.
    static let fields: [HPACKHeaderField] = entries.map { HPACKHeaderField($0.name, $0.value) }

    static var count: Int { entries.count }

    /// The lowest index whose name and value both match, for an indexed representation (§6.1).
    static func index(of field: HPACKHeaderField) -> Int? {
        guard let candidates = byName[Octets(field.name)] else { return nil }
        return candidates.first { $0.value == field.value }?.index
    }

    /// Both lookups at once, for the encoder: the exact match and the lowest index with the name.
    static func lookup(_ field: HPACKHeaderField) -> (exact: Int?, name: Int?) {
        guard let candidates = byName[Octets(field.name)] else { return (nil, nil) }
        return (candidates.first { $0.value == field.value }?.index, candidates.first?.index)
    }

    /// The lowest index with this name, for a literal with an indexed name (§6.2).
    static func index(ofName name: [UInt8]) -> Int? {
        byName[Octets(name)]?.first?.index
    }

    /// Octets as a dictionary key, hashed in one call: `[UInt8]`'s own hashing feeds the hasher one element
    /// at a time, which is most of the cost of a lookup done for every field of every response.
    private struct Octets: Hashable {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    /// Every name with its (value, index) pairs, lowest index first.
    private static let byName: [Octets: [(value: [UInt8], index: Int)]] = {
        var map: [Octets: [(value: [UInt8], index: Int)]] = [:]
        for (i, field) in fields.enumerated() { map[Octets(field.name), default: []].append((field.value, i + 1)) }
        return map
    }()
}
