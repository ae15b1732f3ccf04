import HTTPCore
import Sockets

/// The real file system for HTTPCore's static-file code: its questions answered by `Sockets.Files`
/// (stat, realpath, access), the one module that calls the kernel.
public struct SystemFileSystem: FileSystem {
    public init() {}

    public func status(_ path: String) -> FileStatus? {
        guard let status = Files.status(path) else { return nil }
        let kind: FileStatus.Kind = status.isRegularFile ? .regular : status.isDirectory ? .directory : .other
        return FileStatus(kind: kind, size: status.size, inode: status.inode,
                          modifiedSeconds: status.modifiedSeconds, modifiedNanoseconds: status.modifiedNanoseconds)
    }

    public func canonicalPath(_ path: String) -> String? { Files.canonicalPath(path) }

    public func isReadable(_ path: String, search: Bool) -> Bool { Files.isReadable(path, search: search) }
}
