import Glibc

/// A failed system call: its name and errno, printed as `accept: EMFILE (Too many open files)`.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(errnoName) (\(message))" }

    public var message: String { String(cString: strerror(errno)) }

    /// The symbolic name of the errno, such as `ECONNRESET`.
    public var errnoName: String { Self.names[errno] ?? "errno \(errno)" }

    /// The peer went away: not the server's fault, nothing to report beyond closing the connection.
    public var isPeerGone: Bool { [EPIPE, ECONNRESET, ENOTCONN, ESHUTDOWN, ETIMEDOUT].contains(errno) }

    /// The process or the system ran out of descriptors or memory for a new connection: a server should
    /// pause accepting for a moment rather than retry at once.
    public var isOutOfResources: Bool { [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(errno) }

    /// A signal interrupted the call (and the process is stopping, or it would have been retried).
    public var isInterrupted: Bool { errno == EINTR }

    /// accept found a connection already gone (ECONNABORTED), or nothing to accept after all (EAGAIN):
    /// try again.
    public var isAbortedConnection: Bool { errno == ECONNABORTED || errno == EAGAIN }

    /// The disk (or the quota, or the file size limit) is full: 507 for an upload.
    public var isOutOfSpace: Bool { [ENOSPC, EDQUOT, EFBIG].contains(errno) }

    /// The process may not write there.
    public var isPermissionDenied: Bool { [EACCES, EPERM, EROFS].contains(errno) }

    /// A blocking write or read gave up because its socket timeout (SO_SNDTIMEO/SO_RCVTIMEO) expired.
    public static func timedOut(_ call: String) -> SystemError { SystemError(call, errno: EAGAIN) }

    static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EDQUOT: "EDQUOT", EFBIG: "EFBIG", EROFS: "EROFS", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE",
        ENOSPC: "ENOSPC", EPIPE: "EPIPE", ENOTSOCK: "ENOTSOCK", EADDRINUSE: "EADDRINUSE",
        EADDRNOTAVAIL: "EADDRNOTAVAIL", ENETUNREACH: "ENETUNREACH", ECONNABORTED: "ECONNABORTED",
        ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS", ENOTCONN: "ENOTCONN", ESHUTDOWN: "ESHUTDOWN",
        ETIMEDOUT: "ETIMEDOUT", ECONNREFUSED: "ECONNREFUSED", EHOSTUNREACH: "EHOSTUNREACH",
        EAFNOSUPPORT: "EAFNOSUPPORT", EPROTONOSUPPORT: "EPROTONOSUPPORT", ECHILD: "ECHILD",
    ]
}

/// What a call on a nonblocking descriptor can answer besides data: wait and try again later.
public enum IOResult<Value: Sendable>: Sendable {
    case done(Value)
    case wouldBlock
}

/// Runs a system call that returns -1 and sets errno on failure, retrying when a signal interrupted it
/// (EINTR) — unless the process has been asked to stop, in which case the EINTR is thrown so the
/// caller's loop can end.
@inline(__always)
func syscall<Result: BinaryInteger>(_ name: String, _ body: () -> Result) throws(SystemError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR && !StopSignal.isRequested { continue }
        throw SystemError(name, errno: code)
    }
}

/// Like `syscall`, but EAGAIN/EWOULDBLOCK becomes `.wouldBlock` instead of an error.
@inline(__always)
func nonblockingSyscall<Result: BinaryInteger & Sendable>(_ name: String, _ body: () -> Result) throws(SystemError) -> IOResult<Result> {
    do {
        return .done(try syscall(name, body))
    } catch where error.errno == EAGAIN || error.errno == EWOULDBLOCK {
        return .wouldBlock
    }
}
