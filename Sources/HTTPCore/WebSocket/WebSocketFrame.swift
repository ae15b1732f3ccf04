/// One WebSocket frame (RFC 6455 §5.2):
///
///      0                   1                   2                   3
///     +-+-+-+-+-------+-+-------------+-------------------------------+
///     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
///     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
///     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
///     | |1|2|3|       |K|             |                               |
///     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
///     |     Masking-key (0 or 4 bytes, client to server only)         |
///     +---------------------------------------------------------------+
///     |     Payload data (XORed with the masking key, byte i with key[i % 4])
///
/// `payload` here is always the unmasked data.
public struct WebSocketFrame: Sendable, Hashable {
    public var fin: Bool
    public var rsv1: Bool
    public var rsv2: Bool
    public var rsv3: Bool
    public var opcode: WebSocketOpcode
    /// The key the sender masked the payload with (every client frame has one, no server frame does).
    public var maskingKey: [UInt8]?
    public var payload: [UInt8]

    public init(fin: Bool = true, rsv1: Bool = false, rsv2: Bool = false, rsv3: Bool = false,
                opcode: WebSocketOpcode, maskingKey: [UInt8]? = nil, payload: [UInt8] = []) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.maskingKey = maskingKey
        self.payload = payload
    }

    /// The frame's bytes on the wire: the header, then the payload (masked if there is a key).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 14)
        out.append((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | opcode.rawValue & 0x0F)
        let mask: UInt8 = maskingKey == nil ? 0 : 0x80
        // The length in the fewest bytes that hold it (§5.2: "the minimal number of bytes MUST be used").
        switch payload.count {
        case 0...125:
            out.append(mask | UInt8(payload.count))
        case 126...0xFFFF:
            out.append(mask | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            out.append(mask | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: payload.count >> shift)) }
        }
        if let key = maskingKey {
            out += key
            for (i, byte) in payload.enumerated() { out.append(byte ^ key[i & 3]) }
        } else {
            out += payload
        }
        return out
    }
}

/// The frame types (§5.2, §11.8). 3–7 and 11–15 are reserved: a frame with one is a protocol error.
public struct WebSocketOpcode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let continuation = WebSocketOpcode(rawValue: 0x0)
    public static let text = WebSocketOpcode(rawValue: 0x1)
    public static let binary = WebSocketOpcode(rawValue: 0x2)
    public static let close = WebSocketOpcode(rawValue: 0x8)
    public static let ping = WebSocketOpcode(rawValue: 0x9)
    public static let pong = WebSocketOpcode(rawValue: 0xA)

    /// Close, ping and pong: never fragmented, at most 125 bytes, allowed in the middle of a message.
    public var isControl: Bool { rawValue & 0x08 != 0 }
    public var isReserved: Bool { !(rawValue <= 2 || (0x8...0xA).contains(rawValue)) }

    public var description: String {
        switch rawValue {
        case 0x0: return "continuation"
        case 0x1: return "text"
        case 0x2: return "binary"
        case 0x8: return "close"
        case 0x9: return "ping"
        case 0xA: return "pong"
        default: return "reserved opcode \(rawValue)"
        }
    }
}

/// Why a WebSocket connection is being closed, as a close code (§7.4) and a reason for people.
public struct WebSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: UInt16
    public var reason: String

    public init(_ code: UInt16, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public static func protocolError(_ reason: String) -> WebSocketError { WebSocketError(1002, reason) }

    public var description: String { "\(code) \(WebSocketCloseCode.name(code)): \(reason)" }
}

/// Close status codes (RFC 6455 §7.4.1) and which of them may appear in a close frame (§7.4.2).
public enum WebSocketCloseCode {
    public static func name(_ code: UInt16) -> String {
        switch code {
        case 1000: return "normal closure"
        case 1001: return "going away"
        case 1002: return "protocol error"
        case 1003: return "unsupported data"
        case 1005: return "no status received"
        case 1006: return "abnormal closure"
        case 1007: return "invalid payload data"
        case 1008: return "policy violation"
        case 1009: return "message too big"
        case 1010: return "mandatory extension"
        case 1011: return "internal error"
        case 1015: return "TLS handshake"
        case 3000...3999: return "registered"
        case 4000...4999: return "private use"
        default: return "not a valid code"
        }
    }

    /// Codes a peer may send. 1004–1006 and 1015 are reserved for reporting (never on the wire); below
    /// 1000 and 1012–2999 are not assigned to anyone who could send them.
    public static func isSendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }
}

/// Cuts a byte stream into frames, whatever the reads' boundaries. Bytes in, frames out; no I/O.
public struct WebSocketFrameParser: Sendable {
    /// The largest payload accepted in one frame (1009 beyond it): a 64-bit length must not make the
    /// receiver reserve 2^63 bytes.
    public var maxPayload: Int
    private var input = ReceiveBuffer()

    public init(maxPayload: Int) {
        self.maxPayload = maxPayload
    }

    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) { input.append(bytes) }

    /// Bytes received but not yet part of a frame.
    public var pendingBytes: Int { input.count }

    /// The next whole frame (unmasked), nil if more bytes are needed, or the error that ends the connection.
    public mutating func next() throws(WebSocketError) -> WebSocketFrame? {
        let buffer = input.bytes, start = input.start
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let b0 = buffer[start], b1 = buffer[start + 1]
        var headerLength = 2
        var length = Int(b1 & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            // §5.2: the most significant bit of a 64-bit length MUST be 0.
            guard buffer[start + 2] & 0x80 == 0 else { throw .protocolError("a 64-bit frame length with its top bit set") }
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(buffer[start + i]) }
            guard value <= UInt64(maxPayload) else {
                throw WebSocketError(1009, "a frame of \(value) bytes is over the limit of \(maxPayload)")
            }
            length = Int(value)
            headerLength = 10
        }
        guard length <= maxPayload else {
            throw WebSocketError(1009, "a frame of \(length) bytes is over the limit of \(maxPayload)")
        }
        let masked = b1 & 0x80 != 0
        if masked { headerLength += 4 }
        guard available >= headerLength + length else { return nil }
        let key = masked ? Array(buffer[(start + headerLength - 4)..<(start + headerLength)]) : nil
        let payloadStart = start + headerLength
        var payload = Array(buffer[payloadStart..<(payloadStart + length)])
        if let key { Self.unmask(&payload, key: key) }
        input.consume(upTo: payloadStart + length)
        return WebSocketFrame(fin: b0 & 0x80 != 0, rsv1: b0 & 0x40 != 0, rsv2: b0 & 0x20 != 0, rsv3: b0 & 0x10 != 0,
                              opcode: WebSocketOpcode(rawValue: b0 & 0x0F), maskingKey: key, payload: payload)
    }

    /// XORs with the 4-byte key, 8 bytes at a time where it can (masking is the hot loop of a WebSocket server).
    static func unmask(_ payload: inout [UInt8], key: [UInt8]) {
        let count = payload.count
        payload.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var key32: UInt32 = 0
            withUnsafeMutableBytes(of: &key32) { $0.copyBytes(from: key) }
            let key64 = UInt64(key32) | UInt64(key32) << 32
            var i = 0
            while i + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                base.storeBytes(of: word ^ key64, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count {
                raw[i] ^= key[i & 3]
                i += 1
            }
        }
    }
}
