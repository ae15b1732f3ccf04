import HTTPCore
import Sockets
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The router stage's middleware: each a function around the next handler (see `chain`).
public enum Middlewares {
    // MARK: Access log

    /// Writes one line per request in Common Log Format, after the response is known:
    /// `127.0.0.1 - - [22/Nov/2026:05:04:17 +0000] "GET /index.html HTTP/1.1" 200 4130`
    public static func accessLog(_ log: AccessLog) -> Middleware {
        { routed, next in
            let response = next(routed)
            let request = routed.request
            let size = response.status.allowsBody && request.method != "HEAD" ? response.body.length.map(String.init) ?? "-" : "-"
            let user = response.status.code == 401 ? nil : basicAuthUser(request)
            log.write("\(request.remoteAddress ?? "-") - \(user ?? "-") [\(AccessLog.timestamp())] "
                      + "\"\(request.method) \(request.target) \(request.version)\" \(response.status.code) \(size)")
            return response
        }
    }

    /// The user name of an `Authorization: Basic` header, for the log's authuser field.
    static func basicAuthUser(_ request: HTTPRequest) -> String? {
        guard let header = request.headers["Authorization"], header.lowercased().hasPrefix("basic "),
              let decoded = Base64.decode(String(header.dropFirst(6)).trimmingASCIIWhitespace()),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let user = String(decoding: decoded[..<colon], as: UTF8.self)
        return user.isEmpty || user.contains(" ") ? nil : user
    }

    // MARK: CORS

    /// Lets pages from any origin read the responses (RFC: the Fetch standard's CORS protocol), and answers
    /// preflight requests (`OPTIONS` with `Access-Control-Request-Method`) itself with 204.
    public static func cors(allowOrigin: String = "*") -> Middleware {
        { routed, next in
            let request = routed.request
            guard request.headers["Origin"] != nil else { return next(routed) }
            if request.method == "OPTIONS", let method = request.headers["Access-Control-Request-Method"] {
                var preflight = HTTPResponse(status: .noContent)
                preflight.headers.set("Access-Control-Allow-Origin", allowOrigin)
                preflight.headers.set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
                preflight.headers.set("Access-Control-Allow-Headers", request.headers["Access-Control-Request-Headers"] ?? "Content-Type")
                preflight.headers.set("Access-Control-Max-Age", "600")
                _ = method
                return preflight
            }
            var response = next(routed)
            response.headers.set("Access-Control-Allow-Origin", allowOrigin)
            if allowOrigin != "*" { response.headers.add("Vary", "Origin") }
            return response
        }
    }

    // MARK: Basic auth

    /// Requires `Authorization: Basic base64(user:password)` (RFC 7617) for paths under `prefix`; answers
    /// 401 with a `WWW-Authenticate` challenge otherwise. The user name reaches the handler as `user`.
    public static func basicAuth(protecting prefix: String, user: String, password: String, realm: String = "httpkit") -> Middleware {
        let expected = Array("\(user):\(password)".utf8)
        return { routed, next in
            // Decide on the path the router will serve, not the raw one: `//admin`, `/%61dmin` and
            // `/x/../admin` all route to /admin. A path that does not normalise is the router's 400.
            guard let path = try? URLPath.normalize(routed.request.path).path else { return next(routed) }
            guard path == prefix || path.hasPrefix(prefix + "/") else { return next(routed) }
            let header = routed.request.headers["Authorization"] ?? ""
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "basic",
               let decoded = Base64.decode(String(parts[1]).trimmingASCIIWhitespace()), constantTimeEquals(decoded, expected) {
                var authorized = routed
                authorized.parameters["user"] = user
                return next(authorized)
            }
            let reason = header.isEmpty ? "this path needs a user name and password" : "wrong user name or password"
            var response = HTTPResponse.text(.unauthorized, "401 Unauthorized: \(reason) (HTTP Basic auth)\n")
            response.headers.set("WWW-Authenticate", "Basic realm=\"\(realm)\", charset=\"UTF-8\"")
            return response
        }
    }

    /// Compares without stopping at the first difference, so the time taken does not leak the password.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: gzip

    /// Compresses responses with gzip when the client accepts it (Accept-Encoding with q-values, `*`,
    /// `identity;q=0`), except tiny bodies and types that are compressed already. Every response whose
    /// encoding depends on the header says `Vary: Accept-Encoding`, so caches keep the variants apart.
    /// Bodies up to `maxInMemory` are compressed at once (and get a Content-Length); larger files are
    /// compressed as they are sent, in chunked encoding.
    public static func gzip(minimumSize: Int = 256, maxInMemory: Int = 1 << 20) -> Middleware {
        { routed, next in
            var response = next(routed)
            guard response.status.allowsBody, response.headers["Content-Encoding"] == nil,
                  !MIMEType.isAlreadyCompressed(response.headers["Content-Type"] ?? "") else { return response }
            if let length = response.body.length, length < minimumSize { return response }
            response.headers.add("Vary", "Accept-Encoding")
            switch ContentCoding.negotiate(routed.request.headers.values("Accept-Encoding")) {
            case .identity:
                return response
            case .notAcceptable:
                var refused = HTTPResponse.text(HTTPStatus(code: 406),
                    "406 Not Acceptable: the Accept-Encoding header refuses identity and gzip, the only codings available\n")
                refused.headers.add("Vary", "Accept-Encoding")
                return refused
            case .gzip:
                guard let body = compressed(response.body, maxInMemory: maxInMemory) else { return response }
                response.body = body
                response.headers.set("Content-Encoding", "gzip")
                return response
            }
        }
    }

