import HTTPCore
import Sockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `POST /files/{name}`: the body is streamed into a hidden temporary file next to the target as it
/// arrives, then renamed over the target in one step. A reader sees the old file or the whole new one,
/// never half of it; an upload that fails (the client leaves, the body is too large or malformed, the
/// disk is full) deletes its temporary file, so nothing partial is left behind.
public final class FileUpload: BodyConsumer {
    let directory: String
    let name: String
    private var fd: Int32 = -1
    private let temporaryPath: String
    private var written = 0
    private var failure: HTTPResponse?

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
        temporaryPath = "\(directory)/.\(name).upload-\(getpid())-\(FileUpload.counter.add(1))"
        guard FileUpload.isSafeName(name) else {
            failure = .text(.badRequest, "400 Bad Request: '\(name)' is not a valid file name\n")
            return
        }
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { failure = FileUpload.response(for: SystemError("open", errno: errno)) }
    }

    private static let counter = AtomicCounter()

    /// One path segment, not hidden, no separators or control characters.
    public static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.utf8.count <= 255
            && !name.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }
    }

    public func consume(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                failure = FileUpload.response(for: SystemError("write", errno: n < 0 ? errno : ENOSPC))
                discard()
                return
            }
            sent += n
        }
        written += bytes.count
    }

    public func finish() -> HTTPResponse {
        if let failure {
            discard()
            return failure
        }
        // Data on disk before the name points at it: after a crash the file is old or whole, never short.
        if fsync(fd) != 0 || close(fd) != 0 {
            let error = SystemError("fsync", errno: errno)
            fd = -1
            discard()
            return FileUpload.response(for: error)
        }
        fd = -1
        guard rename(temporaryPath, "\(directory)/\(name)") == 0 else {
            let error = SystemError("rename", errno: errno)
            discard()
            return FileUpload.response(for: error)
        }
        var response = HTTPResponse.text(.created, "201 Created: \(written) bytes written to \(name)\n")
        response.headers.set("Location", "/files/\(name)")
        return response
    }

    public func abort() { discard() }

    private func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
    }

    /// The status that explains a failed write: a full disk is 507, a permission problem 403.
    static func response(for error: SystemError) -> HTTPResponse {
        switch error.errno {
        case ENOSPC, EDQUOT, EFBIG:
            return .text(HTTPStatus(code: 507), "507 Insufficient Storage: the upload did not fit (\(error))\n")
        case EACCES, EPERM, EROFS:
            return .text(.forbidden, "403 Forbidden: the server may not write there (\(error))\n")
        default:
            return .text(.internalServerError, "500 Internal Server Error: the upload failed (\(error))\n")
        }
    }
}
