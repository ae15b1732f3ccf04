/// What the static-file code asks about files, as a protocol: HTTPCore calls no kernel function itself.
/// A server passes `SystemFileSystem` (in Stages, over `Sockets.Files`: stat, realpath, access); a test may
/// pass a table of made-up files.
public protocol FileSystem: Sendable {
    /// What `path` is, following symlinks (stat(2)); nil when nothing is there.
    func status(_ path: String) -> FileStatus?
    /// The absolute path with every symlink, `.` and `..` resolved (realpath(3)); nil when it cannot be.
    func canonicalPath(_ path: String) -> String?
    /// Whether this process may read `path` (access(2) R_OK), and with `search`, enter it as a directory (X_OK).
    func isReadable(_ path: String, search: Bool) -> Bool
}

/// The part of stat(2) a web server uses: the kind, the size, and what the validators are made of.
public struct FileStatus: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case regular, directory, other }

    public var kind: Kind
    public var size: Int
    public var inode: UInt64
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int

    public init(kind: Kind, size: Int, inode: UInt64 = 0, modifiedSeconds: Int = 0, modifiedNanoseconds: Int = 0) {
        self.kind = kind
        self.size = size
        self.inode = inode
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }
}
