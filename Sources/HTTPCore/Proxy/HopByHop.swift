/// The header fields that describe one connection, not the message (RFC 9110 §7.6.1): a proxy is the end
/// of the client's connection and the start of its own to the upstream, so these fields stop at it.
///
/// - `Connection`, and every field it names (`Connection: close, X-Trace` makes `X-Trace` hop-by-hop too);
/// - `Keep-Alive`, `Proxy-Connection` (a non-standard alias old clients still send), `TE`, `Trailer`,
///   `Upgrade` (§7.8: a protocol switch is between neighbours), `Proxy-Authenticate`/`Proxy-Authorization`
///   (meant for this proxy);
/// - `Transfer-Encoding`: each hop frames the body its own way (RFC 9112 §6.1), so the proxy decodes
///   chunked on one side and re-frames on the other. Its twin `Content-Length` is re-written by the
///   serializer from the framing the proxy chose, never copied blindly.
///
/// Why it matters: a client that sends `Connection: close` to a proxy means "close *our* connection",
/// not the proxy's pooled connection to the upstream; forwarding it would cost a TCP handshake per request.
public enum HopByHop {
    /// The fields that are always hop-by-hop, lower-cased.
    public static let standard: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Fields a `Connection` list may not make hop-by-hop: the target's authority and the framing, which the
    /// proxy handles itself. `Connection: Host` would otherwise send the upstream an empty Host, and the
    /// answer for its default site would be cached under the client's.
    public static let neverHopByHop: Set<String> = ["host", "content-length"]

    /// The names of the hop-by-hop fields in `headers`: the standard ones and those `Connection` lists.
    public static func names(in headers: HTTPHeaders) -> Set<String> {
        var names = standard
        for token in headers.listElements("Connection") { names.insert(token.lowercased()) }
        for token in headers.listElements("Proxy-Connection") { names.insert(token.lowercased()) }
        return names.subtracting(neverHopByHop)
    }

    /// Whether `request` asks to switch its connection to WebSocket (RFC 6455 §4.1): a proxy that tunnels
    /// it keeps `Upgrade: websocket` and `Connection: Upgrade` for the next hop, the one exception to the rule.
    public static func asksForWebSocket(_ request: HTTPRequest) -> Bool {
        request.method == .get && request.headers.contains("Upgrade", token: "websocket")
            && request.headers.contains("Connection", token: "upgrade")
    }

    /// `headers` without any hop-by-hop field: those `names(in:)` gives, whatever their case.
    ///
    /// Asked twice for every proxied exchange (the request on its way up, the answer on its way down), so each
    /// field is decided on its name's octets: no lower-cased copy of every name and no set built and hashed per
    /// message, which cost about 17,000 instructions of a 13-byte exchange's 72,000 (callgrind). Headers with no
    /// hop-by-hop field, as most answers from a pooled upstream are, come back as they are.
    public static func removing(from headers: HTTPHeaders) -> HTTPHeaders {
        let listed = headers.listElements("Connection") + headers.listElements("Proxy-Connection")
        func isHopByHop(_ name: String) -> Bool {
            if neverHopByHopNames.contains(where: { ASCII.caseInsensitiveEquals($0, name) }) { return false }
            return standardNames.contains { ASCII.caseInsensitiveEquals($0, name) }
                || listed.contains { ASCII.caseInsensitiveEquals($0, name) }
        }
        // One pass: the fields before the first hop-by-hop one are kept as they are, each later one decided once.
        guard let first = headers.fields.firstIndex(where: { isHopByHop($0.name) }) else { return headers }
        var kept = Array(headers.fields[..<first])
        for field in headers.fields[(first + 1)...] where !isHopByHop(field.name) { kept.append(field) }
        return HTTPHeaders(kept)
    }

    /// `standard` and `neverHopByHop` as arrays, searched in place by `removing` (`caseInsensitiveEquals`
    /// compares the lengths first, so most names are ruled out without a look at their octets).
    private static let standardNames = Array(standard)
    private static let neverHopByHopNames = Array(neverHopByHop)
}
