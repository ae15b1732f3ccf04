/// The user name and password of an `Authorization: Basic base64(user:password)` header (RFC 7617 §2).
/// The one parser of that header: the Basic-auth middleware checks it, the access log names its user.
public struct BasicCredentials: Sendable, Hashable {
    public var user: String
    /// The decoded `user:password` bytes, compared whole (RFC 7617 allows any octets in the password).
    public var pair: [UInt8]

    /// Parses an Authorization header value; nil when it is not Basic or not valid base64 with a colon.
    public init?(authorization header: String) {
        let parts = header.split(separator: " ", maxSplits: 1)
        // The scheme name is case-insensitive (RFC 9110 §11.1); the token68 is base64.
        guard parts.count == 2, ASCII.caseInsensitiveEquals(String(parts[0]), "basic"),
              let decoded = Base64.decode(String(parts[1]).trimmingASCIIWhitespace()),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        user = String(decoding: decoded[..<colon], as: UTF8.self)
        pair = decoded
    }
}
