import ArgumentParser
import HTTPCore
import Sockets
import Stages
import Glibc

/// `httpkit serve --stage NAME`: any milestone by name.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a milestone server by name.",
        discussion: """
        Examples:
          httpkit serve --stage hello
          httpkit serve --stage static --port 0 --root ./www
        """
    )

    @Option(help: ArgumentHelp("The milestone to run: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "name"))
    var stage: StageName

    @OptionGroup var server: ServerOptions
    @OptionGroup(title: "threads stage") var threads: ThreadOptions
    @OptionGroup(title: "eventloop, keepalive and router stages") var eventLoop: PollerOptions
    @OptionGroup(title: "keepalive and router stages") var keepAlive: KeepAliveOptions
    @OptionGroup(title: "router stage") var router: RouterOptions
    @OptionGroup(title: "websocket stage") var webSocket: WebSocketOptions
    @OptionGroup(title: "TLS (keepalive, router, websocket and http2 stages)") var tls: TLSOptions
    @OptionGroup(title: "http2 stage") var http2: HTTP2Options
    @OptionGroup(title: "proxy stage") var proxy: ProxyOptions
    @OptionGroup(title: "router, websocket, http2 and proxy stages") var metrics: MetricsOptions

    func validate() throws {
        if http2.http2Only && stage != .http2 {
            throw ValidationError("--http2-only: the \(stage.rawValue) stage speaks HTTP/1.1; only the http2 stage can serve HTTP/2 alone")
        }
    }

    func run() throws {
        try StageRunner.run(stage, server, threads: threads, poller: eventLoop, keepAlive: keepAlive, router: router,
                            webSocket: webSocket, tls: tls, http2: http2, proxy: proxy, metrics: metrics)
    }
}

struct HTTP2Options: ParsableArguments {
    @Flag(help: "Speak only HTTP/2 on the port: prior knowledge on plain TCP (an HTTP/1.1 request gets GOAWAY PROTOCOL_ERROR), ALPN h2 alone over TLS.")
    var http2Only = false
}

struct TLSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve HTTPS with this certificate chain (PEM); needs --tls-key.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The private key (PEM) of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Flag(help: "Serve HTTPS with a throwaway self-signed certificate for localhost (its path and fingerprint are printed).")
    var tlsSelfSigned = false

    func validate() throws {
        if tlsSelfSigned && (tlsCert != nil || tlsKey != nil) {
            throw ValidationError("--tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key")
        }
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError(tlsCert == nil ? "--tls-key needs --tls-cert (the certificate it belongs to)"
                                                 : "--tls-cert needs --tls-key (its private key)")
        }
    }

    /// nil when TLS was not asked for. SSLKEYLOGFILE, when set, names the key log (for Wireshark).
    var settings: TLSSettings? {
        let keyLog = getenv("SSLKEYLOGFILE").map { String(cString: $0) }
        if tlsSelfSigned { return TLSSettings(source: .selfSigned, keyLogPath: keyLog) }
        guard let tlsCert, let tlsKey else { return nil }
        return TLSSettings(source: .files(certificate: tlsCert, key: tlsKey), keyLogPath: keyLog)
    }
}

struct WebSocketOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Largest WebSocket message accepted, in bytes (close 1009 beyond it).", valueName: "bytes"))
    var maxMessage = 16 << 20

    @Option(help: ArgumentHelp("Seconds a WebSocket peer may stay quiet before it is pinged; no answer within the same time (at most 10 s) closes it.", valueName: "seconds"))
    var pingInterval = 30.0

    func validate() throws {
        guard pingInterval >= 0.1 else {
            throw ValidationError("--ping-interval \(pingInterval): give at least 0.1 seconds")
        }
        guard maxMessage >= 125 else {
            throw ValidationError("--max-message \(maxMessage): give at least 125 bytes (a control frame's payload)")
        }
    }
}

