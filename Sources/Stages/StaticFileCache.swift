import HTTPCore
import Sockets

/// Remembers what `StaticFileHandler` answered for a path, so a hot file costs no path resolution.
///
/// Resolving a path safely is several system calls (stat, realpath's lstat per component, access,
/// open); for a 13-byte file they cost more than sending it. Like nginx's open_file_cache, a cached
/// answer is trusted for `validity` seconds and then resolved again, so a changed or deleted file is
/// noticed within a second. Files up to `maxCachedBytes` are kept in memory: their head and body then
/// leave in a single write. One cache per event loop, used only on that loop's thread.
final class StaticFileCache: @unchecked Sendable {
    private struct Entry {
        let response: HTTPResponse
        let validatedAt: Double
    }

    private let files: StaticFileHandler
    private let validity: Double
    private let maxCachedBytes: Int
    private let maxEntries: Int
    private var entries: [String: Entry] = [:]

    init(_ files: StaticFileHandler, validity: Double = 1, maxCachedBytes: Int = 64 * 1024, maxEntries: Int = 4096) {
        self.files = files
        self.validity = validity
        self.maxCachedBytes = maxCachedBytes
        self.maxEntries = maxEntries
    }

    /// The answer to `request`: the cached representation with the request's conditions and range applied.
    func respond(to request: HTTPRequest) -> HTTPResponse {
        ConditionalResponse.apply(to: representation(for: request), for: request)
    }

    /// The complete 200 (or 404) for the path, from the cache while it is fresh.
    func representation(for request: HTTPRequest) -> HTTPResponse {
        guard request.method.isGetOrHead else { return files.representation(for: request) }
        let key = request.path
        let now = Processes.monotonicSeconds()
        if let entry = entries[key], now - entry.validatedAt < validity {
            return entry.response
        }
        var response = files.representation(for: request)
        guard response.status.code == 200 || response.status.code == 404 else { return response }
        if case .file(let path, 0, let length) = response.body, length <= maxCachedBytes,
           let bytes = try? FileContents.read(path, offset: 0, length: length) {
            response.body = .bytes(bytes)
        }
        if entries.count >= maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[key] = Entry(response: response, validatedAt: now)
        return response
    }
}
