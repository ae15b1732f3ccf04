// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 3 · static — serving files                                                             │
// │                                                                                            │
// │ Changed since hello: the request's path now means something. StaticFileHandler maps it to  │
// │ a file under the document root (never outside it: DocumentRoot refuses `..`, `%2e%2e`,      │
// │ NUL bytes and symlinks that escape), picks the Content-Type from the extension, sends       │
// │ index.html for a directory, 301 for a directory named without its slash, the 404 page,      │
// │ and 405 for methods other than GET and HEAD. The file goes out with sendfile in bounded     │
// │ pieces, never read whole. Still one connection at a time: the next stages fix that.         │
// │ Try it: `httpkit static` and open http://127.0.0.1:8080/. Lesson: lessons/03-static.md       │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// Serves the document root, one connection at a time.
public struct StaticStage: Sendable {
    public let configuration: ServerConfiguration
    let files: StaticFileHandler

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        var configuration = configuration
        configuration.root = root
        self.configuration = configuration
        self.files = StaticFileHandler(root: root, maxAge: configuration.cacheMaxAge)
    }

    public func run() throws(SystemError) {
        let listener = try Listener.open("static", configuration)
        Listener.acceptLoop(listener) { client in
            defer { client.close() }
            // While this connection is being served, every other client waits: that is the cost of an
            // iterative server, and what `httpkit bench --compare` measures in the next lessons.
            try BlockingExchange.serveOne(client, configuration: configuration, respond: files.respond)
        }
    }
}
