import HTTPCore
import Sockets

/// The event loop's WebSocket part (the websocket stage): what happens after a `101 Switching Protocols`.
/// The loop's own work does not change — read, hand bytes to the connection's machine, do what it says —
/// only the machine in the slot does, and its messages go to an endpoint instead of a handler.
extension EventLoop {
    /// After a `101 Switching Protocols` to WebSocket: the connection's slot gets a WebSocket machine
    /// (fed the bytes that came right after the handshake), and the path's endpoint gets a peer.
    func switchToWebSocket(_ connection: Connection, path: String?, response: HTTPResponse, leftover: [UInt8]) {
        guard let path, let endpoint = webSockets[path],
              response.headers.contains("Upgrade", token: "websocket") else {
            connection.ending = .close // a 101 to something this loop does not speak
            return
        }
        let configuration = WebSocketConnection.Configuration(
            maxMessageBytes: options.maxMessageBytes,
            deflate: PerMessageDeflate.negotiate(response.headers.values("Sec-WebSocket-Extensions")))
        do {
            connection.webSocket = try WebSocketConnection(configuration: configuration, leftover: leftover)
            connection.http1 = nil // the slot changes hands: HTTP/1.1 is over on this connection
        } catch {
            connection.ending = .close
            return
        }
        nextPeerID += 1
        let peer = WebSocketPeer(id: nextPeerID, connection: connection, loop: self)
        connection.webSocketEndpoint = endpoint
        connection.webSocketPeer = peer
        endpoint.opened(peer)
    }

    func perform(_ action: WebSocketConnection.Action, on connection: Connection) {
        switch action {
        case .message(let message):
            metrics?.add(LoopMetrics.Slot.webSocketIn)
            if let peer = connection.webSocketPeer { connection.webSocketEndpoint?.received(message, from: peer) }
        case .write(let bytes):
            connection.output.append(bytes)
        case .close(let code, let reason):
            // The server closes TCP first (RFC 6455 §7.1.1), lingering so the client reads our close frame.
            connection.ending = .linger
            notifyClosed(connection, code: code, reason: reason)
        }
    }

    /// Queues a write for a connection that is not the one whose event is being handled.
    func scheduleFlush(_ connection: Connection) {
        guard !connection.flushScheduled else { return }
        connection.flushScheduled = true
        flushQueue.append(connection)
    }

    func flushScheduled(now: Double) {
        while !flushQueue.isEmpty {
            let queued = flushQueue
            flushQueue.removeAll()
            for connection in queued {
                connection.flushScheduled = false
                // A peer told to close starts its close handshake: wait for the client's close frame.
                if connection.webSocket?.state == .closeSent, connection.ending == nil {
                    connection.deadline = now + options.lingerTimeout
                }
                if !connection.closed && connection.interest == .read { flush(connection, now: now) }
            }
        }
    }

    func notifyClosed(_ connection: Connection, code: UInt16, reason: String) {
        guard let peer = connection.webSocketPeer, let endpoint = connection.webSocketEndpoint else { return }
        connection.webSocketPeer = nil
        connection.webSocketEndpoint = nil
        endpoint.closed(peer, code: code, reason: reason)
    }

    func abortUpload(_ connection: Connection) {
        connection.bodyConsumer?.abort()
        connection.bodyConsumer = nil
    }
}
