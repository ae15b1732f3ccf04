/// The opening handshake (RFC 6455 §4.2): an HTTP/1.1 GET that asks to switch protocols, and the
/// `101 Switching Protocols` that agrees. After it the same TCP connection carries frames, not HTTP.
///
///     GET /chat HTTP/1.1                      HTTP/1.1 101 Switching Protocols
///     Host: server.example.com                Upgrade: websocket
///     Upgrade: websocket                      Connection: Upgrade
///     Connection: Upgrade                     Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
///     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
///     Sec-WebSocket-Version: 13
public enum WebSocketHandshake {
    /// The GUID of §1.3: every server appends it to the client's key, so only a server that understood
    /// the handshake can compute the answer (a cache or an HTTP server that ignores Upgrade cannot).
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// base64(SHA-1(key + GUID)) — `Sec-WebSocket-Accept` for `Sec-WebSocket-Key: key` (§4.2.2).
    public static func accept(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    public enum Outcome: Sendable {
        /// Switch: send this 101, then speak WebSocket with these settings.
        case accepted(HTTPResponse, WebSocketConnection.Configuration)
        /// Not a valid opening handshake: send this error and stay with HTTP.
        case refused(HTTPResponse)
    }

    /// Checks an opening handshake for a WebSocket endpoint and builds the answer.
    public static func respond(to request: HTTPRequest, maxMessageBytes: Int = 16 << 20,
                               allowDeflate: Bool = true) -> Outcome {
        let upgrade = request.headers.contains("Upgrade", token: "websocket")
        // RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request MUST be ignored; the endpoint only speaks WebSocket.
        guard upgrade, request.version != .http1_0 else {
            var response = HTTPResponse.text(HTTPStatus(code: 426),
                "426 Upgrade Required: \(request.path) speaks WebSocket; send an HTTP/1.1 GET with Upgrade: websocket\n")
            response.headers.set("Upgrade", "websocket")
            return .refused(response)
        }
        guard request.method == .get else {
            var response = HTTPResponse.text(HTTPStatus(code: 405),
                "405 Method Not Allowed: a WebSocket handshake is a GET (RFC 6455 §4.1), not \(request.method)\n")
            response.headers.set("Allow", "GET")
            return .refused(response)
        }
        guard request.headers.contains("Connection", token: "upgrade") else {
            return .refused(.text(.badRequest, "400 Bad Request: a WebSocket handshake needs Connection: Upgrade (RFC 6455 §4.2.1)\n"))
        }
        let versions = request.headers.values("Sec-WebSocket-Version")
        guard versions == ["13"] else {
            let got = versions.isEmpty ? "no Sec-WebSocket-Version" : "Sec-WebSocket-Version \(RequestError.quote(versions.joined(separator: ", ")))"
            var response = HTTPResponse.text(HTTPStatus(code: 426), "426 Upgrade Required: \(got); this server speaks version 13 (RFC 6455 §4.4)\n")
            response.headers.set("Sec-WebSocket-Version", "13")
            return .refused(response)
        }
        let keys = request.headers.values("Sec-WebSocket-Key")
        // §4.1: the key is a random 16-byte value, base64-encoded (24 characters).
        guard keys.count == 1, let key = keys.first?.trimmingASCIIWhitespace(), Base64.decode(key)?.count == 16 else {
            let why = keys.isEmpty ? "is missing" : keys.count > 1 ? "appears more than once" : "is not 16 bytes in base64"
            return .refused(.text(.badRequest, "400 Bad Request: Sec-WebSocket-Key \(why) (RFC 6455 §4.2.1)\n"))
        }
        var response = HTTPResponse(status: HTTPStatus(code: 101))
        response.headers.set("Upgrade", "websocket")
        response.headers.set("Connection", "Upgrade")
        response.headers.set("Sec-WebSocket-Accept", accept(forKey: key))
        var configuration = WebSocketConnection.Configuration(maxMessageBytes: maxMessageBytes)
        if allowDeflate, let deflate = PerMessageDeflate.negotiate(request.headers.values("Sec-WebSocket-Extensions")) {
            response.headers.set("Sec-WebSocket-Extensions", deflate.responseValue)
            configuration.deflate = deflate
        }
        return .accepted(response, configuration)
    }
}
