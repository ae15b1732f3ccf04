import HTTPCore

/// `GET /chat`: one broadcast room. Every text message goes to every member; joins and leaves are
/// announced. Binary messages are not part of the chat protocol and get close 1003.
///
/// Backpressure: a member whose socket has not taken `maxQueuedBytes` of earlier messages is too slow
/// to keep up. Holding more for it would grow the server's memory with every message the others send;
/// dropping messages silently would show it a conversation with holes. So it is removed with close 1008
/// (policy violation) and a reason, and the others are never slowed down by it.
public final class ChatRoom: WebSocketEndpoint {
    public let maxQueuedBytes: Int
    private var members: [Int: WebSocketPeer] = [:]
    private var names: [Int: String] = [:]

    public init(maxQueuedBytes: Int = 1 << 20) {
        self.maxQueuedBytes = maxQueuedBytes
    }

    public var memberCount: Int { members.count }

    public func opened(_ peer: WebSocketPeer) {
        let name = "guest-\(peer.id)"
        members[peer.id] = peer
        names[peer.id] = name
        peer.send(.text("* you are \(name); \(members.count) here"))
        broadcast("* \(name) joined", except: peer.id)
    }

    public func received(_ message: WebSocketConnection.Message, from peer: WebSocketPeer) {
        guard let text = message.text else {
            peer.close(code: 1003, reason: "the chat takes text messages only")
            return
        }
        broadcast("\(names[peer.id] ?? "?"): \(text)", except: nil)
    }

    public func closed(_ peer: WebSocketPeer, code: UInt16, reason: String) {
        guard members.removeValue(forKey: peer.id) != nil else { return }
        let name = names.removeValue(forKey: peer.id) ?? "?"
        broadcast("* \(name) left", except: nil)
    }

    private func broadcast(_ text: String, except excluded: Int?) {
        let message = WebSocketConnection.Message.text(text)
        for (id, member) in members where id != excluded {
            guard member.queuedBytes <= maxQueuedBytes else {
                members[id] = nil
                let name = names.removeValue(forKey: id) ?? "?"
                member.close(code: 1008, reason: "too slow: \(member.queuedBytes) bytes waiting to be read")
                broadcast("* \(name) was dropped (too slow to keep up)", except: nil)
                continue
            }
            member.send(message)
        }
    }
}
