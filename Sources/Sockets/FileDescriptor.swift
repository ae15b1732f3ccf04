#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file, for streaming a response body with `Socket.sendFile`.
public struct FileDescriptor: Sendable, Hashable {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public static func openForReading(_ path: String) throws(SystemError) -> FileDescriptor {
        FileDescriptor(fd: try syscall("open(\(path))") { open(path, O_RDONLY | O_CLOEXEC) })
    }

    public func close() { _ = Glibc.close(fd) }
}

/// An open file shared by several users (an open-file cache, responses still being sent): it is closed
/// when the last one lets go. sendfile reads at an explicit offset, so sharing never moves a position.
public final class SharedFile: @unchecked Sendable {
    public let descriptor: FileDescriptor

    public init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { descriptor.close() }
}
