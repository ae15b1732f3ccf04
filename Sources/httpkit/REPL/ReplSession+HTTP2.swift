import Foundation
import HTTPCore
import Sockets

/// The REPL's HTTP/2 mode: `:h2` opens a connection that speaks HTTP/2 from its first byte — with prior
/// knowledge on plain TCP (RFC 9113 §3.3), or over TLS with ALPN `h2` after `:tls` — and sends the
/// connection preface and a SETTINGS frame. Then each request typed as usual (`get /path`, or a request
/// line and headers) goes out as a HEADERS frame (and DATA for a body) on the next odd stream of the same
/// connection. Every frame both ways is dumped field by field, header blocks decoded with one HPACK table
/// per direction (`WireHTTP2Context`). The REPL does a client's chores and shows them: it acknowledges the
/// server's SETTINGS, answers PING, and gives flow-control credit back with WINDOW_UPDATE.
struct ReplHTTP2 {
    /// The HPACK tables and settings of both directions, for the dumps.
    var context = WireHTTP2Context()
    /// Our side's HPACK encoder: its table must stay in step with the server's decoder.
    var encoder = HPACKEncoder()
    /// The server's frames, cut from the byte stream.
    var parser = HTTP2FrameParser(maxFrameSize: ReplHTTP2.maxFrameSize)
    var nextStreamID: UInt32 = 1
    /// The server's SETTINGS_MAX_FRAME_SIZE: our frames stay within it.
    var peerMaxFrameSize = 16_384
    /// DATA received since the last WINDOW_UPDATE, on the connection and per stream.
    var unacknowledged = 0
    var unacknowledgedByStream: [UInt32: Int] = [:]
    /// The server sent GOAWAY: no new streams on this connection.
    var goingAway = false

    /// What we announce: no server push, and the frame size and window every client starts with.
    static let settings = [HTTP2Setting(.enablePush, 0), HTTP2Setting(.maxConcurrentStreams, 100)]
    static let maxFrameSize = 16_384
    /// WINDOW_UPDATE once this much DATA arrived: half of the initial 65,535-octet window.
    static let creditThreshold = 32_768
}

