import Glibc

/// A directory whose files may be served, and the only way to turn a URL path into one of them.
///
/// Resolution is two checks deep: the path is normalised lexically (`URLPath`), and then the file found
/// is canonicalised with `realpath`, so a symlink inside the root that points outside it is refused too.
public struct DocumentRoot: Sendable {
    /// The root's canonical path, without a trailing slash.
    public let path: String

    public enum Resolution: Sendable, Hashable {
        case file(path: String, size: Int)
        case directory(path: String)
        case notFound
        case forbidden(reason: String)
    }

    public struct Missing: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "document root '\(path)' is not a readable directory" }
    }

    public init(_ path: String) throws(Missing) {
        guard let canonical = DocumentRoot.realPath(path), DocumentRoot.isDirectory(canonical),
              access(canonical, R_OK | X_OK) == 0 else {
            throw Missing(path: path)
        }
        self.path = canonical == "/" ? "" : canonical
    }

    /// What `rawPath` (percent-encoded, as in the request target) names under this root.
    public func resolve(_ rawPath: String) throws(RequestError) -> Resolution {
        let normalized = try URLPath.normalize(rawPath)
        return resolve(normalized.segments)
    }

    public func resolve(_ segments: [String]) -> Resolution {
        let candidate = path + "/" + segments.joined(separator: "/")
        var info = stat()
        guard stat(candidate, &info) == 0 else { return .notFound }
        guard let canonical = DocumentRoot.realPath(candidate),
              canonical == path || canonical.hasPrefix(path + "/") || (path.isEmpty && canonical.hasPrefix("/")) else {
            return .forbidden(reason: "the path leads outside the document root (through a symlink)")
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            return .directory(path: canonical)
        case S_IFREG:
            guard access(canonical, R_OK) == 0 else { return .forbidden(reason: "the file is not readable") }
            return .file(path: canonical, size: Int(info.st_size))
        default:
            return .forbidden(reason: "not a regular file")
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// What makes a file's validators: its size, inode and modification time (stat).
    public struct FileIdentity: Sendable, Hashable {
        public var size: Int
        public var inode: UInt64
        public var modifiedSeconds: Int
        public var modifiedNanoseconds: Int
    }

    /// A regular file's identity, or nil.
    public static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(size: Int(info.st_size), inode: UInt64(info.st_ino),
                            modifiedSeconds: Int(info.st_mtim.tv_sec), modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }

    /// A regular, readable file's size, or nil.
    public static func regularFileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(path, R_OK) == 0 else { return nil }
        return Int(info.st_size)
    }
}
