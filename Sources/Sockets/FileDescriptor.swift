import Glibc

/// An open file: for sending a response body, reading part of a file, or writing an upload.
public struct FileDescriptor: Sendable, Hashable {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public static func openForReading(_ path: String) throws(SystemError) -> FileDescriptor {
        FileDescriptor(fd: try syscall("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) })
    }

    /// Creates `path`, failing if it exists (O_EXCL: two uploads never share a temporary file).
    public static func createNew(_ path: String, mode: mode_t = 0o644) throws(SystemError) -> FileDescriptor {
        FileDescriptor(fd: try syscall("open(\(path))") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) })
    }

    /// Opens `path` for appending, creating it if needed (a log file).
    public static func openForAppending(_ path: String, mode: mode_t = 0o644) throws(SystemError) -> FileDescriptor {
        FileDescriptor(fd: try syscall("open(\(path))") { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode) })
    }

    public static let standardOutput = FileDescriptor(fd: 1)
    public static let standardError = FileDescriptor(fd: 2)

    /// Reads up to `buffer.count` bytes at `offset` without moving a file position (so several users may
    /// share the descriptor). Returns the count read; 0 at the end of the file.
    public func pread(into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws(SystemError) -> Int {
        try syscall("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Exactly `length` bytes from `offset`, or an error (EIO when the file is shorter than that).
    public func pread(length: Int, offset: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = try bytes.withUnsafeMutableBytes { all in
                Result { () throws(SystemError) in
                    try pread(into: UnsafeMutableRawBufferPointer(rebasing: all[got...]), offset: offset + got)
                }
            }.get()
            if n == 0 { throw SystemError("pread", errno: EIO) } // the file shrank under us
            got += n
        }
        return bytes
    }

    /// Writes every byte, looping over partial writes.
    public func writeAll(_ bytes: some Collection<UInt8>) throws(SystemError) {
        let contiguous = Array(bytes)
        var sent = 0
        while sent < contiguous.count {
            let n = try contiguous.withUnsafeBytes { all in
                Result { () throws(SystemError) in
                    try syscall("write") { Glibc.write(fd, all.baseAddress! + sent, all.count - sent) }
                }
            }.get()
            if n == 0 { throw SystemError("write", errno: ENOSPC) }
            sent += n
        }
    }

    /// Waits until the written data is on the disk.
    public func sync() throws(SystemError) { _ = try syscall("fsync") { fsync(fd) } }

    /// Closes the descriptor, reporting an error (a delayed write failure shows up here on some filesystems).
    public func closeChecked() throws(SystemError) { _ = try syscall("close") { Glibc.close(fd) } }

    public func close() { _ = Glibc.close(fd) }

    /// Whether the descriptor is a terminal (colour, line buffering).
    public var isTerminal: Bool { isatty(fd) != 0 }
}

/// An open file shared by several users (an open-file cache, responses still being sent): it is closed
/// when the last one lets go. sendfile reads at an explicit offset, so sharing never moves a position.
public final class SharedFile: @unchecked Sendable {
    public let descriptor: FileDescriptor

    public init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { descriptor.close() }
}

/// Operations on paths.
public enum Files {
    /// Replaces `destination` with `source` in one step: a reader sees the old file or the new one.
    public static func rename(_ source: String, to destination: String) throws(SystemError) {
        _ = try syscall("rename") { Glibc.rename(source, destination) }
    }

    public static func remove(_ path: String) { _ = unlink(path) }

    /// stat(2), following symlinks: nil when nothing is there (or it cannot be seen).
    public static func status(_ path: String) -> Status? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let type = info.st_mode & S_IFMT
        return Status(isRegularFile: type == S_IFREG, isDirectory: type == S_IFDIR, size: Int(info.st_size),
                      inode: UInt64(info.st_ino), modifiedSeconds: Int(info.st_mtim.tv_sec),
                      modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }

    public struct Status: Sendable, Hashable {
        public var isRegularFile: Bool
        public var isDirectory: Bool
        public var size: Int
        public var inode: UInt64
        public var modifiedSeconds: Int
        public var modifiedNanoseconds: Int
    }

    /// realpath(3): the absolute path with symlinks, `.` and `..` resolved; nil when it cannot be.
    public static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// access(2): readable by this process, and with `search`, a directory it may enter.
    public static func isReadable(_ path: String, search: Bool = false) -> Bool {
        access(path, R_OK | (search ? X_OK : 0)) == 0
    }
}

/// A pipe: bytes written at one end come out of the other (a signal handler wakes a loop with one).
public struct Pipe: Sendable {
    public let readEnd: FileDescriptor
    public let writeEnd: FileDescriptor

    public init() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        _ = try syscall("pipe") { pipe(&fds) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } // not inherited by a forked child's exec
        readEnd = FileDescriptor(fd: fds[0])
        writeEnd = FileDescriptor(fd: fds[1])
    }

    public func setWriteEndNonBlocking() throws(SystemError) {
        let flags = try syscall("fcntl(F_GETFL)") { fcntl(writeEnd.fd, F_GETFL) }
        _ = try syscall("fcntl(F_SETFL)") { fcntl(writeEnd.fd, F_SETFL, flags | O_NONBLOCK) }
    }
}