extension ReplSession {
    /// `:h2 [on|off]`, and `:ping`/`:goaway` in HTTP/2 mode; false when `name` is another command.
    func http2Command(_ name: String, _ argument: String) -> Bool {
        switch name {
        case ":h2":
            switch argument {
            case "", "on":
                openHTTP2()
            case "off":
                guard http2 != nil else {
                    output.line("-- not in HTTP/2 mode")
                    return true
                }
                closeConnection(note: "we closed it to leave HTTP/2")
            default:
                output.line("!! :h2 [on|off] (then get /path sends a request on a new stream; :tls first for h2 over TLS)")
            }
        case ":ping" where http2 != nil:
            var data = Array(argument.utf8.prefix(8))
            data += [UInt8](repeating: 0, count: 8 - data.count)
            sendHTTP2Frames([HTTP2Frame(streamID: 0, payload: .ping(data))], what: "PING")
        case ":goaway" where http2 != nil:
            // The last stream *the server* opened that we processed: none, since a server never pushes to us.
            sendHTTP2Frames([HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: 0, errorCode: .noError, debugData: Array("bye".utf8)))],
                            what: "GOAWAY: we are done with this connection")
        default:
            return false
        }
        return true
    }

    // MARK: - The connection preface

    /// A fresh connection in HTTP/2 from the first byte: preface and SETTINGS out, the server's SETTINGS in.
    private func openHTTP2() {
        closeConnection(note: connection == nil ? nil : "we closed it to start HTTP/2")
        do {
            let socket = try Socket.connect(host: settings.host, port: settings.port)
            try socket.setNoDelay()
            var stream: any ClientStream = socket
            if settings.tls {
                guard let transport = startTLS(socket, offerHTTP2: true) else { return }
                guard transport.summary.alpn == "h2" else {
                    transport.close()
                    output.line("!! the server chose ALPN \(transport.summary.alpn.isEmpty ? "nothing" : transport.summary.alpn), not h2: it does not speak HTTP/2 over TLS (httpkit http2 --tls-self-signed does)")
                    return
                }
                stream = transport
            }
            connection = stream
            connectionNumber += 1
            requestsOnConnection = 0
        } catch {
            output.line("!! cannot connect to \(address): \(error). Is an HTTP/2 server running there? (httpkit http2 --port \(settings.port))")
            return
        }
        http2 = ReplHTTP2()
        output.line("== connected to \(address) (connection #\(connectionNumber)) for HTTP/2 \(settings.tls ? "over TLS (ALPN h2)" : "with prior knowledge (h2c, RFC 9113 §3.3)")")
        let preface = HTTP2Connection.clientPreface + HTTP2Frame(streamID: 0, payload: .settings(ReplHTTP2.settings)).encoded()
        guard sendHTTP2(preface, what: "the connection preface and our SETTINGS") else { return }
        receiveHTTP2(waitingFor: [])
        if http2 != nil {
            output.line("-- HTTP/2 mode: get /path (or a request line and headers) goes out on a new stream; :ping [TEXT], :goaway, :h2 off")
        }
    }

    // MARK: - Requests as frames

    /// An HTTP/1.1 request as the REPL built it, sent as HTTP/2: the request line and Host become the pseudo-
    /// header fields (§8.3.1), the other names are lowercased (§8.2.1), connection-specific fields are left
    /// out (§8.2.2), and the body goes in DATA frames.
    func sendHTTP2Request(_ bytes: [UInt8]) {
        guard var state = http2 else { return }
        var parser = RequestParser()
        parser.append(bytes)
        let request: HTTPRequest
        do {
            guard let parsed = try parser.next() else {
                output.line("!! the request is not complete")
                return
            }
            request = parsed
        } catch {
            output.line("!! \(error.reason)")
            return
        }
        guard !state.goingAway else {
            output.line("!! the server sent GOAWAY: no new streams on this connection (:h2 opens a new one)")
            return
        }
        let id = state.nextStreamID
        state.nextStreamID += 2
        var fields = [HPACKHeaderField(":method", request.method.rawValue), HPACKHeaderField(":scheme", settings.tls ? "https" : "http"),
                      HPACKHeaderField(":authority", request.host ?? address), HPACKHeaderField(":path", request.target)]
        let connectionSpecific: Set<String> = ["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]
        for field in request.headers where !connectionSpecific.contains(field.name.lowercased()) {
            fields.append(HPACKHeaderField(field.name.lowercased(), field.value))
        }
        let block = state.encoder.encode(fields)
        var frames: [HTTP2Frame] = []
        let body = request.body
        // A block larger than a frame continues in CONTINUATION frames (§6.10).
        var chunks = stride(from: 0, to: max(block.count, 1), by: state.peerMaxFrameSize).map { block[$0..<min($0 + state.peerMaxFrameSize, block.count)] }
        if chunks.isEmpty { chunks = [[]] }
        frames.append(HTTP2Frame(streamID: id, payload: .headers(fieldBlock: chunks[0], endStream: body.isEmpty, endHeaders: chunks.count == 1)))
        for (index, chunk) in chunks.enumerated().dropFirst() {
            frames.append(HTTP2Frame(streamID: id, payload: .continuation(fieldBlock: chunk, endHeaders: index == chunks.count - 1)))
        }
        var offset = 0
        while offset < body.count {
            let end = min(body.count, offset + state.peerMaxFrameSize)
            frames.append(HTTP2Frame(streamID: id, payload: .data(Array(body[offset..<end]), endStream: end == body.count)))
            offset = end
        }
        http2 = state
        requestsOnConnection += 1
        let bytes = frames.flatMap { $0.encoded() }
        guard sendHTTP2(bytes, what: "request \(requestsOnConnection) on stream \(id)") else { return }
        receiveHTTP2(waitingFor: [id])
    }

    /// Raw bytes in HTTP/2 mode (`:raw`, escapes decoded): sent as they are, dumped as frames, so a learner
    /// can send a frame the REPL would never make and watch the server's answer.
    func sendHTTP2Raw(_ bytes: [UInt8]) {
        guard sendHTTP2(bytes, what: "raw bytes") else { return }
        receiveHTTP2(waitingFor: [])
    }

    /// Frames the REPL makes itself (PING, GOAWAY); then whatever comes back.
    private func sendHTTP2Frames(_ frames: [HTTP2Frame], what: String) {
        guard sendHTTP2(frames.flatMap { $0.encoded() }, what: what) else { return }
        receiveHTTP2(waitingFor: [])
    }

    /// Dumps `bytes` as our frames and writes them; false (after saying why) when the connection is gone.
    @discardableResult
    private func sendHTTP2(_ bytes: [UInt8], what: String) -> Bool {
        guard let socket = connection, var state = http2 else {
            output.line("!! the connection is gone: :h2 opens a new one")
            http2 = nil
            return false
        }
        output.line(">> sent \(bytes.count) bytes to \(address) (connection #\(connectionNumber), \(what))")
        output.dump(WireAnalysis(http2Frames: bytes, from: .client, context: &state.context), settings: settings)
        http2 = state
        do {
            try write(bytes, to: socket)
            return true
        } catch {
            output.line("!! \(error): the server closed the connection")
            closeConnection(note: nil)
            return false
        }
    }

    // MARK: - The server's frames

    /// Reads the server's frames until the streams in `streams` have ended (or, with none, until whole
    /// frames are in and nothing more follows for a moment), the server closes, or the timeout passes. Dumps
    /// them as they come, and answers what a client must answer: SETTINGS with an ACK (§6.5.3), PING with a
    /// PING ACK (§6.7), DATA with WINDOW_UPDATE once half a window has arrived (§6.9).
    private func receiveHTTP2(waitingFor streams: Set<UInt32>) {
        guard let socket = connection else { return }
        var waiting = streams
        var unshown: [UInt8] = []
        var reads = 0
        var closedByServer = false, timedOut = false, failed = false
        let started = Processes.monotonicSeconds()
        let deadline = started + settings.timeout
        reading: while true {
            let whole = !unshown.isEmpty && (http2?.parser.pendingBytes ?? 0) == 0
            // With nothing to wait for, or once every stream ended: only a moment for frames that follow.
            let quiet = waiting.isEmpty && (whole || reads > 0 || streams.isEmpty)
            let wait = quiet ? min(0.2, deadline - Processes.monotonicSeconds()) : deadline - Processes.monotonicSeconds()
            guard wait > 0, waitReadable(socket, milliseconds: Int32(wait * 1000)) else {
                timedOut = !waiting.isEmpty
                break
            }
            guard let bytes = readChunk(socket) else { continue } // TLS: no whole record yet
            guard !bytes.isEmpty else {
                closedByServer = true
                break
            }
            reads += 1
            unshown += bytes
            guard var state = http2 else { break }
            state.parser.append(bytes)
            var replies: [HTTP2Frame] = []
            do {
                while let frame = try state.parser.next() {
                    switch frame.payload {
                    case .settings(let values, ack: false):
                        for value in values where value.identifier == .maxFrameSize { state.peerMaxFrameSize = Int(value.value) }
                        replies.append(HTTP2Frame(streamID: 0, payload: .settings([], ack: true)))
                    case .ping(let data, ack: false):
                        replies.append(HTTP2Frame(streamID: 0, payload: .ping(data, ack: true)))
                    case .data(_, let endStream, _):
                        let length = frame.payload.flowControlledLength
                        state.unacknowledged += length
                        state.unacknowledgedByStream[frame.streamID, default: 0] += length
                        if endStream { waiting.remove(frame.streamID) }
                    case .headers(_, let endStream, _, _, _):
                        if endStream { waiting.remove(frame.streamID) }
                    case .rstStream:
                        waiting.remove(frame.streamID)
                    case .goAway(let last, _, _):
                        state.goingAway = true
                        waiting = waiting.filter { $0 <= last }
                    default:
                        break
                    }
                }
            } catch {
                output.line("!! the server's frames do not parse: \(error)")
                failed = true
            }
            // Flow-control credit for what was read, once half a window is used (§6.9).
            if state.unacknowledged >= ReplHTTP2.creditThreshold {
                replies.append(HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: UInt32(state.unacknowledged))))
                state.unacknowledged = 0
            }
            for (id, count) in state.unacknowledgedByStream where count >= ReplHTTP2.creditThreshold && waiting.contains(id) {
                replies.append(HTTP2Frame(streamID: id, payload: .windowUpdate(increment: UInt32(count))))
                state.unacknowledgedByStream[id] = 0
            }
            http2 = state
            if !replies.isEmpty || failed {
                // Show what came so far (whole frames), then our answers, in the order they happened.
                showReceived(&unshown, started: started, reads: reads)
                if !replies.isEmpty {
                    let what = replies.map { Self.replyName($0) }.joined(separator: ", ")
                    guard sendHTTP2(replies.flatMap { $0.encoded() }, what: what) else { return }
                }
            }
            if failed { break reading }
            if Interrupts.take() {
                output.line("^C -- stopped waiting")
                break
            }
        }
        showReceived(&unshown, started: started, reads: reads, final: true)
        if reads == 0 {
            output.line(timedOut || !waiting.isEmpty ? "<< nothing received within \(settings.timeout) s" : "<< nothing more received")
        }
        if timedOut && !waiting.isEmpty {
            output.line("-- stream\(waiting.count == 1 ? "" : "s") \(waiting.sorted().map(String.init).joined(separator: ", ")) not finished within \(settings.timeout) s (:timeout changes the wait)")
        }
        if closedByServer || failed {
            closeConnection(note: failed ? "we closed it: the frames do not parse" : "the server closed it")
        } else if http2?.goingAway == true {
            output.line("-- the server sent GOAWAY: finished streams stay finished, new requests need a new connection (:h2)")
        }
    }

    /// Dumps the whole frames received and not shown yet; with `final`, also a part of a frame.
    private func showReceived(_ unshown: inout [UInt8], started: Double, reads: Int, final: Bool = false) {
        guard var state = http2 ?? (final ? ReplHTTP2() : nil) else { return }
        let count = final ? unshown.count : unshown.count - state.parser.pendingBytes
        guard count > 0 else { return }
        let bytes = Array(unshown.prefix(count))
        unshown.removeFirst(count)
        let elapsed = (Processes.monotonicSeconds() - started) * 1000
        let timing = settings.showTiming ? " in \(String(format: "%.1f", elapsed)) ms (\(reads) read\(reads == 1 ? "" : "s"))" : ""
        output.line("<< received \(bytes.count) bytes from \(address)\(timing)")
        output.dump(WireAnalysis(http2Frames: bytes, from: .server, context: &state.context), settings: settings)
        if http2 != nil { http2 = state }
    }

    private static func replyName(_ frame: HTTP2Frame) -> String {
        switch frame.payload {
        case .settings: return "SETTINGS ACK (§6.5.3)"
        case .ping: return "PING ACK (§6.7)"
        case .windowUpdate(let increment): return "WINDOW_UPDATE +\(increment) on \(frame.streamID == 0 ? "the connection" : "stream \(frame.streamID)")"
        default: return frame.type.description
        }
    }
}
