// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 8 · router — routes, middleware, gzip, uploads                                          │
// │                                                                                            │
// │ Changed since keepalive: the handler is no longer "serve a file". A Router maps (method,   │
// │ path pattern) to handlers — literal segments, `:name` parameters, a trailing `*` — with 404 │
// │ when no path matches and 405 + Allow when only the method is wrong. Middleware wraps the    │
// │ router like layers of an onion, in the order `RouterMiddleware.around` lists them: the      │
// │ access log sees the final status, CORS and gzip change the response on its way out, Basic   │
// │ auth guards /admin. POST /files/:name streams the body to disk as it arrives (FileUpload).  │
// │ Everything else falls through to the static files, gzipped when the client accepts it.     │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// The full server: built-in routes, middleware, static files, uploads, keep-alive, N workers.
public struct RouterStage: Sendable {
    public let configuration: ServerConfiguration
    let files: StaticFileHandler

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        var configuration = configuration
        configuration.root = root
        self.configuration = configuration
        self.files = StaticFileHandler(root: root, maxAge: configuration.cacheMaxAge)
    }

    /// The routing table, in the order routes are tried.
    func routes(cache: StaticFileCache? = nil, adding extraRoutes: (inout Router) -> Void = { _ in }) -> Router {
        var router = Router()
        extraRoutes(&router)
        // The Codecrafters course's routes answer exactly as that course expects (learners compare):
        // `text/plain` with no charset parameter.
        router.get("/echo/:text") { .plainText($0[parameter: "text"] ?? "") }
        router.get("/user-agent") { .plainText($0.request.headers["User-Agent"] ?? "") }
        router.get("/users/:id", Self.user)
        router.post("/api/echo", Self.echoJSON)
        router.get("/admin") { .text(.ok, "Welcome, \($0[parameter: "user"] ?? "?"). This page needs Basic auth.\n") }
        router.get("/chunked/:count", Self.chunkedLines)
        let directory = configuration.filesDirectory
        router.get("/files/:name") { Self.download($0[parameter: "name"] ?? "", from: directory) }
        router.post("/files/:name") { Self.upload($0, into: directory) }
        let files = self.files
        // The complete file; the conditional middleware turns it into 304/206/… after gzip chose the variant.
        if let cache {
            router.fallback = { cache.representation(for: $0.request) }
        } else {
            router.fallback = { files.representation(for: $0.request) }
        }
        return router
    }

    /// Who may see /admin and the paths --protect adds.
    var auth: BasicAuth {
        BasicAuth(protecting: configuration.protectedPaths, user: configuration.basicAuthUser,
                  password: configuration.basicAuthPassword)
    }

    /// The middleware, made once and shared by every loop and the upload path.
    func middleware(log: AccessLog?) -> RouterMiddleware {
        RouterMiddleware(accessLog: AccessLogging(log), auth: auth)
    }

    public func run() throws(SystemError) {
        try run(stageName: "router")
    }

    /// The router stage's server, which the websocket stage extends with its routes and endpoints.
    func run(stageName: String, adding extraRoutes: @escaping @Sendable (inout Router) -> Void = { _ in },
             webSockets: @escaping @Sendable () -> [String: any WebSocketEndpoint] = { [:] },
             adjust: (inout EventLoop.Options) -> Void = { _ in }) throws(SystemError) {
        let log = try configuration.accessLog.map { destination throws(SystemError) in try AccessLog(destination: destination) }
        let layers = middleware(log: log)
        let directory = configuration.filesDirectory
        // Uploads to /files/:name stream to disk as they arrive, so they are admitted on their head: Basic
        // auth decides before a byte is written, and the answer still goes out through the middleware.
        let stage = self, auth = layers.auth // the one BasicAuth the middleware asks too
        let uploads: BodyConsumerFactory = { head in
            guard head.method == .post, let directory, let name = Self.fileName(in: head.path) else { return nil }
            let consumer: any BodyConsumer = auth.refusal(for: head).map { DiscardedBody(answer: $0) }
                ?? FileUpload(directory: directory, name: name)
            return ResponseThroughMiddleware(consumer, request: head, layers: layers)
        }
        var options = EventLoop.Options(configuration, keepAlive: true)
        options.recordsRemoteAddress = log != nil
        if let log {
            options.onTick = { log.flushIfStale() }
            options.onRefusal = { response, address in log.record(nil, response, remoteAddress: address) }
        }
        // GET /metrics (--metrics): every loop counts for itself; the route sums them when asked.
        let registry = configuration.metricsPath.map { _ in MetricsRegistry() }
        options.metrics = registry
        let extraRoutes = MetricsRegistry.route(registry, at: configuration.metricsPath, before: extraRoutes)
        adjust(&options)
        let loopOptions = options, poller = configuration.poller
        let cachedBytes = StaticFileCache.memoryLimit(http2: options.http2, tls: configuration.tls != nil)
        if poller == .ioUring { try CompletionLoop.checkAvailable() } // before the startup line
        defer { log?.flush() }
        try Workers.run(stageName, configuration) { listener, wake throws(SystemError) -> any ServingLoop in
            // Each loop gets its own router with its own static-file cache (a loop is one thread: no lock).
            let cache = StaticFileCache(stage.files, maxCachedBytes: cachedBytes)
            let app = layers.around(stage.routes(cache: cache, adding: extraRoutes))
            if poller == .ioUring {
                // Lesson 06's completion loop: the same routes, middleware, uploads and metrics, and HTTP/2
                // for the http2 stage (`options.http2`); no WebSocket or TLS on that loop (the CLI refuses TLS).
                return try CompletionLoop(listener: listener, options: loopOptions, bodyConsumers: uploads,
                                          handler: { app.respond(to: RoutedRequest($0)) })
            }
            return EventLoop(listener: listener, poller: try makePoller(poller), options: loopOptions, wake: wake,
                             bodyConsumers: uploads, webSockets: webSockets(), handler: { app.respond(to: RoutedRequest($0)) })
        }
    }

    // MARK: - Handlers

    static let users = ["1": "Ada Lovelace", "2": "Alan Turing", "3": "Grace Hopper", "4": "Edsger Dijkstra"]

    /// `GET /users/:id` → `{"id": "1", "name": "Ada Lovelace"}`; ids not in the table get a generated name.
    static func user(_ routed: RoutedRequest) -> HTTPResponse {
        let id = routed[parameter: "id"] ?? ""
        let name = users[id] ?? "User \(id)"
        let json = "{\"id\": \(JSONValidator.quote(id)), \"name\": \(JSONValidator.quote(name))}\n"
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(Array(json.utf8)))
    }

    /// `POST /api/echo` → the JSON it was sent; 400 with the position and reason when it is not JSON.
    static func echoJSON(_ routed: RoutedRequest) -> HTTPResponse {
        let body = routed.request.body
        do {
            try JSONValidator.validate(body)
        } catch {
            return .text(.badRequest, "400 Bad Request: \(error)\n")
        }
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(body))
    }

    /// `GET /chunked/:count` → `count` lines produced one at a time: a body whose length is not known
    /// when the head goes out, so it is sent chunked (HTTP/1.1) or until close (HTTP/1.0).
    static func chunkedLines(_ routed: RoutedRequest) -> HTTPResponse {
        guard let count = Int(routed[parameter: "count"] ?? ""), (0...100_000).contains(count) else {
            return .text(.badRequest, "400 Bad Request: /chunked/N needs N between 0 and 100000\n")
        }
        let body = StreamedBody("\(count) lines") { LineStream(count: count) }
        return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .stream(body))
    }

    /// `GET /files/:name` → the file from --directory as application/octet-stream, 404 if absent.
    static func download(_ name: String, from directory: String?) -> HTTPResponse {
        guard let directory else {
            return .text(.notFound, "404 Not Found: start the router with --directory DIR to serve /files/\n")
        }
        guard FileUpload.isSafeName(name), let root = try? DocumentRoot(directory, fileSystem: SystemFileSystem()) else {
            return .text(.notFound, "404 Not Found: no file named '\(name)'\n")
        }
        switch root.resolve([name]) {
        case .file(let path, let size):
            return HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: .file(path: path, length: size))
        case .forbidden(let reason):
            return .text(.forbidden, "403 Forbidden: \(reason)\n")
        default:
            return .text(.notFound, "404 Not Found: no file named '\(name)'\n")
        }
    }

    /// `POST /files/:name` when the body was collected in memory (uploads normally stream through
    /// FileUpload; this is the same write for a body that is already here).
    static func upload(_ routed: RoutedRequest, into directory: String?) -> HTTPResponse {
        guard let directory else {
            return .text(.notFound, "404 Not Found: start the router with --directory DIR to accept uploads\n")
        }
        let upload = FileUpload(directory: directory, name: routed[parameter: "name"] ?? "")
        upload.consume(routed.request.body)
        return upload.finish()
    }

    /// The decoded `name` of a `/files/:name` path, or nil.
    static func fileName(in path: String) -> String? {
        guard let segments = try? URLPath.normalize(path).segments, segments.count == 2, segments[0] == "files" else { return nil }
        return segments[1]
    }
}

