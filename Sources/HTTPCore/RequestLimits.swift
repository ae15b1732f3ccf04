/// The sizes a server accepts before it refuses a request. Each limit maps to its own status, so a client
/// learns which one it hit: 414 for the request line, 431 for the header section, 413 for the body.
public struct RequestLimits: Sendable, Hashable {
    /// Longest request line, CRLF excluded (414 URI Too Long beyond it).
    public var maxRequestLineBytes: Int
    /// Largest header section: every field line with its CRLF (431 beyond it).
    public var maxHeaderBytes: Int
    /// Most header fields (431 beyond it).
    public var maxHeaderCount: Int
    /// Largest body, by Content-Length or the sum of chunk sizes (413 beyond it).
    public var maxBodyBytes: Int

    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 32 * 1024,
                maxHeaderCount: Int = 100, maxBodyBytes: Int = 64 * 1024 * 1024) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
