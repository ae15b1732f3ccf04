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
