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

    public static func normalize(_ rawPath: String) throws(RequestError) -> Normalized {
        guard rawPath.hasPrefix("/") else { throw .badRequest("path must start with '/'") }
        if let plain = plainSegments(rawPath) { return plain }
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
        // An index loop with the common byte tested first: it runs twice per routed request (Basic auth and
        // the router's shortcut), and `for … in dropFirst()` with a range switch cost about 26 instructions
        // a byte.
        var segmentLength = 0, dots = 0, index = 1
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == ASCII.slash {
                if segmentLength == 0 || (segmentLength == dots && dots <= 2) { return false } // "//", "/./", "/../"
                segmentLength = 0
                dots = 0
                continue
            }
            if byte >= 0x80 || byte == 0 || byte == ASCII.percent || byte == UInt8(ascii: "\\") { return false }
            segmentLength += 1
            if byte == UInt8(ascii: "."), dots == segmentLength - 1 { dots += 1 }
        }
        return !(segmentLength > 0 && segmentLength == dots && dots <= 2)
    }

    /// The common case, without decoding: a path with no `%`, backslash, NUL, empty, `.` or `..` segment
    /// is already normal. nil when the full normalisation is needed.
    static func plainSegments(_ rawPath: String) -> Normalized? {
        guard isNormal(rawPath) else { return nil }
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
