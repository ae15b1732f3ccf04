import HTTPCore

/// `GET /ws`: every message comes back unchanged, text as text and binary as binary.
public final class EchoEndpoint: WebSocketEndpoint {
    public init() {}

    public func opened(_ peer: WebSocketPeer) {}

    public func received(_ message: WebSocketConnection.Message, from peer: WebSocketPeer) {
        peer.send(message)
    }

    public func closed(_ peer: WebSocketPeer, code: UInt16, reason: String) {}
}
