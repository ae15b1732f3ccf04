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
    /// The most file bytes held in memory at once; past it the cache starts again empty.
    private let maxMemory: Int
    private var entries: [String: Entry] = [:]
    private var bytesInMemory = 0
    /// The last path found and its entry, asked before the dictionary: a client asking for the same path
    /// again (a poller, a reload, a benchmark) sends the same octets, which the parser hands out as the same
    /// String (`RepeatedStrings`), so the comparison is of two words; the dictionary hashes the whole path
    /// with SipHash first (~340 instructions for `/hello.txt`, callgrind). Another path costs one comparison.
    /// Kept as separate fields, not an `Entry?`: binding one copied the whole entry before its response.
    private var lastKey = ""
    private var lastValidatedAt = -Double.infinity
    private var lastResponse: HTTPResponse?

    /// Files up to `maxCachedBytes` are kept in memory (see `memoryLimit`); larger files stay on disk (sent
    /// with sendfile, or read as they go under TLS), so memory stays at most `maxMemory` a loop.
    init(_ files: StaticFileHandler, validity: Double = 1, maxCachedBytes: Int = 256 * 1024, maxEntries: Int = 4096,
         maxMemory: Int = 64 << 20) {
        self.files = files
        self.validity = validity
        self.maxCachedBytes = maxCachedBytes
        self.maxEntries = maxEntries
        self.maxMemory = maxMemory
    }

    /// The largest file worth keeping in memory, by how a larger one would leave (docs/performance.md §9):
    /// - HTTP/1.1, from the readiness loop or io_uring's completion loop (which writes a file answer itself,
    ///   §19): after its head, in one sendfile, which hands the kernel page
    ///   references instead of copying the bytes into the socket. For 100 KB that cost less than a write from
    ///   memory on the machine of §9 (`Connection: close`, c100: 34-39 us of CPU a request against 43-72); a
    ///   small file is still cheaper in memory, its head and body in one write instead of a write and a
    ///   sendfile. 64 KB is a value chosen between the two, not a measured crossing.
    /// - HTTP/2: as 16 KB DATA frames, each a frame header and then its payload. From memory the payloads are
    ///   slices sent beside their headers in one gathered write; from disk each frame is a write and a
    ///   sendfile (100 KB at -c10 -m10: 40-45 us against 76-84). So up to 256 KB.
    /// - TLS: no sendfile at all (the bytes are encrypted in user space), so a file would be read and then
    ///   copied once more. Up to 256 KB too.
    static func memoryLimit(http2: Bool, tls: Bool) -> Int {
        http2 || tls ? 256 * 1024 : 64 * 1024
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
        if key == lastKey, now - lastValidatedAt < validity, let response = lastResponse {
            return response
        }
        if let entry = entries[key], now - entry.validatedAt < validity {
            (lastKey, lastValidatedAt, lastResponse) = (key, entry.validatedAt, entry.response)
            return entry.response
        }
        lastResponse = nil // about to change: not trusted until found again
        var response = files.representation(for: request)
        guard response.status.code == 200 || response.status.code == 404 else { return response }
        if case .file(let path, 0, let length) = response.body, length <= maxCachedBytes,
           let bytes = try? FileContents.read(path, offset: 0, length: length) {
            response.body = .bytes(bytes)
        }
        response.headers.prepareWire() // its field lines are serialized once, not on every hit
        let size = response.body.inMemoryCount
        if entries.count >= maxEntries || bytesInMemory + size > maxMemory {
            entries.removeAll(keepingCapacity: true)
            bytesInMemory = 0
        }
        if let replaced = entries.updateValue(Entry(response: response, validatedAt: now), forKey: key) {
            bytesInMemory -= replaced.response.body.inMemoryCount
        }
        bytesInMemory += size
        return response
    }
}

private extension ResponseBody {
    /// Bytes this body holds in memory (a file on disk holds none).
    var inMemoryCount: Int {
        if case .bytes(let bytes) = self { return bytes.count }
        return 0
    }
}