/// Lines produced one by one, for the chunked-encoding demonstration route.
final class LineStream: BodyStream {
    private let count: Int
    private var line = 0

    init(count: Int) { self.count = count }

    func next() throws -> [UInt8]? {
        guard line < count else { return nil }
        line += 1
        return Array("line \(line) of \(count)\n".utf8)
    }

    func close() {}
}

/// The body of a request already refused (a 401 upload): answered on its head, the body never read.
final class DiscardedBody: BodyConsumer {
    private let answer: HTTPResponse

    init(answer: HTTPResponse) { self.answer = answer }

    func consume(_ bytes: [UInt8]) {}
    func finish() -> HTTPResponse { answer }
    func abort() {}
    var answersBeforeBody: Bool { true }
}

/// The router stage's middleware, each layer one type in its own file under `Middleware/`.
struct RouterMiddleware: Sendable {
    let accessLog: AccessLogging
    let cors = CORS()
    let conditional = ConditionalRequests()
    let gzip = GzipEncoding(everySizeUnder: ["/echo/"])
    let auth: BasicAuth

    /// The layers around `inner`, outermost first: a request passes through them top to bottom on its way
    /// to the router, and the response comes back out bottom to top.
    func around(_ inner: some Responder) -> some Responder {
        Layer(accessLog,   around:  // sees the final status and size
        Layer(cors,        around:  // adds Access-Control-Allow-Origin
        Layer(conditional, around:  // 304, 412, 206, 416 on the final variant
        Layer(gzip,        around:  // compresses what the router returns
        Layer(auth,        around:  // guards /admin (and --protect paths)
              inner)))))
    }
}

/// A body consumer whose final response passes through the middleware, like any other response.
final class ResponseThroughMiddleware: BodyConsumer {
    private let inner: any BodyConsumer
    private let request: HTTPRequest
    private let layers: RouterMiddleware

    init(_ inner: any BodyConsumer, request: HTTPRequest, layers: RouterMiddleware) {
        self.inner = inner
        self.request = request
        self.layers = layers
    }

    func consume(_ bytes: [UInt8]) { inner.consume(bytes) }
    func abort() { inner.abort() }
    var answersBeforeBody: Bool { inner.answersBeforeBody }

    func finish() -> HTTPResponse {
        let response = inner.finish()
        return layers.around(Answering { _ in response }).respond(to: RoutedRequest(request))
    }
}
