import HTTPCore
import Sockets

/// `POST /files/{name}`: the body is streamed into a hidden temporary file next to the target as it
/// arrives, then renamed over the target in one step. A reader sees the old file or the whole new one,
/// never half of it; an upload that fails (the client leaves, the body is too large or malformed, the
/// disk is full) deletes its temporary file, so nothing partial is left behind.
public final class FileUpload: BodyConsumer {
    let directory: String
    let name: String
    private var file: FileDescriptor?
    private let temporaryPath: String
    private var written = 0
    private var failure: HTTPResponse?

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
        temporaryPath = "\(directory)/.\(name).upload-\(Processes.currentPID)-\(FileUpload.counter.add(1))"
        guard FileUpload.isSafeName(name) else {
            failure = .text(.badRequest, "400 Bad Request: '\(name)' is not a valid file name\n")
            return
        }
        do {
            file = try FileDescriptor.createNew(temporaryPath)
        } catch {
            failure = FileUpload.response(for: error)
        }
    }

    private static let counter = AtomicCounter()

    /// One path segment, not hidden, no separators or control characters.
    public static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.utf8.count <= 255
            && !name.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }
    }

    public func consume(_ bytes: [UInt8]) {
        guard failure == nil, let file else { return }
        do {
            try file.writeAll(bytes)
            written += bytes.count
        } catch {
            failure = FileUpload.response(for: error)
            discard()
        }
    }

    public func finish() -> HTTPResponse {
        if let failure {
            discard()
            return failure
        }
        guard let file else { return .text(.internalServerError, "500 Internal Server Error: the upload has no file\n") }
        self.file = nil
        do {
            // Data on disk before the name points at it: after a crash the file is old or whole, never short.
            try file.sync()
            try file.closeChecked()
            try Files.rename(temporaryPath, to: "\(directory)/\(name)")
        } catch {
            Files.remove(temporaryPath)
            return FileUpload.response(for: error)
        }
        var response = HTTPResponse.text(.created, "201 Created: \(written) bytes written to \(name)\n")
        response.headers.set("Location", "/files/\(name)")
        return response
    }

    public func abort() { discard() }

    private func discard() {
        file?.close()
        file = nil
        Files.remove(temporaryPath)
    }

    /// The status that explains a failed write: a full disk is 507, a permission problem 403.
    static func response(for error: SystemError) -> HTTPResponse {
        if error.isOutOfSpace {
            return .text(HTTPStatus(code: 507), "507 Insufficient Storage: the upload did not fit (\(error))\n")
        }
        if error.isPermissionDenied {
            return .text(.forbidden, "403 Forbidden: the server may not write there (\(error))\n")
        }
        return .text(.internalServerError, "500 Internal Server Error: the upload failed (\(error))\n")
    }
}
