/// Accept-Encoding negotiation (RFC 9110 §12.5.3): may this response be gzipped, must it be, or is no
/// acceptable coding left at all?
public enum ContentCoding: Sendable, Hashable {
    case gzip
    case identity
    /// The client refused identity (`identity;q=0` or `*;q=0`) and accepts nothing we can produce: 406.
    case notAcceptable

    /// Chooses between gzip and identity for the `Accept-Encoding` values of a request.
    /// - No header: identity (a client that says nothing may not understand gzip).
    /// - gzip (or x-gzip) with q > 0, or `*` with q > 0 and no explicit gzip entry: gzip, unless
    ///   `identity` is listed with a higher q.
    /// - Otherwise identity, unless identity was refused by `identity;q=0` or by `*;q=0` without an
    ///   identity entry, in which case nothing is acceptable.
    public static func negotiate(_ acceptEncoding: [String]) -> ContentCoding {
        guard !acceptEncoding.isEmpty else { return .identity }
        var qualities = Qualities()
        for value in acceptEncoding {
            // Every browser request to the router carries this header: it is read on its octets, with no
            // String made for an element, a name or a parameter (splitting and lowercasing them cost about
            // 10,000 instructions for "gzip, deflate, br", callgrind).
            value.withUTF8Octets { qualities.read($0) }
        }
        let gzipQuality = qualities.gzip ?? qualities.star ?? 0
        // identity is acceptable unless refused, but only an explicit, higher q makes it preferred.
        let identityQuality = qualities.identity ?? (qualities.star == 0 ? 0 : 1)
        if gzipQuality > 0 && gzipQuality >= (qualities.identity ?? 0) { return .gzip }
        if identityQuality > 0 { return .identity }
        return .notAcceptable
    }

    /// The q of each coding that matters here, as the elements `coding *( OWS ";" OWS parameter )` of
    /// a field value are read.
    private struct Qualities {
        var gzip: Double?, identity: Double?, star: Double?

        mutating func read(_ value: UnsafeBufferPointer<UInt8>) {
            var start = 0
            while start <= value.count {
                let end = Self.index(of: ASCII.comma, in: value, from: start)
                readElement(UnsafeBufferPointer(rebasing: value[start..<end]))
                start = end + 1
            }
        }

        private mutating func readElement(_ element: UnsafeBufferPointer<UInt8>) {
            let nameEnd = Self.index(of: ASCII.semicolon, in: element, from: 0)
            let name = ASCII.trimmingWhitespace(UnsafeBufferPointer(rebasing: element[..<nameEnd]))
            guard !name.isEmpty else { return }
            var quality = 1.0
            var start = nameEnd + 1
            while start <= element.count {
                let end = Self.index(of: ASCII.semicolon, in: element, from: start)
                let parameter = UnsafeBufferPointer(rebasing: element[start..<end])
                let equals = Self.index(of: UInt8(ascii: "="), in: parameter, from: 0)
                if equals < parameter.count, ASCII.equalsIgnoringCase(ASCII.trimmingWhitespace(UnsafeBufferPointer(rebasing: parameter[..<equals])), "q") {
                    let number = ASCII.trimmingWhitespace(UnsafeBufferPointer(rebasing: parameter[(equals + 1)...]))
                    quality = Double(String(decoding: number, as: UTF8.self)).map { min(max($0, 0), 1) } ?? 0
                }
                start = end + 1
            }
            if ASCII.equalsIgnoringCase(name, "gzip") || ASCII.equalsIgnoringCase(name, "x-gzip") {
                gzip = max(gzip ?? 0, quality)
            } else if ASCII.equalsIgnoringCase(name, "identity") {
                identity = quality
            } else if ASCII.equalsIgnoringCase(name, "*") {
                star = quality
            }
        }

        /// The index of the first `byte` at or after `from`, or the end.
        private static func index(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
            var index = from
            while index < bytes.count, bytes[index] != byte { index += 1 }
            return index
        }
    }
}
