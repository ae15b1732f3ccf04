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

    /// `headers` without any hop-by-hop field: those `names(in:)` gives, whatever their case. (The proxy's two
    /// rewrites, `ProxyRequest.init` and `ProxyResponse.clientHeaders`, apply the same test inside their own
    /// single pass over the fields; this is the request as the cache sees it, `ProxyExchange.cacheRequest`.)
    ///
    /// Each field is decided once, on its name's octets (`ProxyFieldName`: the length picks the one or two
    /// names to compare): no lower-cased copy of every name and no set built per message. Headers with no
    /// hop-by-hop field come back as they are.
    public static func removing(from headers: HTTPHeaders) -> HTTPHeaders {
        let listed = ListedNames(headers)
        guard let first = headers.fields.firstIndex(where: { listed.isHopByHop($0.name) }) else { return headers }
        // One pass: the fields before the first hop-by-hop one are kept as they are, each later one decided once.
        var kept = Array(headers.fields[..<first])
        for field in headers.fields[(first + 1)...] where !listed.isHopByHop(field.name) { kept.append(field) }
        return HTTPHeaders(kept)
    }

    /// The names a message's `Connection` and `Proxy-Connection` fields list (§7.6.1), lower-cased, read only
    /// when the message has such a field (most answers from a pooled upstream have none), and the test of a
    /// name against them and the standard set.
    struct ListedNames {
        private var names: [[UInt8]] = []

        init(_ headers: HTTPHeaders) {
            // Only a name as long as `Connection` or `Proxy-Connection` is looked at further.
            for field in headers.fields where (field.name.utf8.count == 10 || field.name.utf8.count == 16) && ProxyFieldName(field.name) == .connectionList {
                for token in HTTPHeaders([field]).listElements(field.name) { names.append(token.utf8.map(ASCII.lowercased)) }
            }
        }

        /// Whether a field named `name` stops at this hop.
        func isHopByHop(_ name: String) -> Bool {
            isHopByHop(name, ProxyFieldName(name))
        }

        /// The same, with the name's role already known.
        func isHopByHop(_ name: String, _ role: ProxyFieldName) -> Bool {
            switch role {
            case .hopByHop, .connectionList, .transferEncoding, .upgrade: return true
            case .host, .contentLength: return false // never, whatever Connection lists (`neverHopByHop`)
            default:
                guard !names.isEmpty else { return false }
                return name.withUTF8Octets { bytes in
                    names.contains { listed in
                        guard listed.count == bytes.count else { return false }
                        for index in 0..<bytes.count where ASCII.lowercased(bytes[index]) != listed[index] { return false }
                        return true
                    }
                }
            }
        }
    }
}

/// What a field's name means to the proxy, told by its length and then the octets of the one or two names of
/// that length (as `HeaderFieldParser.FramingField` does for the parser): the standard hop-by-hop fields
/// (`HopByHop.standard`), the two that list more of them, and the fields the proxy rewrites itself.
enum ProxyFieldName: Equatable {
    /// Connection and Proxy-Connection: hop-by-hop, and their values name more hop-by-hop fields.
    case connectionList
    /// Keep-Alive, TE, Trailer, Proxy-Authenticate, Proxy-Authorization.
    case hopByHop
    /// Hop-by-hop too, named apart because the request's rewriting asks about them.
    case transferEncoding, upgrade
    case host, contentLength, expect, via, forwardedFor, forwardedProto
    case other

    init(_ name: String) {
        let count = name.utf8.count
        // Only the lengths of the names below look at the octets; every other field is `other` at once.
        switch count {
        case 2, 3, 4, 6, 7, 10, 14, 15, 16, 17, 18, 19: self = name.withUTF8Octets { Self(bytes: $0) }
        default: self = .other
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        switch bytes.count {
        case 2 where ASCII.equalsIgnoringCase(bytes, "te"): self = .hopByHop
        case 3 where ASCII.equalsIgnoringCase(bytes, "via"): self = .via
        case 4 where ASCII.equalsIgnoringCase(bytes, "host"): self = .host
        case 6 where ASCII.equalsIgnoringCase(bytes, "expect"): self = .expect
        case 7 where ASCII.equalsIgnoringCase(bytes, "upgrade"): self = .upgrade
        case 7 where ASCII.equalsIgnoringCase(bytes, "trailer"): self = .hopByHop
        case 10 where ASCII.equalsIgnoringCase(bytes, "connection"): self = .connectionList
        case 10 where ASCII.equalsIgnoringCase(bytes, "keep-alive"): self = .hopByHop
        case 14 where ASCII.equalsIgnoringCase(bytes, "content-length"): self = .contentLength
        case 15 where ASCII.equalsIgnoringCase(bytes, "x-forwarded-for"): self = .forwardedFor
        case 16 where ASCII.equalsIgnoringCase(bytes, "proxy-connection"): self = .connectionList
        case 17 where ASCII.equalsIgnoringCase(bytes, "transfer-encoding"): self = .transferEncoding
        case 17 where ASCII.equalsIgnoringCase(bytes, "x-forwarded-proto"): self = .forwardedProto
        case 18 where ASCII.equalsIgnoringCase(bytes, "proxy-authenticate"): self = .hopByHop
        case 19 where ASCII.equalsIgnoringCase(bytes, "proxy-authorization"): self = .hopByHop
        default: self = .other
        }
    }
}
