import HTTPCore

/// What a WebSocket path does with its connections: told when one opens, when a message arrives, and
/// when it closes. Called on its event loop's thread only, so it needs no lock; it must not block.
public protocol WebSocketEndpoint: AnyObject {
    func opened(_ peer: WebSocketPeer)
    func received(_ message: WebSocketConnection.Message, from peer: WebSocketPeer)
    func closed(_ peer: WebSocketPeer, code: UInt16, reason: String)
}

/// One WebSocket connection as an endpoint sees it: something to send messages to, or close.
///
/// Sending queues frames on the connection's output and returns at once; the loop writes them when the
/// socket is writable. `queuedBytes` says how far behind a reader is: an endpoint that sends to many
/// peers (a chat room) uses it so one slow reader cannot make the server's memory grow without bound.
public final class WebSocketPeer {
    public let id: Int
    let connection: Connection
    private weak var loop: EventLoop?

    init(id: Int, connection: Connection, loop: EventLoop) {
        self.id = id
        self.connection = connection
        self.loop = loop
    }

    /// Bytes queued for this peer and not yet taken by its socket.
    public var queuedBytes: Int { connection.output.bufferedBytes }

    public var isOpen: Bool { !connection.closed && connection.ending == nil }

    /// Queues `message` (compressed if permessage-deflate was agreed).
    public func send(_ message: WebSocketConnection.Message) {
        guard isOpen, let bytes = connection.webSocket?.send(message) else { return }
        connection.output.append(bytes)
        loop?.metrics?.add(LoopMetrics.Slot.webSocketOut)
        loop?.scheduleFlush(connection)
    }

    /// Starts the close handshake with `code` (RFC 6455 §7.4) and a reason for the client.
    public func close(code: UInt16, reason: String) {
        guard isOpen, let bytes = connection.webSocket?.close(code: code, reason: reason) else { return }
        connection.output.append(bytes)
        loop?.scheduleFlush(connection)
    }
}
