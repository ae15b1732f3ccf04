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
        var gzip: Double?, identity: Double?, star: Double?
        for element in acceptEncoding.flatMap({ $0.split(separator: ",") }) {
            let parts = element.split(separator: ";").map { $0.trimmingASCIIWhitespace() }
            guard let name = parts.first?.lowercased(), !name.isEmpty else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingASCIIWhitespace() }
                if pair.count == 2, pair[0].lowercased() == "q" { quality = Double(pair[1]).map { min(max($0, 0), 1) } ?? 0 }
            }
            switch name {
            case "gzip", "x-gzip": gzip = max(gzip ?? 0, quality)
            case "identity": identity = quality
            case "*": star = quality
            default: break
            }
        }
        let gzipQuality = gzip ?? star ?? 0
        // identity is acceptable unless refused, but only an explicit, higher q makes it preferred.
        let identityQuality = identity ?? (star == 0 ? 0 : 1)
        if gzipQuality > 0 && gzipQuality >= (identity ?? 0) { return .gzip }
        if identityQuality > 0 { return .identity }
        return .notAcceptable
    }
}
