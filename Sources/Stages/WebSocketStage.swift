// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 9 · websocket — one connection, two protocols: HTTP/1.1, then WebSocket (RFC 6455)    │
// │                                                                                            │
// │ Changed since router: two routes answer `101 Switching Protocols` instead of a page        │
// │ (WebSocketHandshake: the Sec-WebSocket-Accept proof, version 13, permessage-deflate). The   │
// │ HTTP/1.1 machine hands over the bytes after its 101, and the event loop puts a WebSocket   │
// │ machine in the connection's protocol slot (EventLoop.switchToWebSocket): frames, masking,  │
// │ fragments, ping/pong, the close handshake, all in HTTPCore/WebSocket without a socket.     │
// │ What a path does with its messages is an endpoint: /ws echoes (EchoEndpoint), /chat        │
// │ broadcasts to a room (ChatRoom) and drops a member too slow to read — bounded memory.      │
// │ Everything else is the router stage, middleware included. One loop: the room lives in it.  │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// The router stage plus WebSocket endpoints at /ws (echo) and /chat (a broadcast room).
public struct WebSocketStage: Sendable {
    public let configuration: ServerConfiguration
    let router: RouterStage

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        var configuration = configuration
        configuration.workers = 1 // the chat room lives in one event loop
        self.configuration = configuration
        router = RouterStage(configuration, root: root)
    }

    public func run() throws(SystemError) {
        let maxMessage = configuration.maxWebSocketMessage, pingInterval = configuration.webSocketPingInterval
        // 1. The opening handshake is an HTTP request like any other: routes answer it (through the
        //    middleware, so the access log sees the 101), with a 101 or the error that explains the refusal.
        let upgrade: RouteHandler = { routed in
            switch WebSocketHandshake.respond(to: routed.request, maxMessageBytes: maxMessage) {
            case .accepted(let switching, _): return switching
            case .refused(let error): return error
            }
        }
        try router.run(stageName: "websocket", adding: { routes in
            routes.get("/ws", upgrade)
            routes.get("/chat", upgrade)
        }, webSockets: {
            // 2. After the 101, the loop hands each connection's messages to its path's endpoint.
            ["/ws": EchoEndpoint(), "/chat": ChatRoom(maxQueuedBytes: 1 << 20)]
        }, adjust: { options in
            options.maxMessageBytes = maxMessage
            options.pingInterval = pingInterval
            options.pongTimeout = min(10, pingInterval)
        })
    }
}