struct KeepAliveOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Event loops sharing the port with SO_REUSEPORT (one per core is typical).", valueName: "n"))
    var workers = 1

    @Option(help: ArgumentHelp("Seconds an idle kept-alive connection stays open between requests.", valueName: "seconds"))
    var idleTimeout = 30.0

    @Option(help: ArgumentHelp("Requests served on one connection before it closes (0: no limit).", valueName: "n"))
    var maxRequests = 1000

    // .unconditional: `--defer-accept -1` is a (wrong) number of seconds, not an unknown option -1.
    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds the kernel may hold a new connection until its first bytes arrive, so accept wakes the loop once, with the request there (TCP_DEFER_ACCEPT); 0 turns it off.", valueName: "seconds"))
    var deferAccept = 1

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
        guard (0...600).contains(deferAccept) else {
            throw ValidationError("--defer-accept \(deferAccept): give whole seconds from 0 (off) to 600")
        }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be more than 0 seconds") }
        guard maxRequests >= 0 else { throw ValidationError("--max-requests must be 0 (no limit) or more") }
    }
}

struct RouterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The folder GET /files/NAME serves and POST /files/NAME writes to.", valueName: "dir"))
    var directory: String?

    @Option(help: ArgumentHelp("Where the access log goes: - (stdout), a file path, or off.", valueName: "dest"))
    var accessLog = "-"

    @Option(help: ArgumentHelp("The user:password that GET /admin requires (HTTP Basic auth).", valueName: "user:password"))
    var auth = "learner:httpkit"

    @Option(name: .customLong("protect"), help: ArgumentHelp("Also require --auth for paths under this prefix (repeatable), such as /files.", valueName: "prefix"))
    var protectedPaths: [String] = []

    func validate() throws {
        guard auth.contains(":"), !auth.hasPrefix(":") else {
            throw ValidationError("--auth must be USER:PASSWORD, such as learner:httpkit")
        }
        for prefix in protectedPaths where !prefix.hasPrefix("/") || prefix.count < 2 || prefix.hasSuffix("/") {
            throw ValidationError("--protect \(prefix): give a path prefix such as /files (starting with /, no trailing /)")
        }
    }
}

struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Most connections served at once, one thread each (0: no bound).", valueName: "n"))
    var maxThreads = 256

    func validate() throws {
        guard maxThreads >= 0 else { throw ValidationError("--max-threads must be 0 (no bound) or more") }
    }
}

struct PollerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The readiness API: select, poll or epoll; or io_uring, a completion loop (eventloop, keepalive, router and http2 only; plain TCP).", valueName: "api"))
    var poller: PollerKind = .platformDefault
}

extension PollerKind: ExpressibleByArgument {}

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Stage 1: a TCP echo server (no HTTP yet).",
        discussion: "Example:\n  httpkit echo --port 9000   then, in another terminal:  nc 127.0.0.1 9000"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.echo, server) }
}

struct HelloCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello",
        abstract: "Stage 2: parse one request, answer Hello, world!, close.",
        discussion: "Example:\n  httpkit hello   then:  curl -v http://127.0.0.1:8080/"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.hello, server) }
}

struct StaticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "static",
        abstract: "Stage 3: serve files from a folder, one connection at a time.",
        discussion: "Example:\n  httpkit static --root ./www   then open http://127.0.0.1:8080/"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.static, server) }
}

struct KeepAliveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keepalive",
        abstract: "Stage 7: persistent connections, pipelining and chunked bodies on the event loop.",
        discussion: """
        Examples:
          httpkit keepalive
          httpkit keepalive --workers 2 --idle-timeout 5
          curl -v http://127.0.0.1:8080/ --next http://127.0.0.1:8080/hello.txt   (curl reuses the connection)
        """
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    @OptionGroup var keepAlive: KeepAliveOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    func run() throws { try StageRunner.run(.keepalive, server, poller: eventLoop, keepAlive: keepAlive, tls: tls) }
}

