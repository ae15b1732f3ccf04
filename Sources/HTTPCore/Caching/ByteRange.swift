/// The `Range: bytes=…` header (RFC 9110 §14.1.2) and what it asks of a representation `length` bytes long.
///
///     bytes=0-499        the first 500 bytes
///     bytes=500-         from byte 500 to the end
///     bytes=-500         the last 500 bytes (a suffix)
///     bytes=0-0,-1       the first and the last byte (two ranges: multipart/byteranges)
public enum ByteRanges {
    /// One requested range, before it meets a length.
    public enum Spec: Sendable, Hashable {
        case fromTo(Int, Int?)
        case suffix(Int)
    }

    /// What a server does with a Range header.
    public enum Decision: Sendable, Hashable {
        /// Serve the whole representation with 200: no Range, not `bytes`, malformed, or a request the
        /// server chooses to ignore (§14.2 allows that for too many or overlapping ranges).
        case whole
        /// 206 with these ranges (offset, length), in the order asked.
        case partial([(offset: Int, length: Int)])
        /// 416 with `Content-Range: bytes */length`: no range overlaps the representation.
        case unsatisfiable

        public static func == (a: Decision, b: Decision) -> Bool {
            switch (a, b) {
            case (.whole, .whole), (.unsatisfiable, .unsatisfiable): return true
            case (.partial(let x), .partial(let y)): return x.elementsEqual(y) { $0.offset == $1.offset && $0.length == $1.length }
            default: return false
            }
        }

        public func hash(into hasher: inout Hasher) {
            switch self {
            case .whole: hasher.combine(0)
            case .unsatisfiable: hasher.combine(1)
            case .partial(let ranges): for range in ranges { hasher.combine(range.offset); hasher.combine(range.length) }
            }
        }
    }

    /// At most this many ranges are honoured; more, and the whole representation is sent instead (a
    /// request for thousands of tiny ranges costs the server far more than the bytes — §17.15).
    public static let maxRanges = 16

    /// Parses a Range value; nil when it is not a valid `bytes` range set (the header is then ignored).
    public static func parse(_ value: String) -> [Spec]? {
        let trimmed = value.trimmingASCIIWhitespace()
        guard trimmed.count > 6, ASCII.caseInsensitiveEquals(String(trimmed.prefix(6)), "bytes=") else { return nil }
        var specs: [Spec] = []
        for part in trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingASCIIWhitespace()
            if item.isEmpty { continue } // §5.6.1: empty list elements are allowed and ignored
            guard let dash = item.firstIndex(of: "-") else { return nil }
            let first = item[..<dash], last = item[item.index(after: dash)...]
            func number(_ text: Substring) -> Int? {
                guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy(ASCII.isDigit) else { return nil }
                return Int(text)
            }
            if first.isEmpty {
                guard let suffix = number(last) else { return nil }
                specs.append(.suffix(suffix))
            } else {
                guard let start = number(first) else { return nil }
                if last.isEmpty {
                    specs.append(.fromTo(start, nil))
                } else {
                    guard let end = number(last), end >= start else { return nil } // §14.1.1: invalid if last < first
                    specs.append(.fromTo(start, end))
                }
            }
        }
        return specs.isEmpty ? nil : specs
    }

    /// Decides how to answer `Range: value` for a representation of `length` bytes.
    public static func decide(_ value: String?, length: Int) -> Decision {
        guard let value, let specs = parse(value) else { return .whole }
        guard specs.count <= maxRanges else { return .whole }
        var ranges: [(offset: Int, length: Int)] = []
        for spec in specs {
            switch spec {
            case .fromTo(let start, let end):
                guard start < length else { continue } // unsatisfiable alone; others may still be satisfiable
                let last = min(end ?? length - 1, length - 1)
                ranges.append((start, last - start + 1))
            case .suffix(let count):
                guard count > 0, length > 0 else { continue }
                let take = min(count, length)
                ranges.append((length - take, take))
            }
        }
        guard !ranges.isEmpty else { return .unsatisfiable }
        // Overlapping ranges ask for the same bytes twice: serve the whole file instead (§14.2 allows a
        // server to ignore such a Range; nginx and h2o coalesce or ignore too).
        let sorted = ranges.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.offset < a.offset + a.length { return .whole }
        return .partial(ranges)
    }
}
