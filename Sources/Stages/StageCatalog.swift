/// The milestones in the order a learner builds them.
public enum StageName: String, Sendable, CaseIterable {
    case echo, hello, `static`, fork, threads, eventloop, keepalive, router, websocket, http2, proxy

    public struct Info: Sendable {
        public let milestone: Int
        public let teaches: String
        public let lesson: String
        /// Whether the stage serves files from a document root.
        public let servesFiles: Bool
    }

    public var info: Info {
        switch self {
        case .echo: Info(milestone: 1, teaches: "sockets: accept, read, write, close; TCP is a byte stream",
                         lesson: "lessons/01-echo.md", servesFiles: false)
        case .hello: Info(milestone: 2, teaches: "the request/response cycle: parse a request, frame a response",
                          lesson: "lessons/02-hello.md", servesFiles: false)
        case .static: Info(milestone: 3, teaches: "files: paths, MIME types, 301/404/405, safe path resolution",
                           lesson: "lessons/03-static.md", servesFiles: true)
        case .fork: Info(milestone: 4, teaches: "a process per connection: fork, zombies, SIGCHLD, EINTR",
                         lesson: "lessons/04-fork.md", servesFiles: true)
        case .threads: Info(milestone: 5, teaches: "a thread per connection, and why to bound them",
                            lesson: "lessons/05-threads.md", servesFiles: true)
        case .eventloop: Info(milestone: 6, teaches: "one thread, nonblocking sockets, select/poll/epoll",
                              lesson: "lessons/06-eventloop.md", servesFiles: true)
        case .keepalive: Info(milestone: 7, teaches: "persistent connections, pipelining, chunked, workers",
                              lesson: "lessons/07-keepalive.md", servesFiles: true)
        case .router: Info(milestone: 8, teaches: "routes, middleware, gzip, CORS, auth, uploads",
                           lesson: "lessons/08-router.md", servesFiles: true)
        case .websocket: Info(milestone: 9, teaches: "a protocol switch: WebSocket frames, masking, close, backpressure",
                              lesson: "lessons/09-websocket.md", servesFiles: true)
        case .http2: Info(milestone: 10, teaches: "HTTP/2: frames, HPACK, streams and flow control on one connection",
                          lesson: "lessons/12-http2.md", servesFiles: true)
        case .proxy: Info(milestone: 11, teaches: "a reverse proxy: two hops, a connection pool, hop-by-hop headers, metrics",
                          lesson: "lessons/13-proxy.md", servesFiles: false)
        }
    }
}