struct RouterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Stage 8: routes, middleware (access log, CORS, gzip, Basic auth), uploads, static files.",
        discussion: """
        Routes: GET /echo/:text, GET /user-agent, GET /users/:id, POST /api/echo (JSON),
        GET /admin (Basic auth), GET /chunked/:count, GET and POST /files/:name (with --directory),
        and every other path from --root.

        Examples:
          httpkit router --directory /tmp/files
          curl http://127.0.0.1:8080/echo/hello
          curl --compressed -v http://127.0.0.1:8080/
          curl -u learner:httpkit http://127.0.0.1:8080/admin
          curl --data-binary @photo.jpg http://127.0.0.1:8080/files/photo.jpg
        """
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    @OptionGroup var keepAlive: KeepAliveOptions
    @OptionGroup var router: RouterOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup var metrics: MetricsOptions
    func run() throws { try StageRunner.run(.router, server, poller: eventLoop, keepAlive: keepAlive, router: router, tls: tls, metrics: metrics) }
}

struct WebSocketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "websocket",
        abstract: "Stage 9: the router plus WebSocket (RFC 6455): /ws echoes, /chat is a broadcast room.",
        discussion: """
        Everything the router serves, plus two WebSocket endpoints: GET /ws echoes every message back,
        GET /chat joins a chat room (open www/chat.html in two tabs). Runs one event loop (the room lives in it).

        Examples:
          httpkit websocket
          open http://127.0.0.1:8080/chat.html in two browser tabs
          python3 -m websockets ws://127.0.0.1:8080/ws
          httpkit repl 127.0.0.1:8080   then  :ws /ws
        """
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    @OptionGroup var keepAlive: KeepAliveOptions
    @OptionGroup var router: RouterOptions
    @OptionGroup var webSocket: WebSocketOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup var metrics: MetricsOptions
    func run() throws {
        try StageRunner.run(.websocket, server, poller: eventLoop, keepAlive: keepAlive, router: router, webSocket: webSocket, tls: tls, metrics: metrics)
    }
}

struct HTTP2Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http2",
        abstract: "Stage 10: the router over HTTP/2 too (prior knowledge, or ALPN h2 with TLS) and HTTP/1.1.",
        discussion: """
        The router's routes and middleware, carried by HTTP/2 (RFC 9113) when the client asks for it: with the \
        preface on plain TCP (prior knowledge) or with ALPN h2 over TLS. HTTP/1.1 clients are served as before: \
        on plain TCP, a first line that ends in its version (HTTP/1.1) is HTTP/1.1's, and one that is neither \
        that nor the preface is taken as a broken preface (GOAWAY PROTOCOL_ERROR, RFC 9113 §3.4).

        With --http2-only the port speaks nothing else (as nghttpd does): every connection must start with the \
        preface, and anything else, an HTTP/1.1 request included, is answered with SETTINGS and GOAWAY \
        PROTOCOL_ERROR, then closed (RFC 9113 §3.4); over TLS, ALPN agrees to h2 alone (§3.2).

        Examples:
          httpkit http2
          curl --http2-prior-knowledge -v http://127.0.0.1:8080/
          h2load -n 1000 -c 10 -m 10 http://127.0.0.1:8080/hello.txt
          httpkit http2 --tls-self-signed --port 8443   then  curl --http2 --cacert CERT https://localhost:8443/
          httpkit http2 --http2-only   then  curl --http2-prior-knowledge http://127.0.0.1:8080/
          httpkit http2 --poller io_uring   (the same on a completion loop: lesson 12; plain TCP only)
        """
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    @OptionGroup var keepAlive: KeepAliveOptions
    @OptionGroup var router: RouterOptions
    @OptionGroup(title: "HTTP/2") var http2: HTTP2Options
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup var metrics: MetricsOptions
    func run() throws {
        try StageRunner.run(.http2, server, poller: eventLoop, keepAlive: keepAlive, router: router, tls: tls, http2: http2, metrics: metrics)
    }
}

