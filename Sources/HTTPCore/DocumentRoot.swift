/// A directory whose files may be served, and the only way to turn a URL path into one of them.
///
/// Resolution is two checks deep: the path is normalised lexically (`URLPath`), and then the file found
/// is canonicalised with `realpath`, so a symlink inside the root that points outside it is refused too.
/// The file system is asked through `fileSystem` (stat, realpath, access): HTTPCore calls no kernel function.
public struct DocumentRoot: Sendable {
    /// The root's canonical path, without a trailing slash.
    public let path: String
    public let fileSystem: any FileSystem

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

    public init(_ path: String, fileSystem: any FileSystem) throws(Missing) {
        guard let canonical = fileSystem.canonicalPath(path), fileSystem.status(canonical)?.kind == .directory,
              fileSystem.isReadable(canonical, search: true) else {
            throw Missing(path: path)
        }
        self.path = canonical == "/" ? "" : canonical
        self.fileSystem = fileSystem
    }

    /// What `rawPath` (percent-encoded, as in the request target) names under this root.
    public func resolve(_ rawPath: String) throws(RequestError) -> Resolution {
        let normalized = try URLPath.normalize(rawPath)
        return resolve(normalized.segments)
    }

    public func resolve(_ segments: [String]) -> Resolution {
        let candidate = path + "/" + segments.joined(separator: "/")
        guard let status = fileSystem.status(candidate) else { return .notFound }
        guard let canonical = fileSystem.canonicalPath(candidate),
              canonical == path || canonical.hasPrefix(path + "/") || (path.isEmpty && canonical.hasPrefix("/")) else {
            return .forbidden(reason: "the path leads outside the document root (through a symlink)")
        }
        switch status.kind {
        case .directory:
            return .directory(path: canonical)
        case .regular:
            guard fileSystem.isReadable(canonical, search: false) else { return .forbidden(reason: "the file is not readable") }
            return .file(path: canonical, size: status.size)
        case .other:
            return .forbidden(reason: "not a regular file")
        }
    }

    /// What makes a file's validators: its size, inode and modification time (stat).
    public typealias FileIdentity = FileStatus

    /// A regular file's identity, or nil.
    public func identity(_ path: String) -> FileStatus? {
        guard let status = fileSystem.status(path), status.kind == .regular else { return nil }
        return status
    }

    /// A regular, readable file's size, or nil.
    public func regularFileSize(_ path: String) -> Int? {
        guard let status = fileSystem.status(path), status.kind == .regular,
              fileSystem.isReadable(path, search: false) else { return nil }
        return status.size
    }
}
