import Glibc
import CSystem

/// A socket descriptor and the calls made on it. A value type holding only the descriptor: whoever
/// accepted or created it closes it, exactly once.
public struct Socket: Sendable, Hashable {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    // MARK: - Listening

    /// A TCP socket bound to `host:port` and listening. Port 0 lets the kernel pick a free port
    /// (read it back with `localAddress`).
    public static func listen(host: String, port: UInt16, backlog: Int32 = 1024,
                              reusePort: Bool = false) throws(SystemError) -> Socket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let info = list else {
            throw SystemError("getaddrinfo(\(host))", errno: status == EAI_SYSTEM ? errno : EADDRNOTAVAIL)
        }
        defer { freeaddrinfo(list) }

        let fd = try syscall("socket") { socket(info.pointee.ai_family, info.pointee.ai_socktype, 0) }
        let listener = Socket(fd: fd)
        do {
            try listener.setOption(SOL_SOCKET, SO_REUSEADDR, 1, name: "setsockopt(SO_REUSEADDR)")
            if reusePort { try listener.setOption(SOL_SOCKET, SO_REUSEPORT, 1, name: "setsockopt(SO_REUSEPORT)") }
            _ = try syscall("bind") { bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) }
            _ = try syscall("listen") { Glibc.listen(fd, backlog) }
        } catch {
            listener.close()
            throw error
        }
        return listener
    }

    /// Takes the next pending connection already in nonblocking mode (accept4 with SOCK_NONBLOCK: one
    /// system call instead of three). nil when none is pending.
    public func acceptNonBlocking() throws(SystemError) -> Socket? {
        switch try nonblockingSyscall("accept4", { httpkit_accept_nonblocking(fd) }) {
        case .done(let connection): return Socket(fd: connection)
        case .wouldBlock: return nil
        }
    }

    /// Waits for the next connection. On a nonblocking listener, nil means none is pending.
    public func accept() throws(SystemError) -> Socket? {
        let result = try nonblockingSyscall("accept") {
            Glibc.accept(fd, nil, nil)
        }
        switch result {
        case .done(let connection): return Socket(fd: connection)
        case .wouldBlock: return nil
        }
    }

    /// The address this socket is bound to, as (host, port).
    public func localAddress() throws(SystemError) -> (host: String, port: UInt16) {
        try address(peer: false)
    }

    /// The address of the other end of a connection.
    public func remoteAddress() throws(SystemError) -> (host: String, port: UInt16) {
        try address(peer: true)
    }

    private func address(peer: Bool) throws(SystemError) -> (host: String, port: UInt16) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                peer ? getpeername(fd, address, &length) : getsockname(fd, address, &length)
            }
        }
        guard named == 0 else { throw SystemError(peer ? "getpeername" : "getsockname", errno: errno) }
        var hostBuffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var portBuffer = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getnameinfo(address, length, &hostBuffer, socklen_t(hostBuffer.count),
                            &portBuffer, socklen_t(portBuffer.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { throw SystemError("getnameinfo", errno: EINVAL) }
        let host = String(decoding: hostBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let port = String(decoding: portBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (host, UInt16(port) ?? 0)
    }

    // MARK: - Connecting (for clients: the REPL, bench, tests)

    /// A TCP connection to `host:port`, blocking until it is established.
    public static func connect(host: String, port: UInt16) throws(SystemError) -> Socket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let info = list else {
            throw SystemError("getaddrinfo(\(host))", errno: status == EAI_SYSTEM ? errno : EADDRNOTAVAIL)
        }
        defer { freeaddrinfo(list) }
        let fd = try syscall("socket") { socket(info.pointee.ai_family, info.pointee.ai_socktype, 0) }
        do {
            _ = try syscall("connect") { Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return Socket(fd: fd)
    }

    // MARK: - Reading and writing

    /// Reads up to `buffer.count` bytes. `.done(0)` means the peer closed its side.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try nonblockingSyscall("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Reads what is available (at most `maxBytes`); an empty array means the peer closed its side.
    /// On a nonblocking socket with nothing to read, nil.
    public func read(maxBytes: Int = 64 * 1024) throws(SystemError) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        let result = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try read(into: buffer) }
        }.get()
        switch result {
        case .done(let count):
            bytes.removeSubrange(count...)
            return bytes
        case .wouldBlock:
            return nil
        }
    }

    /// Writes some of `bytes`; returns how many went out (possibly fewer than asked: a partial write).
    /// With `more`, tells the kernel more data follows at once (MSG_MORE), so a response head and the
    /// file sent after it share packets instead of the head leaving alone (nginx's tcp_nopush).
    public func write(_ bytes: UnsafeRawBufferPointer, more: Bool = false) throws(SystemError) -> IOResult<Int> {
        guard bytes.count > 0 else { return .done(0) }
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        return try nonblockingSyscall("write") { send(fd, bytes.baseAddress, bytes.count, flags) }
    }

    /// Writes some of `first` then `second` in one system call (sendmsg with two iovecs, as writev): a
    /// response head and a body held elsewhere leave together without being copied into one buffer first.
    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, more: Bool = false) throws(SystemError) -> IOResult<Int> {
        var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count))
        return try withUnsafeBytes(of: &vectors) { raw throws(SystemError) in
            try write(gathering: UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: iovec.self), count: 2), more: more)
        }
    }

    /// Writes some of the buffers `vectors` points at, in order, in one system call (sendmsg with that many
    /// iovecs): HTTP/2's DATA frame headers and the pieces of a body held in memory between them leave
    /// together, the body's octets never copied into a frame buffer first.
    public func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool = false) throws(SystemError) -> IOResult<Int> {
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        var message = msghdr()
        message.msg_iov = UnsafeMutablePointer(mutating: vectors.baseAddress)
        message.msg_iovlen = vectors.count
        return try nonblockingSyscall("sendmsg") { sendmsg(fd, &message, flags) }
    }

    /// Writes every byte, looping over partial writes. For blocking sockets.
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        var sent = 0
        while sent < bytes.count {
            let result = try bytes.withUnsafeBytes { all in
                Result { () throws(SystemError) in try write(UnsafeRawBufferPointer(rebasing: all[sent...])) }
            }.get()
            guard case .done(let count) = result else { throw SystemError("write", errno: EAGAIN) }
            sent += count
        }
    }

    /// Sends up to `count` bytes of `file` starting at `offset` straight from the page cache (no copy
    /// through user space). Returns the number of bytes sent.
    public func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int> {
        var position = off_t(offset)
        return try nonblockingSyscall("sendfile") { sendfile(fd, file.fd, &position, count) }
    }

    // MARK: - Options

    public func setNonBlocking() throws(SystemError) {
        let flags = try syscall("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try syscall("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// TCP_DEFER_ACCEPT on a listening socket: the kernel completes the handshake but hands a connection to
    /// `accept` only once its first bytes have arrived, or after about `seconds` if none come (then as usual).
    /// HTTP's client speaks first, so the server is woken once per connection, with the request already there.
    public func setDeferAccept(seconds: Int32) throws(SystemError) {
        try setOption(Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, seconds, name: "setsockopt(TCP_DEFER_ACCEPT)")
    }

    /// Turns off Nagle's algorithm, so a small response is not held back waiting for an ACK.
    public func setNoDelay() throws(SystemError) {
        try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1, name: "setsockopt(TCP_NODELAY)")
    }

    /// TCP_CORK (tcp(7)): partial segments wait until they are full or the writing side shuts down. For a response
    /// that ends the connection, the FIN then leaves in the last data segment, and the seams between
    /// sendfile's rounds (64 KB each) do not leave a small segment each (nginx's `tcp_nopush`).
    public func setCork() throws(SystemError) {
        try setOption(Int32(IPPROTO_TCP), TCP_CORK, 1, name: "setsockopt(TCP_CORK)")
    }

    /// Makes a blocking read give up with EAGAIN after `seconds`: an iterative server's defence against
    /// a client that connects and says nothing.
    public func setReceiveTimeout(seconds: Double) throws(SystemError) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        _ = try syscall("setsockopt(SO_RCVTIMEO)") {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    public func setSendTimeout(seconds: Double) throws(SystemError) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        _ = try syscall("setsockopt(SO_SNDTIMEO)") {
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    func setOption(_ level: Int32, _ option: Int32, _ value: Int32, name: String) throws(SystemError) {
        var value = value
        _ = try syscall(name) { setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Half-closes: no more writes from us; the peer reads EOF once it has everything we sent.
    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the descriptor. Errors are ignored: after close() the descriptor is gone either way, and
    /// retrying on EINTR could close a descriptor another thread just received.
    public func close() {
        _ = Glibc.close(fd)
    }
}

extension Socket {
    /// Starts a TCP connection without waiting for it: the socket becomes writable once it is established
    /// (check `pendingError` then). For load generators that open many connections at once.
    public static func connectNonBlocking(host: String, port: UInt16) throws(SystemError) -> Socket {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw SystemError("inet_pton(\(host))", errno: EINVAL)
        }
        // In C: <liburing.h> (module CURing) brings <sys/socket.h> into a second module, and Swift then finds
        // SOCK_NONBLOCK and SOCK_CLOEXEC in neither.
        let fd = try syscall("socket") { httpkit_socket_nonblocking(AF_INET) }
        let connection = Socket(fd: fd)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 && errno != EINPROGRESS {
            let code = errno
            connection.close()
            throw SystemError("connect", errno: code)
        }
        return connection
    }

    /// The error a nonblocking connect ended with (SO_ERROR), or 0.
    public var pendingError: Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }
}
