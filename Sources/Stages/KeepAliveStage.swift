// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 7 · keepalive — persistent connections on the event loop                                │
// │                                                                                            │
// │ Changed since eventloop: one switch and three timers. Options.keepAlive = true makes        │
// │ EventLoop.answer keep the connection after a response when the client wants it (HTTP/1.1    │
// │ unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`), and the parser's  │
// │ leftover bytes — pipelined requests — are answered in order right after. The timers:        │
// │ --header-timeout (a head must arrive within it), --idle-timeout (between requests),          │
// │ --max-requests (per connection). --workers N runs N loops on one port with SO_REUSEPORT.    │
// │ Bodies of unknown length go out chunked (HTTP/1.1) or until close (HTTP/1.0).               │
// │ The request handling is still static's: StaticFileHandler.                                  │
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
        self.files = StaticFileHandler(root: root)
    }

    public func run() throws(SystemError) {
        let loopOptions = EventLoop.Options(configuration, keepAlive: true)
        let files = self.files, poller = configuration.poller
        try Workers.run("keepalive", configuration) { listener, wake throws(SystemError) in
            // Each loop gets its own file cache: a loop is one thread, so the cache needs no lock.
            let cache = StaticFileCache(files)
            return EventLoop(listener: listener, poller: try makePoller(poller), options: loopOptions, wake: wake,
                             handler: { cache.respond(to: $0) })
        }
    }
}
