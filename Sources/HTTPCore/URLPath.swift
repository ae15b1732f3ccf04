/// Turns a request path into safe segments under a root, or refuses it.
///
/// Percent-decoding happens first, then the split on `/`, then the `.` and `..` resolution, so `%2e%2e`,
/// `%2f` and `..%2f` cannot sneak a parent directory past the check. A path that climbs above the root,
/// or holds a NUL byte or a backslash, is refused with 400 and a reason.
public enum URLPath {
    public struct Normalized: Sendable, Hashable {
        /// Path segments, decoded, with no empty, `.` or `..` segment among them.
        public var segments: [String]
        /// Whether the path named a directory explicitly (`/docs/`).
        public var trailingSlash: Bool

        /// The normalised path, starting with `/`.
        public var path: String { "/" + segments.joined(separator: "/") + (trailingSlash && !segments.isEmpty ? "/" : "") }
    }

    /// - Parameter knownNormal: what `isNormal(rawPath)` says, when the caller already knows it (a request works
    ///   it out once, `HTTPRequest.hasNormalPath`): the path is then not looked at twice.
    public static func normalize(_ rawPath: String, isNormal knownNormal: Bool? = nil) throws(RequestError) -> Normalized {
        guard rawPath.hasPrefix("/") else { throw .badRequest("path must start with '/'") }
        if knownNormal ?? isNormal(rawPath) { return plainSegments(rawPath) }
        let decoded = try percentDecode(rawPath)
        if decoded.contains(0) { throw .badRequest("path contains a NUL byte") }
        if decoded.contains(UInt8(ascii: "\\")) { throw .badRequest("path contains a backslash") }

        var segments: [String] = []
        let parts = decoded.split(separator: ASCII.slash, omittingEmptySubsequences: false)
        for part in parts {
            if part.isEmpty || part.elementsEqual(".".utf8) { continue }
            if part.elementsEqual("..".utf8) {
                guard !segments.isEmpty else { throw .badRequest("path climbs above the document root") }
                segments.removeLast()
                continue
            }
            guard let segment = String(validating: part, as: UTF8.self) else {
                throw .badRequest("path is not valid UTF-8 after percent-decoding")
            }
            segments.append(segment)
        }
        let last = parts.last ?? []
        let trailingSlash = last.isEmpty || last.elementsEqual(".".utf8) || last.elementsEqual("..".utf8)
        return Normalized(segments: segments, trailingSlash: trailingSlash)
    }

    /// Whether `rawPath` is its own normal form (what `normalize(rawPath).path` would give): it starts with
    /// `/` and has no `%`, backslash, NUL, non-ASCII byte, empty, `.` or `..` segment. Checked without
    /// allocating, for the middleware that only needs the answer.
    public static func isNormal(_ rawPath: String) -> Bool {
        var rawPath = rawPath
        return rawPath.withUTF8(isNormal)
    }

    /// `isNormal` on the path's bytes.
    public static func isNormal(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.first == ASCII.slash else { return false }
        return scan(bytes, stoppingAtQuery: false).isNormal
    }

    /// An origin-form target (it starts with `/`) looked at once: where its path ends (at the first `?` or `#`,
    /// else the whole target) and whether that path `isNormal`. What `HTTPRequest` asks when its target is set.
    /// `firstSegmentEnd` is where the first segment ends (the second `/`, or the path's end): the router and
    /// Basic auth rule out most paths by that segment's length alone.
    static func scanTarget(_ bytes: UnsafeBufferPointer<UInt8>) -> (pathEnd: Int, isNormal: Bool, firstSegmentEnd: Int) {
        scan(bytes, stoppingAtQuery: true)
    }

    /// The one loop behind both, from the octet after the leading `/`: a table lookup says what each octet is,
    /// and the common one (text inside a segment) costs that lookup and a comparison. Without the table, each
    /// octet was compared with `/`, `.`, `%`, `\`, NUL and 0x80 in turn; `for … in dropFirst()` with a range
    /// switch cost about 26 instructions an octet.
    @inline(__always)
    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, stoppingAtQuery: Bool)
        -> (pathEnd: Int, isNormal: Bool, firstSegmentEnd: Int) {
        var segmentLength = 0, dots = 0, index = 1
        var normal = true
        var firstSegmentEnd = 0 // 0 until the second `/` is seen
        octetKinds.withUnsafeBufferPointer { kinds in
            while index < bytes.count {
                let kind = kinds[Int(bytes[index])]
                if kind == OctetKind.text { // the common case first
                    segmentLength += 1
                    index += 1
                    continue
                }
                if kind == OctetKind.query && stoppingAtQuery { return }
                if kind == OctetKind.slash {
                    // "//", "/./", "/../": an empty, `.` or `..` segment ends here.
                    if segmentLength == 0 || (segmentLength == dots && dots <= 2) { normal = false }
                    if firstSegmentEnd == 0 { firstSegmentEnd = index }
                    segmentLength = 0
                    dots = 0
                } else if kind == OctetKind.dot {
                    segmentLength += 1
                    if dots == segmentLength - 1 { dots += 1 } // still only dots in this segment
                } else if kind == OctetKind.abnormal {
                    normal = false
                } else {
                    segmentLength += 1 // `?` or `#` inside a path that is not a target's
                }
                if !normal && !stoppingAtQuery { return } // the answer is known; no end to look for
                index += 1
            }
        }
        if segmentLength > 0 && segmentLength == dots && dots <= 2 { normal = false } // ends in "/." or "/.."
        return (index, normal, firstSegmentEnd == 0 ? index : firstSegmentEnd)
    }

    /// What `scan` makes of each octet.
    private enum OctetKind {
        static let text: UInt8 = 0, slash: UInt8 = 1, dot: UInt8 = 2, query: UInt8 = 3
        /// `%` (a normal path has nothing to decode), `\`, NUL, and every non-ASCII octet.
        static let abnormal: UInt8 = 4
    }

    private static let octetKinds: [UInt8] = (0..<256).map { octet in
        switch octet {
        case 0x2F: return OctetKind.slash
        case 0x2E: return OctetKind.dot
        case 0x3F, 0x23: return OctetKind.query // "?" and "#"
        case 0x00, 0x25, 0x5C, 0x80...: return OctetKind.abnormal
        default: return OctetKind.text
        }
    }

    /// The common case, without decoding, for a path that `isNormal`: no `%`, backslash, NUL, empty, `.` or
    /// `..` segment.
    static func plainSegments(_ rawPath: String) -> Normalized {
        // Already normal: the segments are the text between slashes, as they are (split on bytes: no copy
        // per byte, one String per segment).
        let segments = rawPath.utf8.split(separator: ASCII.slash).map { String(Substring($0)) }
        return Normalized(segments: segments, trailingSlash: rawPath.utf8.last == ASCII.slash)
    }

    /// Decodes `%XX` escapes into bytes; a `%` not followed by two hex digits is an error.
    public static func percentDecode(_ text: String) throws(RequestError) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent {
                guard index + 2 < bytes.count, let high = ASCII.hexValue(bytes[index + 1]),
                      let low = ASCII.hexValue(bytes[index + 2]) else {
                    throw .badRequest("invalid percent-encoding in path")
                }
                out.append(UInt8(high * 16 + low))
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }
}