    static func compressed(_ body: ResponseBody, maxInMemory: Int) -> ResponseBody? {
        switch body {
        case .empty:
            return nil
        case .bytes(let bytes):
            return (try? Gzip.compress(bytes)).map { .bytes($0) }
        case .file(let path, let offset, let length):
            if length <= maxInMemory, let bytes = FileContents.read(path, offset: offset, length: length) {
                return (try? Gzip.compress(bytes)).map { .bytes($0) }
            }
            return .stream(StreamedBody("gzip of \(path)") {
                try GzipFileStream(path: path, offset: offset, length: length)
            })
        case .stream(let inner):
            return .stream(StreamedBody("gzip of \(inner.description)") { try GzipStream(try inner.open()) })
        }
    }
}

/// Reading small files whole (for compressing them in memory).
enum FileContents {
    static func read(_ path: String, offset: Int, length: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, length - got, off_t(offset + got)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            got += n
        }
        return bytes
    }
}

/// A file compressed as it is read, 64 KB at a time.
final class GzipFileStream: BodyStream {
    private let fd: Int32
    private var position: Int
    private let end: Int
    private let encoder: GzipEncoder
    private var done = false

    init(path: String, offset: Int, length: Int) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open(\(path))", errno: errno) }
        position = offset
        end = offset + length
        encoder = try GzipEncoder()
    }

    func next() throws -> [UInt8]? {
        while !done {
            let want = min(64 * 1024, end - position)
            if want == 0 {
                done = true
                return try encoder.compress([], finish: true)
            }
            var buffer = [UInt8](repeating: 0, count: want)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SystemError("pread", errno: n < 0 ? errno : EIO) }
            position += n
            let piece = try encoder.compress(Array(buffer[0..<n]))
            if !piece.isEmpty { return piece }
        }
        return nil
    }

    func close() { _ = Glibc.close(fd) }
    deinit { close() }
}

/// Another body stream, compressed as it goes.
final class GzipStream: BodyStream {
    private let inner: any BodyStream
    private let encoder: GzipEncoder
    private var done = false

    init(_ inner: any BodyStream) throws {
        self.inner = inner
        encoder = try GzipEncoder()
    }

    func next() throws -> [UInt8]? {
        while !done {
            guard let piece = try inner.next() else {
                done = true
                return try encoder.compress([], finish: true)
            }
            let compressed = try encoder.compress(piece)
            if !compressed.isEmpty { return compressed }
        }
        return nil
    }

    func close() { inner.close() }
}

/// Where access-log lines go: stdout or a file, buffered and written in batches (a write per request
/// would cost a system call each), flushed at least every 100 ms and when the server stops.
public final class AccessLog: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var lastFlush = Processes.monotonicSeconds()
    private var mutex = pthread_mutex_t()
    private let immediate: Bool

    /// `destination` is `-` for stdout or a file path (appended to).
    public init(destination: String) throws(SystemError) {
        if destination == "-" {
            fd = 1
            immediate = isatty(1) != 0
        } else {
            let opened = open(destination, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard opened >= 0 else { throw SystemError("open(\(destination))", errno: errno) }
            fd = opened
            immediate = false
        }
        pthread_mutex_init(&mutex, nil)
    }

    public func write(_ line: String) {
        pthread_mutex_lock(&mutex)
        buffer.append(contentsOf: line.utf8)
        buffer.append(ASCII.lf)
        let due = immediate || buffer.count >= 16 * 1024
        pthread_mutex_unlock(&mutex)
        if due { flush() }
    }

    /// Writes buffered lines if the oldest has waited 100 ms (called from the event loop's tick).
    public func flushIfStale() {
        if Processes.monotonicSeconds() - lastFlush >= 0.1 { flush() }
    }

    public func flush() {
        pthread_mutex_lock(&mutex)
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        lastFlush = Processes.monotonicSeconds()
        pthread_mutex_unlock(&mutex)
        var sent = 0
        while sent < pending.count {
            let n = pending[sent...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// `22/Nov/2026:05:04:17 +0000`, the Common Log Format's time.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(parts.tm_mday))/\(months[Int(parts.tm_mon)])/\(parts.tm_year + 1900):"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
