import CZlib

/// The permessage-deflate extension (RFC 7692): each message's payload is compressed with DEFLATE, the
/// first frame marked with RSV1. Browsers offer it on every connection; text compresses 3–10×.
public enum PerMessageDeflate {
    /// What the two sides agreed on (§7.1).
    public struct Parameters: Sendable, Hashable {
        /// The server resets its compressor after each message (the client asked it to keep no context).
        public var serverNoContextTakeover = false
        /// The client said it will reset its compressor after each message.
        public var clientNoContextTakeover = false
        /// The window the server compresses with (2^bits bytes); the client may have asked for less than 15.
        public var serverMaxWindowBits: Int?
        /// The client's window bits, when the client named them (our inflater handles any window).
        public var clientMaxWindowBits: Int?

        public init() {}

        /// The `Sec-WebSocket-Extensions` value of the 101 that accepts these parameters.
        public var responseValue: String {
            var parts = ["permessage-deflate"]
            if serverNoContextTakeover { parts.append("server_no_context_takeover") }
            if clientNoContextTakeover { parts.append("client_no_context_takeover") }
            if let bits = serverMaxWindowBits { parts.append("server_max_window_bits=\(bits)") }
            return parts.joined(separator: "; ")
        }
    }

    /// Picks the first offer in `Sec-WebSocket-Extensions` values that the server can accept, or nil.
    /// An offer with an unknown or repeated parameter, or a value out of range, is declined (§7.1).
    public static func negotiate(_ headerValues: [String]) -> Parameters? {
        for offer in headerValues.flatMap({ splitOutsideQuotes($0, ",") }) {
            let parts = splitOutsideQuotes(offer, ";").map { $0.trimmingASCIIWhitespace() }
            guard let name = parts.first, ASCII.caseInsensitiveEquals(name, "permessage-deflate") else { continue }
            if let parameters = accept(parts.dropFirst()) { return parameters }
        }
        return nil
    }

    private static func accept(_ parameters: ArraySlice<String>) -> Parameters? {
        var result = Parameters()
        var seen = Set<String>()
        for parameter in parameters {
            let pieces = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingASCIIWhitespace() }
            let name = pieces[0].lowercased()
            var value = pieces.count > 1 ? pieces[1] : nil
            if let quoted = value, quoted.count >= 2, quoted.hasPrefix("\""), quoted.hasSuffix("\"") {
                value = String(quoted.dropFirst().dropLast())
            }
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                result.serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                result.clientNoContextTakeover = true
            case "server_max_window_bits":
                // zlib cannot compress raw DEFLATE with a 256-byte window (it would silently use 512, which a
                // client that asked for 8 could not decode): an offer of 8 is declined, the next one tried.
                guard let text = value, let bits = Int(text), (9...15).contains(bits), text.utf8.allSatisfy(ASCII.isDigit) else { return nil }
                result.serverMaxWindowBits = bits
            case "client_max_window_bits":
                if let text = value {
                    guard let bits = Int(text), (8...15).contains(bits), text.utf8.allSatisfy(ASCII.isDigit) else { return nil }
                    result.clientMaxWindowBits = bits
                }
            default:
                return nil
            }
        }
        return result
    }

    private static func splitOutsideQuotes(_ text: String, _ separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == separator && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
    }

    /// The four bytes every message's compressed data would end with after a sync flush; the sender
    /// leaves them out and the receiver puts them back (§7.2.1, §7.2.2).
    static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
}

extension PerMessageDeflate {
    /// Inflates one direction's messages, one whole message at a time, for display (the wire dump): the
    /// compressed payload of a message (all its frames) with the 00 00 ff ff tail put back (§7.2.2). The
    /// window carries over from message to message unless `reset()` is called (no_context_takeover).
    public final class Inflater: @unchecked Sendable {
        private let stream: ZlibStream

        public init() throws(WebSocketError) {
            stream = try ZlibStream(compressing: false, windowBits: 15)
        }

        /// The message's payload inflated, at most `limit` bytes; after an error the window starts afresh.
        public func inflate(_ message: [UInt8], limit: Int = 16 << 20) throws(WebSocketError) -> [UInt8] {
            do {
                return try stream.process(message + PerMessageDeflate.tail, limit: limit)
            } catch {
                stream.reset()
                throw error
            }
        }

        public func reset() { stream.reset() }
    }
}

/// A zlib stream kept at a stable address (zlib keeps a pointer back to it).
final class ZlibStream: @unchecked Sendable {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    let compressing: Bool

    init(compressing: Bool, windowBits: Int32) throws(WebSocketError) {
        self.compressing = compressing
        stream.initialize(to: z_stream())
        let status = compressing ? httpkit_deflateInit2(stream, Z_DEFAULT_COMPRESSION, -windowBits)
                                 : httpkit_inflateInit2(stream, -windowBits)
        guard status == Z_OK else {
            stream.deallocate()
            throw WebSocketError(1011, "zlib could not start (status \(status))")
        }
    }

    deinit {
        if compressing { deflateEnd(stream) } else { inflateEnd(stream) }
        stream.deallocate()
    }

    func reset() {
        if compressing { deflateReset(stream) } else { inflateReset(stream) }
    }

    /// Runs deflate (with a sync flush) or inflate over `input`, producing at most `limit` bytes.
    func process(_ input: [UInt8], limit: Int) throws(WebSocketError) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        var status: Int32 = Z_OK
        var overLimit = false
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    status = compressing ? deflate(stream, Z_SYNC_FLUSH) : inflate(stream, Z_SYNC_FLUSH)
                    output.append(contentsOf: outBuf[0..<(outBuf.count - Int(stream.pointee.avail_out))])
                }
                if output.count > limit { overLimit = true; break }
            } while status == Z_OK && (stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0)
        }
        if overLimit { throw WebSocketError(1009, "the message inflates to more than \(limit) bytes") }
        guard status == Z_OK || status == Z_BUF_ERROR || status == Z_STREAM_END else {
            throw WebSocketError(1007, "the compressed message is not valid DEFLATE data (zlib status \(status))")
        }
        return output
    }
}

/// One connection's compressor and decompressor, under the negotiated parameters.
final class DeflateContext: @unchecked Sendable {
    let parameters: PerMessageDeflate.Parameters
    private let compressor: ZlibStream
    private let decompressor: ZlibStream

    init(_ parameters: PerMessageDeflate.Parameters) throws(WebSocketError) {
        self.parameters = parameters
        compressor = try ZlibStream(compressing: true, windowBits: Int32(parameters.serverMaxWindowBits ?? 15))
        decompressor = try ZlibStream(compressing: false, windowBits: 15)
    }

    func compress(_ payload: [UInt8]) throws(WebSocketError) -> [UInt8] {
        var out = try compressor.process(payload, limit: Int.max)
        if out.suffix(4) == PerMessageDeflate.tail[...] { out.removeLast(4) }
        if out.isEmpty { out = [0x00] } // an empty message is one empty stored block, minus the tail (§7.2.3.6)
        if parameters.serverNoContextTakeover { compressor.reset() }
        return out
    }

    func decompress(_ payload: [UInt8], limit: Int) throws(WebSocketError) -> [UInt8] {
        let out = try decompressor.process(payload + PerMessageDeflate.tail, limit: limit)
        if parameters.clientNoContextTakeover { decompressor.reset() }
        return out
    }
}
