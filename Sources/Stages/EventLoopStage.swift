// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 6 · eventloop — one thread, nonblocking sockets, a readiness loop                      │
// │                                                                                            │
// │ Changed since threads: no process or thread per connection at all. Every socket is         │
// │ nonblocking; one loop asks the poller which ones are ready and moves each one's state      │
// │ machine (Connection: reading → writing → closed) a step. Partial writes and EAGAIN are     │
// │ remembered in the connection's OutputQueue; a slow reader stops being read from while its  │
// │ output is pending; a client that never finishes its head is closed by the header timeout.  │
// │ --poller select|poll|epoll picks the readiness API, to see select's FD_SETSIZE wall and    │
// │ why epoll costs O(ready) instead of O(watched). The loop itself is in EventLoop.swift.      │
// │ The request handling is exactly static's: StaticFileHandler.                                │
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
        self.files = StaticFileHandler(root: root)
    }

    public func run() throws(SystemError) {
        Processes.raiseOpenFileLimit()
        let listener = try Listener.open("eventloop", configuration)
        // One request per connection, as in static: keep-alive is stage 7.
        let options = EventLoop.Options(configuration, keepAlive: false)
        let files = self.files
        let loop = EventLoop(listener: listener, poller: try makePoller(configuration.poller), options: options,
                             wake: try makeStopWakePipe(), handler: { files.respond(to: $0) })
        try loop.run()
    }
}
