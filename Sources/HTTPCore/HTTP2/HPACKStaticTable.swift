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

    /// The index of `:status` with this code, for the seven the table holds (8...14): every response starts
    /// with `:status`, and a 200 is then one octet found with no search.
    static func index(ofStatus code: Int) -> Int? {
        switch code {
        case 200: return 8
        case 204: return 9
        case 206: return 10
        case 304: return 11
        case 400: return 12
        case 404: return 13
        case 500: return 14
        default: return nil
        }
    }

    /// Both lookups at once, for the encoder: the lowest index whose name and value both match (for an indexed
    /// representation, §6.1), and the lowest index with the name (for a literal with an indexed name, §6.2).
    static func lookup(name: Span<UInt8>, value: Span<UInt8>) -> (exact: Int?, name: Int?) {
        guard name.count < byNameLength.count else { return (nil, nil) }
        let candidates = byNameLength[name.count]
        var nameIndex: Int?
        for candidate in candidates.indices where candidates[candidate].name.elementsEqual(name) {
            let index = candidates[candidate].index
            if candidates[candidate].value.elementsEqual(value) { return (index, nameIndex ?? index) }
            if nameIndex == nil { nameIndex = index }
        }
        return (nil, nameIndex)
    }

    /// The entries by the length of their name: `byNameLength[n]` holds those whose name has n octets, lowest
    /// index first. A lookup compares the few entries of its name's length (eleven at most: the :method,
    /// :scheme and :status ones have 7 octets) and hashes nothing: hashing the name cost more than comparing.
    private static let byNameLength: [[(name: [UInt8], value: [UInt8], index: Int)]] = {
        let longest = fields.map(\.name.count).max() ?? 0 // access-control-allow-origin, 27
        var buckets = Array(repeating: [(name: [UInt8], value: [UInt8], index: Int)](), count: longest + 1)
        for (i, field) in fields.enumerated() { buckets[field.name.count].append((field.name, field.value, i + 1)) }
        return buckets
    }()
}
