// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 1 · echo — a TCP server, before any HTTP                                              │
// │                                                                                            │
// │ New here: socket → bind → listen → accept → read/write → close, the life of every server.   │
// │ Every byte a client sends comes back unchanged until it closes its side. One client at a    │
// │ time: a second client waits in the listen backlog until the first one leaves.               │
// │ Try it: `httpkit echo` and then `nc 127.0.0.1 8080`. Lesson: lessons/01-echo.md             │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import Sockets

/// A TCP echo server: reads what the client sends and writes it back, until the client closes.
public struct EchoStage: Sendable {
    public let configuration: ServerConfiguration

    public init(_ configuration: ServerConfiguration) {
        self.configuration = configuration
    }

    public func run() throws(SystemError) {
        let listener = try Listener.open("echo", configuration)
        Listener.acceptLoop(listener) { client in
            defer { client.close() }
            try echo(client)
        }
    }

    /// Copies the client's bytes back to it. `read` returns whatever has arrived, 1 byte or 4096: TCP
    /// keeps no message boundaries. A read of 0 bytes means the client closed its side.
    func echo(_ client: Socket) throws(SystemError) {
        while let bytes = try client.read(maxBytes: 4096), !bytes.isEmpty {
            try client.writeAll(bytes)
        }
    }
}
