/// The server side of one WebSocket connection (RFC 6455 §5–§8), as a machine without I/O: bytes from
/// the client in, messages and bytes to send out. It owns every rule of the protocol — masking,
/// fragmentation, control frames, UTF-8, the message size limit, the close handshake,
/// permessage-deflate — and never touches a socket or a clock, like `HTTP1Connection` before it.
///
///     connection.receive(bytes)
///     while let action = connection.nextAction() {
///         switch action {
///         case .message(let message): … connection.send(reply) …   // a whole text or binary message
///         case .write(let bytes): send(bytes)                       // a pong, our close frame
///         case .close: close the TCP connection once everything is sent
///         }
///     }
public struct WebSocketConnection: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// The largest message accepted, after inflating (close 1009 beyond it).
        public var maxMessageBytes: Int
        /// permessage-deflate, when the handshake agreed on it.
        public var deflate: PerMessageDeflate.Parameters?

        public init(maxMessageBytes: Int = 16 << 20, deflate: PerMessageDeflate.Parameters? = nil) {
            self.maxMessageBytes = maxMessageBytes
            self.deflate = deflate
        }
    }

    /// A whole message (§5.6): its fragments joined, inflated, and for text checked to be UTF-8.
    public struct Message: Sendable, Hashable {
        public var opcode: WebSocketOpcode
        public var payload: [UInt8]

        public init(opcode: WebSocketOpcode, payload: [UInt8]) {
            self.opcode = opcode
            self.payload = payload
        }

        public static func text(_ text: String) -> Message { Message(opcode: .text, payload: Array(text.utf8)) }
        public var text: String? { opcode == .text ? String(decoding: payload, as: UTF8.self) : nil }
    }

    public enum Action: Sendable, Hashable {
        case message(Message)
        /// Bytes to send as they are (a pong, a close frame).
        case write([UInt8])
        /// The connection is over: close it once everything before this has been sent.
        case close(code: UInt16, reason: String)
    }

    public enum State: Sendable, Hashable {
        case open
        /// We sent a close frame and wait for the client's (§7.1.2); data that still arrives is dropped.
        case closeSent
        case closed
    }

    public let configuration: Configuration
    public private(set) var state = State.open
    private var parser: WebSocketFrameParser
    private var deflate: DeflateContext?
    /// The data message being assembled from fragments.
    private var messageOpcode: WebSocketOpcode?
    private var messageCompressed = false
    private var messagePayload: [UInt8] = []
    private var utf8 = UTF8Validator()
    private var pending: [Action] = []

    /// - Parameter leftover: bytes that arrived right after the handshake (a client may send its first
    ///   frame without waiting for the 101).
    public init(configuration: Configuration = Configuration(), leftover: [UInt8] = []) throws(WebSocketError) {
        self.configuration = configuration
        // A frame can be no larger than a message; its compressed form no larger than that either.
        parser = WebSocketFrameParser(maxPayload: configuration.maxMessageBytes)
        deflate = try configuration.deflate.map { parameters throws(WebSocketError) in try DeflateContext(parameters) }
        parser.append(leftover)
    }

    // MARK: - Input

    public mutating func receive<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        guard state != .closed else { return }
        parser.append(bytes)
    }

    /// The next thing to do, or nil when more bytes are needed.
    public mutating func nextAction() -> Action? {
        if !pending.isEmpty { return pending.removeFirst() }
        while state != .closed {
            let frame: WebSocketFrame
            do {
                guard let next = try parser.next() else { return nil }
                frame = next
            } catch {
                return fail(error)
            }
            if state == .closeSent {
                // Waiting for the client's close: it ends the handshake; anything else is dropped (§7.1.2).
                guard frame.opcode == .close else { continue }
                state = .closed
                return .close(code: 1000, reason: "the close handshake is complete")
            }
            do {
                if let action = try handle(frame) { return action }
            } catch {
                return fail(error)
            }
        }
        return nil
    }

    private mutating func handle(_ frame: WebSocketFrame) throws(WebSocketError) -> Action? {
        // §5.1: a server MUST close the connection when it receives an unmasked frame.
        guard frame.maskingKey != nil else { throw .protocolError("client frames must be masked") }
        // §5.2: RSV bits MUST be 0 unless an extension gives them a meaning; permessage-deflate uses RSV1
        // on the first frame of a data message only (RFC 7692 §6).
        guard !frame.rsv2 && !frame.rsv3 else { throw .protocolError("RSV2 and RSV3 must be 0 (no extension uses them)") }
        if frame.rsv1 && (deflate == nil || frame.opcode.isControl || frame.opcode == .continuation) {
            throw .protocolError(deflate == nil ? "RSV1 must be 0 (permessage-deflate was not negotiated)"
                                                : "RSV1 may be set on the first frame of a data message only")
        }
        guard !frame.opcode.isReserved else { throw .protocolError("\(frame.opcode) is reserved") }
        if frame.opcode.isControl {
            // §5.5: control frames are short and never fragmented, so they can interleave with a message.
            guard frame.fin else { throw .protocolError("a \(frame.opcode) frame must not be fragmented") }
            guard frame.payload.count <= 125 else { throw .protocolError("a \(frame.opcode) frame carries at most 125 bytes") }
            return try handleControl(frame)
        }
        if frame.opcode == .continuation {
            guard messageOpcode != nil else { throw .protocolError("a continuation frame with no message to continue") }
        } else {
            guard messageOpcode == nil else { throw .protocolError("a new message began before the previous one ended") }
            messageOpcode = frame.opcode
            messageCompressed = frame.rsv1
            messagePayload = []
            utf8 = UTF8Validator()
        }
        guard messagePayload.count + frame.payload.count <= configuration.maxMessageBytes else {
            throw WebSocketError(1009, "a message over the limit of \(configuration.maxMessageBytes) bytes")
        }
        if messageOpcode == .text && !messageCompressed {
            // Fail fast (§8.1): the first byte that cannot be UTF-8 ends the connection, not the last frame.
            guard utf8.feed(frame.payload) else { throw WebSocketError(1007, "a text message that is not UTF-8") }
        }
        messagePayload += frame.payload
        guard frame.fin, let opcode = messageOpcode else { return nil }
        var payload = messagePayload
        messageOpcode = nil
        messagePayload = []
        if messageCompressed, let deflate {
            payload = try deflate.decompress(payload, limit: configuration.maxMessageBytes)
            if opcode == .text { guard utf8.feed(payload) else { throw WebSocketError(1007, "a text message that is not UTF-8") } }
        }
        if opcode == .text { guard utf8.isComplete else { throw WebSocketError(1007, "a text message that ends inside a UTF-8 character") } }
        return .message(Message(opcode: opcode, payload: payload))
    }

    private mutating func handleControl(_ frame: WebSocketFrame) throws(WebSocketError) -> Action? {
        switch frame.opcode {
        case .ping:
            // §5.5.2: answer with a pong carrying the same application data.
            return .write(WebSocketFrame(opcode: .pong, payload: frame.payload).encoded())
        case .pong:
            return nil // unsolicited pongs are allowed (§5.5.3); any bytes prove the peer alive
        default: // close
            let (code, reason) = try Self.parseClose(frame.payload)
            state = .closed
            // §5.5.1: answer with a close frame (echoing the code), then the server closes TCP first (§7.1.1).
            let reply = code.map { Self.closeFrame($0, "") } ?? WebSocketFrame(opcode: .close).encoded()
            pending.append(.close(code: code ?? 1005, reason: reason))
            return .write(reply)
        }
    }

    /// A close frame's payload: nothing, or a 2-byte code and a UTF-8 reason (§5.5.1, §7.4).
    static func parseClose(_ payload: [UInt8]) throws(WebSocketError) -> (UInt16?, String) {
        if payload.isEmpty { return (nil, "") }
        guard payload.count >= 2 else { throw .protocolError("a close frame with a 1-byte payload (a code takes 2)") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isSendable(code) else { throw .protocolError("close code \(code) may not be sent") }
        let reason = payload[2...]
        guard UTF8Validator.isValid(reason) else { throw WebSocketError(1007, "a close reason that is not UTF-8") }
        return (code, String(decoding: reason, as: UTF8.self))
    }

    /// The connection broke the protocol: send a close frame saying why and close (§7.1.7).
    private mutating func fail(_ error: WebSocketError) -> Action {
        let wasOpen = state == .open
        state = .closed
        if wasOpen { pending.append(.close(code: error.code, reason: error.reason)) }
        else { return .close(code: error.code, reason: error.reason) }
        return .write(Self.closeFrame(error.code, error.reason))
    }

    // MARK: - Output

    /// The frame(s) that carry `message` to the client, compressed when permessage-deflate is on.
    public func send(_ message: Message) -> [UInt8] {
        guard state == .open else { return [] }
        if let deflate, message.payload.count >= 32, let compressed = try? deflate.compress(message.payload) {
            return WebSocketFrame(rsv1: true, opcode: message.opcode, payload: compressed).encoded()
        }
        return WebSocketFrame(opcode: message.opcode, payload: message.payload).encoded()
    }

    public func ping(_ payload: [UInt8] = []) -> [UInt8] {
        guard state == .open else { return [] }
        return WebSocketFrame(opcode: .ping, payload: Array(payload.prefix(125))).encoded()
    }

    /// Starts the close handshake from our side (§7.1.2): the client answers with its close frame.
    public mutating func close(code: UInt16, reason: String) -> [UInt8] {
        guard state == .open else { return [] }
        state = .closeSent
        return Self.closeFrame(code, reason)
    }

    /// A close frame with `code` and a reason cut to fit the 125-byte limit on a UTF-8 boundary.
    public static func closeFrame(_ code: UInt16, _ reason: String) -> [UInt8] {
        var text = Array(reason.utf8.prefix(123))
        while !UTF8Validator.isValid(text) { text.removeLast() }
        return WebSocketFrame(opcode: .close, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + text).encoded()
    }
}
