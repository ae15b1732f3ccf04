// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 6 · eventloop — one thread, nonblocking sockets, a readiness loop                    │
// │                                                                                            │
// │ Changed since threads: no process or thread per connection at all. Every socket is         │
// │ nonblocking, and one loop only moves bytes and keeps time. Read EventLoop.swift top down:  │
// │   run       — ask the poller (--poller select|poll|epoll) which sockets are ready;         │
// │               (--poller io_uring: hand the reads and writes to the kernel instead, in      │
// │               CompletionLoop.swift: a completion loop, lesson 06's fourth model);          │
// │   read      — read what arrived and feed it to the connection's protocol machine;          │
// │   process   — do what the machine says: call the handler, queue output, close;             │
// │   flush     — send what fits; on EAGAIN remember where it stopped, wait for writability;   │
// │   rearm     — the one timer rule: a head must arrive within --header-timeout (slowloris).  │
// │ The HTTP/1.1 rules are in HTTPCore's HTTP1Connection, a machine without I/O, held in each  │
// │ Connection's protocol slot over a Transport. Here its policy is keepAlive: false: one      │
// │ request per connection, as in static. Handling is static's: StaticFileHandler.             │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// Serves the document root from one thread with an event loop; one response per connection.
public struct EventLoopStage: Sendable {
    public let configuration: ServerConfiguration
    let files: StaticFileHandler

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        var configuration = configuration
        configuration.root = root
        self.configuration = configuration
        self.files = StaticFileHandler(root: root, maxAge: configuration.cacheMaxAge)
    }

    public func run() throws(SystemError) {
        Processes.raiseOpenFileLimit()
        if configuration.poller == .ioUring { try CompletionLoop.checkAvailable() } // before the startup line
        let listener = try Listener.open("eventloop", configuration)
        // One request per connection, as in static: each connection's HTTP1Connection gets the policy
        // keepAlive: false, so every response says `Connection: close`. Keep-alive is stage 7.
        let options = EventLoop.Options(configuration, keepAlive: false)
        let files = self.files
        if configuration.poller == .ioUring {
            try CompletionLoop(listener: listener, options: options, handler: { files.respond(to: $0) }).run()
            return
        }
        let loop = EventLoop(listener: listener, poller: try makePoller(configuration.poller), options: options,
                             wake: try makeStopWakePipe(), handler: { files.respond(to: $0) })
        try loop.run()
    }
}
