import Synchronization
/// Frames a body of unknown length as `Transfer-Encoding: chunked` (RFC 9112 §7.1): each piece is preceded
/// by its size in hex and followed by CRLF, and a zero-size chunk ends the body.
///
///     5␍␊hello␍␊6␍␊ world␍␊0␍␊␍␊
public enum ChunkedEncoder {
    /// One chunk. An empty piece would end the body early, so it produces no bytes at all.
    public static func chunk<Bytes: Collection<UInt8>>(_ piece: Bytes) -> [UInt8] {
        guard !piece.isEmpty else { return [] }
        var out = Array(String(piece.count, radix: 16).utf8)
        out.reserveCapacity(out.count + piece.count + 4)
        out.append(contentsOf: ASCII.crlf)
        out.append(contentsOf: piece)
        out.append(contentsOf: ASCII.crlf)
        return out
    }

    /// The last chunk and an empty trailer section.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}

/// A body produced piece by piece, whose length is not known when the head goes out: it is sent chunked
/// to HTTP/1.1 clients and delimited by closing the connection for HTTP/1.0 ones.
/// `next()` is called only when the previous piece has been written, which is the backpressure.
public protocol BodyStream: AnyObject {
    /// The next piece, or nil at the end. An empty array means "nothing yet", and is not the end.
    func next() throws -> [UInt8]?
    /// Releases what the stream holds (a file, a zlib stream) when the connection goes away early.
    func close()
}

/// A Sendable factory for a body stream, so responses stay values that cross threads.
public struct StreamedBody: Sendable, Hashable {
    public let id: Int
    public let description: String
    private let make: @Sendable () throws -> any BodyStream

    public init(_ description: String, make: @escaping @Sendable () throws -> any BodyStream) {
        self.description = description
        self.make = make
        self.id = StreamedBody.counter.wrappingAdd(1, ordering: .relaxed).newValue
    }

    public func open() throws -> any BodyStream { try make() }

    public static func == (a: StreamedBody, b: StreamedBody) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// Ids only need to differ, but a plain counter shared by `--workers` threads is a data race.
    private static let counter = Atomic<Int>(0)
}
