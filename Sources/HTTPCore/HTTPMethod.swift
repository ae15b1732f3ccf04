/// A request method (RFC 9110 §9): a case-sensitive token. The standard ones are named; any other token
/// is a method too (a server answers what it does not implement with 501 or 405).
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The method named by `bytes` (a token the parser checked): the common ones share one constant string.
    public init(bytes: UnsafeBufferPointer<UInt8>) {
        if ASCII.equals(bytes, "GET") { self = .get; return }
        if ASCII.equals(bytes, "HEAD") { self = .head; return }
        if ASCII.equals(bytes, "POST") { self = .post; return }
        self.rawValue = String(decoding: bytes, as: UTF8.self)
    }

    public static let get: HTTPMethod = "GET"
    public static let head: HTTPMethod = "HEAD"
    public static let post: HTTPMethod = "POST"
    public static let put: HTTPMethod = "PUT"
    public static let delete: HTTPMethod = "DELETE"
    public static let connect: HTTPMethod = "CONNECT"
    public static let options: HTTPMethod = "OPTIONS"
    public static let trace: HTTPMethod = "TRACE"
    public static let patch: HTTPMethod = "PATCH"

    public var description: String { rawValue }

    /// GET and HEAD: the methods a static file answers (HEAD is GET without the body, RFC 9110 §9.3.2).
    public var isGetOrHead: Bool { self == .get || self == .head }
}
