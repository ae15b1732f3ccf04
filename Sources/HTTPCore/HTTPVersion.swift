/// The protocol version from a request or status line: `HTTP/1.1` is major 1, minor 1.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    /// HTTP/2 (RFC 9113): no request line on the wire; `HTTP2Connection` puts this version on the requests it
    /// builds from pseudo-header fields.
    public static let http2 = HTTPVersion(major: 2, minor: 0)

    /// `HTTP/1.1`. HTTP/2 prints as `HTTP/2.0`, the form a request line would have (the 505 answer to
    /// `GET / HTTP/2.0` quotes it so, and a live test checks it).
    public var description: String { "HTTP/\(major).\(minor)" }
}