struct ForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Stage 4: serve files with a forked process per connection.",
        discussion: "Example:\n  httpkit fork   then:  httpkit bench http://127.0.0.1:8080/ -c 50"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.fork, server) }
}

struct ThreadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threads",
        abstract: "Stage 5: serve files with a thread per connection, at most --max-threads at once.",
        discussion: "Examples:\n  httpkit threads --max-threads 64\n  httpkit threads --max-threads 0    (no bound: see what it costs)"
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var threads: ThreadOptions
    func run() throws { try StageRunner.run(.threads, server, threads: threads) }
}

struct EventLoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventloop",
        abstract: "Stage 6: serve files from one thread with nonblocking sockets and a readiness loop.",
        discussion: "Examples:\n  httpkit eventloop\n  httpkit eventloop --poller select   (and watch it refuse descriptor 1024)\n  httpkit eventloop --poller io_uring   (completions instead of readiness: lesson 06)"
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    func run() throws { try StageRunner.run(.eventloop, server, poller: eventLoop) }
}

/// Starts a stage and turns the failures a user can fix into sentences that say how.
enum StageRunner {
    static func run(_ stage: StageName, _ options: ServerOptions, threads: ThreadOptions? = nil,
                    poller: PollerOptions? = nil, keepAlive: KeepAliveOptions? = nil, router: RouterOptions? = nil,
                    webSocket: WebSocketOptions? = nil, tls: TLSOptions? = nil, http2: HTTP2Options? = nil,
                    proxy: ProxyOptions? = nil, metrics: MetricsOptions? = nil) throws {
        var configuration = try options.configuration(for: stage)
        if let metrics { configuration.metricsPath = metrics.path }
        configuration.http2Only = stage == .http2 && http2?.http2Only == true
        if stage == .proxy && (proxy?.upstreams.isEmpty ?? true) {
            throw CLIError(message: "the proxy stage needs at least one --upstream HOST:PORT (start one with: httpkit router --port 8081)")
        }
        if let threads { configuration.maxThreads = threads.maxThreads }
        if let poller { configuration.poller = poller.poller }
        if configuration.poller == .ioUring {
            guard [.eventloop, .keepalive, .router, .http2].contains(stage) else {
                throw CLIError(message: "--poller io_uring: the \(stage.rawValue) stage waits with select, poll or epoll; io_uring's completion loop serves the eventloop, keepalive, router and http2 stages only")
            }
            guard tls?.settings == nil else {
                throw CLIError(message: "--poller io_uring serves plain HTTP only: leave out --tls-cert/--tls-self-signed, or use --poller epoll")
            }
        }
        if let keepAlive {
            configuration.workers = keepAlive.workers
            configuration.idleTimeout = keepAlive.idleTimeout
            configuration.maxRequestsPerConnection = keepAlive.maxRequests
            configuration.deferAcceptSeconds = keepAlive.deferAccept // used by the stages that run Workers
        }
        if let router {
            if let directory = router.directory {
                guard (try? DocumentRoot(directory, fileSystem: SystemFileSystem())) != nil else {
                    throw CLIError(message: "--directory \(directory): not a readable directory. Create it first (mkdir -p \(directory)) or point --directory elsewhere.")
                }
                configuration.filesDirectory = directory
            }
            configuration.accessLog = router.accessLog == "off" ? nil : router.accessLog
            let credentials = router.auth.split(separator: ":", maxSplits: 1).map(String.init)
            configuration.basicAuthUser = credentials[0]
            configuration.basicAuthPassword = credentials.count > 1 ? credentials[1] : ""
            configuration.protectedPaths += router.protectedPaths
        }
        if let webSocket {
            configuration.maxWebSocketMessage = webSocket.maxMessage
            configuration.webSocketPingInterval = webSocket.pingInterval
        }
        if let settings = tls?.settings {
            guard [.keepalive, .router, .websocket, .http2].contains(stage) else {
                throw CLIError(message: "--tls-cert/--tls-self-signed: the \(stage.rawValue) stage speaks plain HTTP only; TLS is for keepalive, router, websocket and http2")
            }
            do {
                // ALPN offers h2 only where HTTP/2 is spoken (RFC 7301: never agree to a protocol you lack), and
                // nothing else where only HTTP/2 is (--http2-only).
                let alpn: TLSContext.ALPN = stage != .http2 ? .http1 : configuration.http2Only ? .http2Only : .http2AndHTTP1
                configuration.tls = try settings.makeContext(alpn: alpn)
            } catch {
                throw CLIError(message: "TLS: \(error)")
            }
        }
        if stage == .websocket && configuration.workers > 1 {
            throw CLIError(message: "--workers \(configuration.workers): the websocket stage runs one event loop (its chat room lives in one thread); leave --workers out")
        }
        do throws(SystemError) {
            switch stage {
            case .echo: try EchoStage(configuration).run()
            case .hello: try HelloStage(configuration).run()
            case .static: try StaticStage(configuration, root: configuration.root!).run()
            case .fork: try ForkStage(configuration, root: configuration.root!).run()
            case .threads: try ThreadsStage(configuration, root: configuration.root!).run()
            case .eventloop: try EventLoopStage(configuration, root: configuration.root!).run()
            case .keepalive: try KeepAliveStage(configuration, root: configuration.root!).run()
            case .router: try RouterStage(configuration, root: configuration.root!).run()
            case .websocket: try WebSocketStage(configuration, root: configuration.root!).run()
            case .http2: try HTTP2Stage(configuration, root: configuration.root!).run()
            case .proxy: try ProxyStage(configuration, proxy: proxy!.configuration).run()
            }
        } catch {
            throw explain(error, options)
        }
    }

