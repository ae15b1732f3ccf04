/// HTTP/2 over cleartext by upgrade from HTTP/1.1 (RFC 7540 §3.2): what `curl --http2` does on `http://`.
///
///     GET / HTTP/1.1                               HTTP/1.1 101 Switching Protocols
///     Host: 127.0.0.1:8080                         Connection: Upgrade
///     Connection: Upgrade, HTTP2-Settings    ──▶   Upgrade: h2c
///     Upgrade: h2c
///     HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA     [HTTP/2 from here: SETTINGS, then the answer on stream 1]
///
/// RFC 9113 §3.1 deprecates it (browsers never used it; they speak h2 over TLS), so a server may ignore it —
/// but a teaching server shows it, since it is the one place where HTTP/1.1 visibly turns into HTTP/2 on the
/// wire. A request that does not ask exactly as §3.2 says is simply served over HTTP/1.1, as it would be
/// by a server that knows nothing of h2c.
public enum H2CUpgrade {
    /// The `Upgrade` token (RFC 7540 §3.1): HTTP/2 over cleartext TCP.
    public static let token = "h2c"

    /// The client's settings when `request` asks for h2c as §3.2 requires; nil when it does not, or asks
    /// wrongly, and is to be answered over HTTP/1.1:
    /// - HTTP/1.1, `Upgrade: h2c`, and `Connection` naming both `Upgrade` and `HTTP2-Settings` (§3.2.1:
    ///   HTTP2-Settings is hop-by-hop);
    /// - exactly one `HTTP2-Settings`, base64url (RFC 4648 §5, no padding) of a SETTINGS payload: 6 octets
    ///   per setting, each value valid (§6.5.2);
    /// - no body: this server upgrades only requests it has read whole (§3.2 lets a server decline).
    public static func settings(in request: HTTPRequest) -> [HTTP2Setting]? {
        guard request.version == .http1_1, request.body.isEmpty,
              request.headers.contains("Upgrade", token: token),
              request.headers.contains("Connection", token: "Upgrade"),
              request.headers.contains("Connection", token: "HTTP2-Settings") else { return nil }
        let values = request.headers.values("HTTP2-Settings")
        guard values.count == 1, let payload = decodeBase64URL(values[0]), payload.count % 6 == 0 else { return nil }
        var settings: [HTTP2Setting] = []
        var index = 0
        while index < payload.count {
            let identifier = UInt16(payload[index]) << 8 | UInt16(payload[index + 1])
            let value = readUInt32(payload[...], at: index + 2)
            let setting = HTTP2Setting(HTTP2SettingID(rawValue: identifier), value)
            guard (try? setting.validate()) != nil else { return nil }
            settings.append(setting)
            index += 6
        }
        return settings
    }

    /// The 101 that switches the connection; its HTTP/2 follows on the same bytes.
    public static func switchingResponse() -> HTTPResponse {
        var response = HTTPResponse(status: HTTPStatus(code: 101))
        response.headers.add("Connection", "Upgrade")
        response.headers.add("Upgrade", token)
        return response
    }

    /// base64url without padding (RFC 4648 §5), as `HTTP2-Settings` carries it; padding is tolerated.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        guard !text.contains("+"), !text.contains("/") else { return nil } // the other alphabet
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Base64.decode(standard)
    }
}
