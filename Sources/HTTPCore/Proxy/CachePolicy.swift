/// What a shared cache in front of an origin may do (RFC 9111), the part a reverse proxy needs: which
/// requests it may answer, which responses it may keep and for how long, and how it asks whether a
/// stale copy is still good. Pure rules over header fields; the clock is an argument.
public enum CachePolicy {
    /// Whether the cache may answer `request` or keep its response: GET only (HEAD and the rest go through),
    /// no credentials (§3.5: a shared cache must not reuse an authorised response, unless the response
    /// says `public`; this cache keeps it simple and never does), no `no-store` from the client (§5.2.1.5).
    public static func appliesTo(_ request: HTTPRequest) -> Bool {
        request.method == .get && !request.headers.contains("Authorization")
            && !request.headers.contains("Cache-Control", token: "no-store")
            && request.headers["Range"] == nil
    }

    /// Whether the client asked to skip a stored copy (`Cache-Control: no-cache` or `max-age=0`, §5.2.1).
    public static func clientWantsRevalidation(_ request: HTTPRequest) -> Bool {
        request.headers.contains("Cache-Control", token: "no-cache") || directive("max-age", in: request.headers) == 0
            || request.headers.contains("Pragma", token: "no-cache")
    }

    /// How many seconds a response stays fresh, or nil when it must not be stored at all (§3, §4.2.1):
    /// - never: `no-store`, `private` (§5.2.2.7: for one user's cache only), `Vary: *`, `Set-Cookie` (one
    ///   user's state), statuses other than 200, 203, 301, 404, 410;
    /// - `s-maxage` (meant for shared caches) wins over `max-age`, which wins over `Expires` − `Date`;
    /// - `no-cache` (§5.2.2.4): stored, but revalidated before every use (a lifetime of 0);
    /// - no explicit freshness at all: not stored (no heuristic freshness here, §4.2.2 allows but does not require it).
    public static func freshnessLifetime(status: Int, headers: HTTPHeaders) -> Double? {
        guard [200, 203, 301, 404, 410].contains(status) else { return nil }
        // `private="Set-Cookie"` and `no-cache="…"` (qualified, §5.2.2.4, §5.2.2.7) count as the plain directive:
        // the safe reading for a shared cache.
        if hasDirective("no-store", in: headers) || hasDirective("private", in: headers) { return nil }
        if headers.contains("Vary", token: "*") || headers.contains("Set-Cookie") { return nil }
        if hasDirective("no-cache", in: headers) { return 0 }
        if let shared = directive("s-maxage", in: headers) { return shared }
        if let maxAge = directive("max-age", in: headers) { return maxAge }
        if let expires = headers["Expires"] {
            // An invalid Expires (such as 0) means "already expired" (§5.3).
            guard let expiry = HTTPDate.parse(expires) else { return 0 }
            let date = headers["Date"].flatMap(HTTPDate.parse) ?? expiry
            return Double(max(0, expiry - date))
        }
        return nil
    }

    /// The value of `name=N` in Cache-Control as delta-seconds, or nil (absent, or not digits).
    static func directive(_ name: String, in headers: HTTPHeaders) -> Double? {
        for element in headers.listElements("Cache-Control") {
            let parts = element.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, ASCII.caseInsensitiveEquals(String(parts[0]).trimmingASCIIWhitespace(), name) else { continue }
            return deltaSeconds(parts[1].trimmingASCIIWhitespace().trimmingCharacters(in: "\""))
        }
        return nil
    }

    /// Whether Cache-Control has the directive `name`, bare or with an argument (`private="Set-Cookie"`).
    static func hasDirective(_ name: String, in headers: HTTPHeaders) -> Bool {
        headers.listElements("Cache-Control").contains { element in
            let directiveName = element.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return ASCII.caseInsensitiveEquals(directiveName.trimmingASCIIWhitespace(), name)
        }
    }

    /// delta-seconds (RFC 9111 §1.2.2): digits only; a value past 2^31 counts as 2^31. Anything else (a sign,
    /// a fraction, `nan`, `1e30`) is invalid: nil. Parsed by hand so an upstream's `Age: -1e30` cannot reach
    /// a conversion that traps.
    public static func deltaSeconds<Text: StringProtocol>(_ text: Text) -> Double? {
        let digits = text.utf8.drop { $0 == 0x20 || $0 == 0x09 }.prefix { $0 != 0x20 && $0 != 0x09 }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var value = 0.0
        for digit in digits {
            value = value * 10 + Double(digit - 0x30)
            if value >= 2_147_483_648 { return 2_147_483_648 }
        }
        return value
    }

    /// The primary key (§2): the method is always GET here, so the target and the Host it was asked of.
    public static func key(for request: HTTPRequest) -> String {
        "\(request.host ?? "")\(request.target)"
    }

    /// The header fields a stale copy is revalidated with (§4.3.1): its validators, so the origin can answer
    /// `304 Not Modified` and send no body.
    public static func validators(for stored: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let etag = stored["ETag"] { headers.add("If-None-Match", etag) }
        if let modified = stored["Last-Modified"] { headers.add("If-Modified-Since", modified) }
        return headers
    }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
