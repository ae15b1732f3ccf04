import Glibc

/// What a connection's bytes travel over, between the socket and the protocol: plain TCP today, TLS next.
///
/// The protocol machines above it see only bytes; the event loop reads, writes and sends files through
/// a transport and never asks which one it is. A transport that cannot hand a file to the kernel (TLS
/// encrypts in user space) answers `sendFile` with nil, and the caller reads the file and writes it.
public protocol Transport: AnyObject {
    /// The socket underneath, for the poller (readiness is always about the socket).
    var socket: Socket { get }
    /// Reads up to `buffer.count` bytes; `.done(0)` means the peer closed its side.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int>
    /// Writes some of `bytes` (a partial write is normal); `more` says more data follows at once.
    func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int>
    /// Writes some of `first` and then of `second` (a head and a body) in one call where the transport can;
    /// the count covers `first` before `second`.
    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int>
    /// Writes some of the buffers `vectors` points at, in order, in one call where the transport can; the
    /// count covers them in order.
    func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int>
    /// Sends up to `count` bytes of `file` from `offset` without copying them through user space, or nil
    /// when this transport cannot (the caller then reads and writes).
    func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>?
    /// Holds partial segments until they are full or the sending side shuts down: for the last bytes before
    /// a close (a no-op where the transport cannot, or need not).
    func cork()
    /// Says "no more bytes from us" (a FIN for TCP), keeping the reading side open.
    func shutdownWrite()
    func close()
}

extension Transport {
    /// A transport without gathered writes writes the first piece; the caller sends the rest next.
    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        try write(first, more: true)
    }

    public func cork() {}

    /// The same for any number of buffers: the first one only (TLS encrypts each write into records anyway).
    public func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard let first = vectors.first else { return .done(0) }
        return try write(UnsafeRawBufferPointer(start: first.iov_base, count: first.iov_len), more: more || vectors.count > 1)
    }
}

/// Plain TCP: every call is the socket's own, and files go out with sendfile.
public final class TCPTransport: Transport {
    public let socket: Socket

    public init(_ socket: Socket) { self.socket = socket }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try socket.read(into: buffer)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        try socket.write(bytes, more: more)
    }

    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        try socket.write(first, second, more: more)
    }

    public func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int> {
        try socket.write(gathering: vectors, more: more)
    }

    public func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? {
        try socket.sendFile(file, offset: offset, count: count)
    }

    public func cork() { try? socket.setCork() } // only fewer segments are at stake

    public func shutdownWrite() { socket.shutdownWrite() }
    public func close() { socket.close() }
}
