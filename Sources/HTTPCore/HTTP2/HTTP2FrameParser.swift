/// Cuts a byte stream into HTTP/2 frames, whatever the reads' boundaries, and checks each frame on its own
/// (RFC 9113 §4, §6). Bytes in, frames out; no I/O. What needs the connection's state (which streams exist,
/// flow-control windows, a CONTINUATION following its HEADERS) is for the connection machine, not here.
///
/// The client's connection preface (the 24 octets "PRI * HTTP/2.0...") comes before the first frame and is
/// not a frame: the connection checks and removes it before feeding this parser.
public struct HTTP2FrameParser: Sendable {
    /// This end's SETTINGS_MAX_FRAME_SIZE: a longer payload is a FRAME_SIZE_ERROR (§4.2), found from the header
    /// alone, before the payload is buffered.
    public var maxFrameSize: Int
    private var input = ReceiveBuffer()

    public init(maxFrameSize: Int = 16_384) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) { input.append(bytes) }

    /// Bytes received but not yet part of a frame.
    public var pendingBytes: Int { input.count }

    /// The next whole frame, nil if more bytes are needed, or the error the frame is. After a stream error the
    /// frame has been consumed and parsing can go on; after a connection error the connection is over.
    public mutating func next() throws(HTTP2Error) -> HTTP2Frame? {
        let buffer = input.bytes, start = input.start
        let available = buffer.count - start
        guard available >= HTTP2Frame.headerLength else { return nil }
        let length = Int(buffer[start]) << 16 | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2])
        let type = HTTP2FrameType(rawValue: buffer[start + 3])
        let flags = buffer[start + 4]
        // §4.1: the reserved bit "MUST remain unset (0x0) when sending and MUST be ignored when receiving".
        let streamID = readUInt32(buffer[...], at: start + 5) & 0x7FFF_FFFF
        guard length <= maxFrameSize else {
            // §4.2 allows a stream error for some frames; a connection error is always allowed, and the parser
            // would otherwise have to skip a payload it refuses to buffer.
            throw .connection(.frameSizeError, "a \(type) frame of \(length) octets, over SETTINGS_MAX_FRAME_SIZE = \(maxFrameSize)")
        }
        guard available >= HTTP2Frame.headerLength + length else { return nil }
        let payloadStart = start + HTTP2Frame.headerLength
        let body = buffer[payloadStart..<(payloadStart + length)]
        input.consume(upTo: payloadStart + length)
        let payload = try Self.payload(type: type, flags: flags, streamID: streamID, body: body)
        return HTTP2Frame(streamID: streamID, payload: payload)
    }

    /// Checks a frame's payload against the rules of its type (§6) and types it.
    static func payload(type: HTTP2FrameType, flags: UInt8, streamID: UInt32, body: ArraySlice<UInt8>) throws(HTTP2Error) -> HTTP2FramePayload {
        let has = { (flag: UInt8) in flags & flag != 0 }
        switch type {
        case .data:
            try requireStream(streamID, type)
            let (data, padding) = try unpad(body, padded: has(HTTP2Flags.padded), type)
            return .data(Array(data), endStream: has(HTTP2Flags.endStream), padding: padding)

        case .headers:
            try requireStream(streamID, type)
            var (block, padding) = try unpad(body, padded: has(HTTP2Flags.padded), type)
            var priority: HTTP2Priority?
            if has(HTTP2Flags.priority) {
                guard block.count >= 5 else {
                    throw .connection(.frameSizeError, "a HEADERS frame with the PRIORITY flag and \(block.count) octets for 5 octets of priority fields")
                }
                priority = HTTP2Priority(block.prefix(5))
                block = block.dropFirst(5)
            }
            return .headers(fieldBlock: block, endStream: has(HTTP2Flags.endStream),
                            endHeaders: has(HTTP2Flags.endHeaders), priority: priority, padding: padding)

        case .priority:
            try requireStream(streamID, type)
            guard body.count == 5 else {
                throw .stream(streamID, .frameSizeError, "a PRIORITY frame of \(body.count) octets (5 expected)")
            }
            return .priority(HTTP2Priority(body))

        case .rstStream:
            try requireStream(streamID, type)
            guard body.count == 4 else {
                throw .connection(.frameSizeError, "a RST_STREAM frame of \(body.count) octets (4 expected)")
            }
            return .rstStream(HTTP2ErrorCode(rawValue: readUInt32(body, at: body.startIndex)))

        case .settings:
            try requireConnection(streamID, type)
            if has(HTTP2Flags.ack) {
                guard body.isEmpty else {
                    throw .connection(.frameSizeError, "a SETTINGS acknowledgement with \(body.count) octets of payload (none expected)")
                }
                return .settings([], ack: true)
            }
            guard body.count % 6 == 0 else {
                throw .connection(.frameSizeError, "a SETTINGS frame of \(body.count) octets, not a multiple of 6")
            }
            var settings: [HTTP2Setting] = []
            for offset in stride(from: body.startIndex, to: body.endIndex, by: 6) {
                let id = HTTP2SettingID(rawValue: UInt16(body[offset]) << 8 | UInt16(body[offset + 1]))
                let setting = HTTP2Setting(id, readUInt32(body, at: offset + 2))
                try setting.validate()
                settings.append(setting)
            }
            return .settings(settings)

        case .pushPromise:
            try requireStream(streamID, type)
            let (rest, padding) = try unpad(body, padded: has(HTTP2Flags.padded), type)
            guard rest.count >= 4 else {
                throw .connection(.frameSizeError, "a PUSH_PROMISE frame with \(rest.count) octets for a 4-octet promised stream ID")
            }
            return .pushPromise(promisedStreamID: readUInt32(rest, at: rest.startIndex) & 0x7FFF_FFFF,
                                fieldBlock: Array(rest.dropFirst(4)), endHeaders: has(HTTP2Flags.endHeaders), padding: padding)

        case .ping:
            try requireConnection(streamID, type)
            guard body.count == 8 else {
                throw .connection(.frameSizeError, "a PING frame of \(body.count) octets (8 expected)")
            }
            return .ping(Array(body), ack: has(HTTP2Flags.ack))

        case .goAway:
            try requireConnection(streamID, type)
            guard body.count >= 8 else {
                throw .connection(.frameSizeError, "a GOAWAY frame of \(body.count) octets (at least 8 expected)")
            }
            return .goAway(lastStreamID: readUInt32(body, at: body.startIndex) & 0x7FFF_FFFF,
                           errorCode: HTTP2ErrorCode(rawValue: readUInt32(body, at: body.startIndex + 4)),
                           debugData: Array(body.dropFirst(8)))

        case .windowUpdate:
            guard body.count == 4 else {
                throw .connection(.frameSizeError, "a WINDOW_UPDATE frame of \(body.count) octets (4 expected)")
            }
            let increment = readUInt32(body, at: body.startIndex) & 0x7FFF_FFFF
            guard increment > 0 else {
                // §6.9: a stream error on a stream, a connection error on the connection's window.
                let reason = "a WINDOW_UPDATE with an increment of 0"
                throw streamID == 0 ? .connection(.protocolError, reason) : .stream(streamID, .protocolError, reason)
            }
            return .windowUpdate(increment: increment)

        case .continuation:
            try requireStream(streamID, type)
            return .continuation(fieldBlock: body, endHeaders: has(HTTP2Flags.endHeaders))

        default:
            return .unknown(type: type.rawValue, flags: flags, payload: Array(body))
        }
    }

    /// DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE and CONTINUATION belong to a stream: on stream 0 they are
    /// a connection error of type PROTOCOL_ERROR (§6.1–§6.4, §6.6, §6.10).
    private static func requireStream(_ streamID: UInt32, _ type: HTTP2FrameType) throws(HTTP2Error) {
        if streamID == 0 { throw .connection(.protocolError, "a \(type) frame on stream 0") }
    }

    /// SETTINGS, PING and GOAWAY belong to the connection: on a stream they are a PROTOCOL_ERROR (§6.5, §6.7, §6.8).
    private static func requireConnection(_ streamID: UInt32, _ type: HTTP2FrameType) throws(HTTP2Error) {
        if streamID != 0 { throw .connection(.protocolError, "a \(type) frame on stream \(streamID), not 0") }
    }

    /// Removes the Pad Length octet and the padding (§6.1): padding as long as the rest of the payload or longer
    /// is a connection error of type PROTOCOL_ERROR.
    private static func unpad(_ body: ArraySlice<UInt8>, padded: Bool, _ type: HTTP2FrameType) throws(HTTP2Error) -> (ArraySlice<UInt8>, Int?) {
        guard padded else { return (body, nil) }
        guard let padLength = body.first.map(Int.init) else {
            throw .connection(.frameSizeError, "a padded \(type) frame with no Pad Length octet")
        }
        guard padLength < body.count else {
            throw .connection(.protocolError, "a \(type) frame with \(padLength) octets of padding in a payload of \(body.count)")
        }
        return (body[(body.startIndex + 1)..<(body.endIndex - padLength)], padLength)
    }
}
