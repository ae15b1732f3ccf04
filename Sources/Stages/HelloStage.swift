// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 2 · hello — the first HTTP server                                                      │
// │                                                                                            │
// │ Changed since echo: instead of copying bytes back, the server reads until a whole request   │
// │ has arrived — the head may come in several reads, the body is Content-Length bytes — then   │
// │ answers `200 OK` with `Hello, world!` and headers that frame it, and closes. A request that  │
// │ breaks the protocol gets the parser's status and reason (400, 413, 414, 431, 501, 505).     │
// │ Try it: `httpkit hello` and then `curl -v http://127.0.0.1:8080/`. Lesson: lessons/02-hello.md │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// Answers every request with `Hello, world!`, one connection at a time.
public struct HelloStage: Sendable {
    public let configuration: ServerConfiguration

    public init(_ configuration: ServerConfiguration) {
        self.configuration = configuration
    }

    public func run() throws(SystemError) {
        let listener = try Listener.open("hello", configuration)
        Listener.acceptLoop(listener) { client in
            defer { client.close() }
            // Read one request (BlockingExchange.serveOne loops over read() until the HTTP/1.1 machine has one),
            // answer it, close. The response says `Connection: close` so the client expects that.
            try BlockingExchange.serveOne(client, configuration: configuration, respond: hello)
        }
    }

    /// The response: a status line, headers that say what the body is and how long, and the body.
    func hello(_ request: HTTPRequest) -> HTTPResponse {
        .text(.ok, "Hello, world!\n")
    }
}