    static func explain(_ error: SystemError, _ options: ServerOptions) -> CLIError {
        switch error.errno {
        case EADDRINUSE:
            return CLIError(message: "port \(options.port) on \(options.host) is already in use (\(error)). Stop the other server, or choose another port with --port (0 picks a free one).")
        case EACCES where options.port < 1024:
            return CLIError(message: "port \(options.port) needs root privileges (\(error)). Use a port of 1024 or more with --port.")
        case _ where error.call.hasPrefix("--poller io_uring: "):
            return CLIError(message: "\(error): io_uring is not available here (ENOSYS: a kernel without it; EPERM: disabled by sysctl kernel.io_uring_disabled or a seccomp filter; EINVAL: a kernel older than 5.19). Use --poller epoll.")
        case _ where error.call.hasPrefix("open("):
            return CLIError(message: "cannot open the access log: \(error). Pass --access-log with a writable path, - for stdout, or off.")
        case EADDRNOTAVAIL:
            return CLIError(message: "cannot listen on --host \(options.host): no such local address (\(error)). Try 127.0.0.1 or 0.0.0.0.")
        default:
            return CLIError(message: "\(error)")
        }
    }
}

/// `httpkit stages`: the path through the milestones.
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the milestones in order: name, what it teaches, its lesson."
    )

    func run() {
        let width = StageName.allCases.map(\.rawValue.count).max() ?? 0
        for stage in StageName.allCases {
            let info = stage.info
            let name = stage.rawValue.padding(to: width)
            print("\(info.milestone). \(name)  \(info.teaches)  → \(info.lesson)")
        }
    }
}

/// `httpkit version`: this build and the C libraries it links, proof that zlib and libedit are wired.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show httpkit's version and the versions of zlib and libedit it links."
    )

    func run() {
        print("httpkit \(HTTPKit.version)")
        print("zlib \(Gzip.zlibVersionString)")
        print("libedit \(LineEditor.libraryVersion)")
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
