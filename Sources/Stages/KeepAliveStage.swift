// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 7 · keepalive — persistent connections on the event loop                             │
// │                                                                                            │
// │ Changed since eventloop: one switch and the timers it needs, built visibly in run() below: │
// │ keepAlive = true, --header-timeout (the whole head), --idle-timeout (between requests, and │
// │ a stalled body), --max-requests (per connection). The rules it turns on are not here:      │
// │ HTTPCore's HTTP1Connection decides when a connection stays open (keepsAlive: HTTP/1.1      │
// │ unless `Connection: close`, HTTP/1.0 only with `keep-alive`), answers pipelined requests   │
// │ in order (nextAction), sends 100 Continue, and frames bodies of unknown length chunked     │
// │ (1.1) or until close (1.0). --workers N runs N loops on one port with SO_REUSEPORT.        │
// │ The request handling is still static's: StaticFileHandler.                                 │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// Serves the document root with persistent connections, pipelining and N event loops.
public struct KeepAliveStage: Sendable {
    public let configuration: ServerConfiguration
    let files: StaticFileHandler

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        var configuration = configuration
        configuration.root = root
        self.configuration = configuration
        self.files = StaticFileHandler(root: root, maxAge: configuration.cacheMaxAge)
    }

    public func run() throws(SystemError) {
        // The policy this stage turns on. The loop hands it to each connection's HTTP1Connection, which
        // applies it: whether a connection stays open after a response is `keepsAlive(clientAsks:framing:)`.
        var options = EventLoop.Options()
        options.keepAlive = true                                              // persistent connections (RFC 9112 §9.3)
        options.headerTimeout = configuration.headerTimeout                   // --header-timeout: the whole head, from its first byte
        options.idleTimeout = configuration.idleTimeout                       // --idle-timeout: between requests, and a stalled body
        options.maxRequestsPerConnection = configuration.maxRequestsPerConnection // --max-requests (0: no limit)
        options.limits = configuration.limits                                 // --max-body and the limits on a head
        options.tls = configuration.tls                                       // --tls-cert/--tls-key or --tls-self-signed
        // writeTimeout (60 s, a reader that takes nothing) and lingerTimeout (2 s, after an error) keep
        // their defaults: see EventLoop.Options.
        let loopOptions = options
        let files = self.files, poller = configuration.poller
        let cachedBytes = StaticFileCache.memoryLimit(http2: false, tls: configuration.tls != nil)
        if poller == .ioUring { try CompletionLoop.checkAvailable() } // before the startup line
        try Workers.run("keepalive", configuration) { listener, wake throws(SystemError) -> any ServingLoop in
            // Each loop gets its own file cache: a loop is one thread, so the cache needs no lock.
            let cache = StaticFileCache(files, maxCachedBytes: cachedBytes)
            if poller == .ioUring { // lesson 06's completion loop (CompletionLoop.swift)
                return try CompletionLoop(listener: listener, options: loopOptions, handler: { cache.respond(to: $0) })
            }
            return EventLoop(listener: listener, poller: try makePoller(poller), options: loopOptions, wake: wake,
                             handler: { cache.respond(to: $0) })
        }
    }
}
