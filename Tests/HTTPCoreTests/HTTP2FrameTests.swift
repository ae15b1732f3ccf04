import Testing
import HTTPCore

/// A frame header: 24-bit length, type, flags, stream ID (with the reserved bit as given).
private func header(_ length: Int, _ type: UInt8, _ flags: UInt8, _ stream: UInt32) -> [UInt8] {
    [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
     UInt8(stream >> 24), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
}

/// Feeds `bytes` in pieces of `chunk` octets (0: all at once) and collects the frames.
private func parse(_ bytes: [UInt8], chunk: Int = 0, maxFrameSize: Int = 16_384) throws -> [HTTP2Frame] {
    var parser = HTTP2FrameParser(maxFrameSize: maxFrameSize)
    var frames: [HTTP2Frame] = []
    let size = chunk == 0 ? max(bytes.count, 1) : chunk
    for offset in stride(from: 0, to: bytes.count, by: size) {
        parser.append(bytes[offset..<min(offset + size, bytes.count)])
        while let frame = try parser.next() { frames.append(frame) }
    }
    #expect(parser.pendingBytes == 0)
    return frames
}

/// The error parsing `bytes` throws.
private func parseError(_ bytes: [UInt8], maxFrameSize: Int = 16_384) -> HTTP2Error? {
    var parser = HTTP2FrameParser(maxFrameSize: maxFrameSize)
    parser.append(bytes)
    do {
        while try parser.next() != nil {}
        return nil
    } catch {
        return error
    }
}

@Suite("HTTP2Frame: frames on the wire (RFC 9113 §4.1, §6)")
struct HTTP2FrameTests {
    /// One frame of each type, as the wire has it and as a value.
    static let examples: [(bytes: [UInt8], frame: HTTP2Frame)] = [
        (header(5, 0x0, 0x1, 1) + Array("hello".utf8),
         HTTP2Frame(streamID: 1, payload: .data(Array("hello".utf8), endStream: true))),
        (header(9, 0x0, 0x8, 3) + [3] + Array("hello".utf8) + [0, 0, 0],
         HTTP2Frame(streamID: 3, payload: .data(Array("hello".utf8), endStream: false, padding: 3))),
        (header(4, 0x1, 0x5, 1) + [0x82, 0x86, 0x84, 0x41],
         HTTP2Frame(streamID: 1, payload: .headers(fieldBlock: [0x82, 0x86, 0x84, 0x41], endStream: true, endHeaders: true))),
        (header(2 + 5 + 1 + 1, 0x1, 0x2C, 5) + [1, 0x80, 0, 0, 3, 200, 0x82, 0x87, 0],
         HTTP2Frame(streamID: 5, payload: .headers(fieldBlock: [0x82, 0x87], endStream: false, endHeaders: true,
                                                   priority: HTTP2Priority(exclusive: true, dependency: 3, weight: 200), padding: 1))),
        (header(5, 0x2, 0, 7) + [0, 0, 0, 5, 15],
         HTTP2Frame(streamID: 7, payload: .priority(HTTP2Priority(dependency: 5, weight: 15)))),
        (header(4, 0x3, 0, 1) + [0, 0, 0, 8],
         HTTP2Frame(streamID: 1, payload: .rstStream(.cancel))),
        (header(12, 0x4, 0, 0) + [0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0],
         HTTP2Frame(streamID: 0, payload: .settings([HTTP2Setting(.maxConcurrentStreams, 100), HTTP2Setting(.initialWindowSize, 65_536)]))),
        (header(0, 0x4, 0x1, 0),
         HTTP2Frame(streamID: 0, payload: .settings([], ack: true))),
        (header(7, 0x5, 0x4, 1) + [0, 0, 0, 2, 0x82, 0x87, 0x85],
         HTTP2Frame(streamID: 1, payload: .pushPromise(promisedStreamID: 2, fieldBlock: [0x82, 0x87, 0x85], endHeaders: true))),
        (header(8, 0x6, 0, 0) + [1, 2, 3, 4, 5, 6, 7, 8],
         HTTP2Frame(streamID: 0, payload: .ping([1, 2, 3, 4, 5, 6, 7, 8]))),
        (header(8, 0x6, 0x1, 0) + [1, 2, 3, 4, 5, 6, 7, 8],
         HTTP2Frame(streamID: 0, payload: .ping([1, 2, 3, 4, 5, 6, 7, 8], ack: true))),
        (header(12, 0x7, 0, 0) + [0, 0, 0, 9, 0, 0, 0, 1] + Array("oops".utf8),
         HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: 9, errorCode: .protocolError, debugData: Array("oops".utf8)))),
        (header(4, 0x8, 0, 0) + [0, 0, 0x10, 0],
         HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 4096))),
        (header(2, 0x9, 0x4, 1) + [0xBE, 0x58],
         HTTP2Frame(streamID: 1, payload: .continuation(fieldBlock: [0xBE, 0x58], endHeaders: true))),
        (header(3, 0xFA, 0x33, 0) + [9, 9, 9],
         HTTP2Frame(streamID: 0, payload: .unknown(type: 0xFA, flags: 0x33, payload: [9, 9, 9]))),
    ]

    @Test func everyTypeEncodesToItsBytes() {
        for (bytes, frame) in Self.examples {
            #expect(frame.encoded() == bytes, "\(frame.type)")
        }
    }

    @Test(arguments: [0, 1, 2, 7, 9, 10, 64])
    func everyTypeParsesWhateverTheSplits(chunk: Int) throws {
        let stream = Self.examples.flatMap(\.bytes)
        #expect(try parse(stream, chunk: chunk) == Self.examples.map(\.frame))
    }

    @Test func oneByteAtATimeWaitsForTheWholeFrame() throws {
        var parser = HTTP2FrameParser()
        let bytes = Self.examples[0].bytes
        for byte in bytes.dropLast() {
            parser.append([byte])
            #expect(try parser.next() == nil)
        }
        parser.append([bytes.last!])
        #expect(try parser.next() == Self.examples[0].frame)
        #expect(try parser.next() == nil)
    }


    @Test("a HEADERS or CONTINUATION frame's field block is the received bytes, not a copy")
    func fieldBlockIsASliceOfTheInput() throws {
        var parser = HTTP2FrameParser()
        let ping = HTTP2Frame(streamID: 0, payload: .ping([1, 2, 3, 4, 5, 6, 7, 8])).encoded()
        let headers = HTTP2Frame(streamID: 1, payload: .headers(fieldBlock: [0x82, 0x86, 0x84], endStream: true, endHeaders: false)).encoded()
        let continuation = HTTP2Frame(streamID: 1, payload: .continuation(fieldBlock: [0xBE], endHeaders: true)).encoded()
        parser.append(ping + headers + continuation)
        _ = try parser.next()
        guard case .headers(let block, _, _, _, _)? = try parser.next()?.payload,
              case .continuation(let rest, _)? = try parser.next()?.payload else {
            Issue.record("HEADERS and CONTINUATION expected")
            return
        }
        // Their places in what was received: after the PING (9 + 8 octets) and each frame's 9-octet header.
        #expect(block.startIndex == 17 + 9 && Array(block) == [0x82, 0x86, 0x84])
        #expect(rest.startIndex == 17 + 9 + 3 + 9 && Array(rest) == [0xBE])
    }
    @Test func reservedBitIsIgnoredOnReceiptAndNeverSent() throws {
        let frames = try parse(header(4, 0x8, 0, 0x8000_0003) + [0x80, 0, 0, 1])
        #expect(frames == [HTTP2Frame(streamID: 3, payload: .windowUpdate(increment: 1))])
        #expect(HTTP2Frame(streamID: 0x8000_0003, payload: .windowUpdate(increment: 0x8000_0001)).encoded()
                == header(4, 0x8, 0, 3) + [0, 0, 0, 1])
    }

    @Test func flowControlCountsPadding() throws {
        let frame = try parse(Self.examples[1].bytes)[0]
        #expect(frame.payload.flowControlledLength == 9)
        #expect(Self.examples[0].frame.payload.flowControlledLength == 5)
    }

    @Test func frameSizeLimit() throws {
        let big = HTTP2Frame(streamID: 1, payload: .data([UInt8](repeating: 1, count: 16_385), endStream: false)).encoded()
        // The header alone is enough to refuse it.
        let error = parseError(Array(big.prefix(9)))
        #expect(error?.code == .frameSizeError && error?.scope == .connection)
        #expect(try parse(big, maxFrameSize: 16_385).count == 1)
        let exact = HTTP2Frame(streamID: 1, payload: .data([UInt8](repeating: 1, count: 16_384), endStream: false)).encoded()
        #expect(try parse(exact).count == 1)
    }

    @Test func paddingAsLongAsThePayloadIsRefused() {
        // Pad Length 5 in a payload of 5 (the octet itself plus 4).
        for type: UInt8 in [0x0, 0x1, 0x5] {
            let error = parseError(header(5, type, 0x8, 1) + [5, 0, 0, 0, 0])
            #expect(error?.code == .protocolError && error?.scope == .connection, "type \(type)")
        }
        #expect(parseError(header(0, 0x0, 0x8, 1))?.code == .frameSizeError)
        // 4 octets of padding in 5 is fine: empty data.
        #expect((try? parse(header(5, 0x0, 0x8, 1) + [4, 0, 0, 0, 0]))?.first?.payload == .data([], endStream: false, padding: 4))
    }

    @Test func streamZeroAndConnectionFrames() {
        for type: UInt8 in [0x0, 0x1, 0x2, 0x3, 0x5, 0x9] {
            let length = type == 0x2 ? 5 : 4
            let error = parseError(header(length, type, 0x4, 0) + [UInt8](repeating: 0, count: length))
            #expect(error?.code == .protocolError && error?.scope == .connection, "type \(type)")
        }
        #expect(parseError(header(0, 0x4, 0, 1))?.code == .protocolError)
        #expect(parseError(header(8, 0x6, 0, 1) + [UInt8](repeating: 0, count: 8))?.code == .protocolError)
        #expect(parseError(header(8, 0x7, 0, 1) + [UInt8](repeating: 0, count: 8))?.code == .protocolError)
    }

    @Test func wrongLengths() {
        #expect(parseError(header(4, 0x2, 0, 1) + [0, 0, 0, 0]) == .stream(1, .frameSizeError, "a PRIORITY frame of 4 octets (5 expected)"))
        #expect(parseError(header(3, 0x3, 0, 1) + [0, 0, 0])?.code == .frameSizeError)
        #expect(parseError(header(7, 0x6, 0, 0) + [UInt8](repeating: 0, count: 7))?.code == .frameSizeError)
        #expect(parseError(header(7, 0x7, 0, 0) + [UInt8](repeating: 0, count: 7))?.code == .frameSizeError)
        #expect(parseError(header(5, 0x8, 0, 0) + [0, 0, 0, 1, 0])?.code == .frameSizeError)
        #expect(parseError(header(3, 0x5, 0x4, 1) + [0, 0, 2])?.code == .frameSizeError)
        #expect(parseError(header(4, 0x1, 0x24, 1) + [0, 0, 0, 1])?.code == .frameSizeError)
    }

    @Test func settingsValidation() throws {
        func settings(_ id: UInt16, _ value: UInt32) -> [UInt8] {
            header(6, 0x4, 0, 0) + [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        #expect(try parse(settings(2, 0) + settings(2, 1)).count == 2)
        #expect(parseError(settings(2, 2))?.code == .protocolError)
        #expect(try parse(settings(4, 0x7FFF_FFFF)).count == 1)
        #expect(parseError(settings(4, 0x8000_0000)) == .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE = 2147483648, over 2^31-1"))
        #expect(try parse(settings(5, 16_384) + settings(5, 16_777_215)).count == 2)
        #expect(parseError(settings(5, 16_383))?.code == .protocolError)
        #expect(parseError(settings(5, 16_777_216))?.code == .protocolError)
        // Unknown identifiers are kept, to be ignored.
        #expect(try parse(settings(0x99, 7)).first?.payload == .settings([HTTP2Setting(HTTP2SettingID(rawValue: 0x99), 7)]))
        #expect(parseError(header(6, 0x4, 0x1, 0) + [0, 1, 0, 0, 0, 0]) ==
                .connection(.frameSizeError, "a SETTINGS acknowledgement with 6 octets of payload (none expected)"))
        #expect(parseError(header(5, 0x4, 0, 0) + [0, 1, 0, 0, 0])?.code == .frameSizeError)
    }

    @Test func windowUpdateOfZero() {
        #expect(parseError(header(4, 0x8, 0, 0) + [0, 0, 0, 0]) == .connection(.protocolError, "a WINDOW_UPDATE with an increment of 0"))
        #expect(parseError(header(4, 0x8, 0, 5) + [0x80, 0, 0, 0]) == .stream(5, .protocolError, "a WINDOW_UPDATE with an increment of 0"))
    }

    @Test func aStreamErrorConsumesItsFrameAndParsingGoesOn() throws {
        var parser = HTTP2FrameParser()
        parser.append(header(4, 0x8, 0, 5) + [0, 0, 0, 0] + Self.examples[0].bytes)
        #expect(throws: HTTP2Error.self) { try parser.next() }
        #expect(try parser.next() == Self.examples[0].frame)
    }

    @Test func errorsDescribeThemselves() {
        #expect(HTTP2Error.stream(5, .protocolError, "x").description == "stream error on stream 5, PROTOCOL_ERROR: x")
        #expect(HTTP2ErrorCode(rawValue: 0x42).description == "unknown error code 0x42")
        #expect("\(HTTP2FrameType.goAway)" == "GOAWAY")
    }
}
