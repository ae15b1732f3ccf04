import Foundation
import HTTPCore
import Sockets

/// The REPL: type a request (or a shorthand, or raw bytes), see exactly what went out and what came back.
///
/// It keeps one connection open as a browser would, and says on screen when it connects, when it reuses
/// the connection (keep-alive), and when the server closed it.
final class ReplSession {
    struct Settings {
        var host = "127.0.0.1"
        var port: UInt16 = 8080
        var density = WireDumpRenderer.Density.full
        var ascii = false
        var color = false
        var timeout = 3.0
        var showTiming = true
        /// Connect with TLS (`--tls`, `:tls`): requests and dumps are the HTTP inside it (ReplSession+TLS.swift).
        var tls = false
        /// The host as typed (`localhost`), sent as SNI; `host` is what we connect to.
        var serverName = "127.0.0.1"
        /// A PEM file of certificates to trust besides the system's (`--tls-ca`), such as a self-signed cert.pem.
        var caFile: String?
    }

    static let commands = [":help", ":connect", ":close", ":raw", ":body", ":pipeline", ":slow", ":dump", ":ascii",
                           ":timeout", ":save", ":status", ":quit", ":ws", ":ping", ":frame", ":tls", ":h2", ":goaway"]

    var settings: Settings
    private let input: LineSource
    let output: ReplOutput
    /// A Socket, or a TLSClientTransport after `:tls` (ClientStream.swift): the same calls either way.
    var connection: (any ClientStream)?
    var connectionNumber = 0
    var requestsOnConnection = 0
    /// Set after `:ws PATH` got its 101: typed lines become frames (ReplSession+WebSocket.swift).
    var webSocket: ReplWebSocket?
    /// Set after `:h2`: requests go out as frames on new streams of one connection (ReplSession+HTTP2.swift).
    var http2: ReplHTTP2?
    private var raw = false
    private var rawPending: [UInt8] = []
    private var attachedBody: [UInt8]?
    private var pipelineSize = 0
    private var pipelineBatch: [(bytes: [UInt8], method: String)] = []
    private var slow: (bytes: Int, milliseconds: Int)?
    private var typedLines: [String]?
    private var quitting = false

    init(settings: Settings, input: LineSource, output: ReplOutput) {
        self.settings = settings
        self.input = input
        self.output = output
    }

    var address: String { "\(settings.host):\(settings.port)" }

    // MARK: - The loop

    func run() {
        output.line("httpkit repl: requests go to \(address)\(settings.tls ? " over TLS" : ""). Type a request, get /path, or :help. Ctrl-D leaves.")
        while !quitting {
            let prompt = typedLines != nil ? "...> " : webSocket != nil ? "ws> " : http2 != nil ? "h2> " : raw ? "raw> " : "httpkit> "
            switch input.readLine(prompt: prompt) {
            case .end:
                if typedLines != nil { output.line("-- the request being typed was abandoned (end of input)") }
                quitting = true
            case .interrupted:
                if typedLines != nil {
                    typedLines = nil
                    output.line("^C -- the request being typed was abandoned")
                } else {
                    output.line("^C (Ctrl-D or :quit leaves)")
                }
            case .line(let line):
                if !input.isInteractive { output.line("» " + line) }
                handle(line)
            }
        }
        connection?.close()
        input.close()
        output.close()
    }

    func handle(_ line: String) {
        if var lines = typedLines {
            if line.isEmpty {
                typedLines = nil
                let host = lines.dropFirst().first { $0.lowercased().hasPrefix("host:") } == nil ? address : ""
                let body = attachedBody
                attachedBody = nil
                send(ReplInput.buildRequest(lines: lines, host: host.isEmpty ? address : host, body: body),
                     method: String(lines[0].prefix { $0 != " " }))
            } else {
                lines.append(line)
                typedLines = lines
            }
            return
        }
        if line.hasPrefix(":") {
            command(line)
        } else if webSocket != nil {
            if !line.isEmpty { sendWebSocketText(line) }
        } else if raw {
            do {
                sendRaw(try ReplInput.decodeEscapes(line))
            } catch {
                output.line("!! \(error.reason)")
            }
        } else if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") {
            return
        } else if let shorthand = ReplInput.shorthand(line) {
            let body = shorthand.body ?? attachedBody
            attachedBody = nil
            send(ReplInput.buildShorthand(method: shorthand.method, target: shorthand.target, host: address, body: body),
                 method: shorthand.method)
        } else if ReplInput.startsRequest(line) {
            typedLines = [line]
        } else {
            output.line("!! '\(line)' is neither a request line (GET /path HTTP/1.1), a shorthand (get /path) nor a command (:help)")
        }
    }

    // MARK: - Commands

    func command(_ line: String) {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        if http2Command(parts[0], argument) || webSocketCommand(parts[0], argument) || tlsCommand(parts[0], argument) { return }
        switch parts[0] {
        case ":help", ":h", ":?":
            help()
        case ":quit", ":q", ":exit":
            quitting = true
        case ":connect":
            if !argument.isEmpty {
                guard let target = ReplTarget(argument) else {
                    output.line("!! :connect needs HOST:PORT, such as :connect 127.0.0.1:8080")
                    return
                }
                settings.host = target.host
                settings.serverName = target.name
                settings.port = target.port
            }
            closeConnection(note: nil)
            _ = ensureConnection()
        case ":close":
            if connection == nil { output.line("-- no connection is open") } else { closeConnection(note: "we closed") }
        case ":raw":
            switch argument {
            case "", "on": raw = true
            case "off": raw = false
            default: output.line("!! :raw on|off"); return
            }
            output.line(raw ? "-- raw mode: each line goes out exactly as typed, with \\r \\n \\t \\0 \\\\ \\xHH; nothing is added"
                            : "-- raw mode off: lines end in CRLF, Host is added, a blank line sends")
        case ":body":
            if argument == "off" {
                attachedBody = nil
                output.line("-- no body attached")
            } else if argument.hasPrefix("@") {
                guard let data = FileManager.default.contents(atPath: String(argument.dropFirst())) else {
                    output.line("!! cannot read \(argument.dropFirst())")
                    return
                }
                attachedBody = Array(data)
                output.line("-- the next request carries \(data.count) bytes from \(argument.dropFirst())")
            } else {
                attachedBody = Array(argument.utf8)
                output.line("-- the next request carries a \(argument.utf8.count)-byte body")
            }
        case ":pipeline":
            guard let count = Int(argument), (2...100).contains(count) else {
                output.line("!! :pipeline N, with N from 2 to 100 (the next N requests go out in one write)")
                return
            }
            pipelineSize = count
            pipelineBatch = []
            output.line("-- the next \(count) requests are sent together, in one write")
        case ":slow":
            if argument == "off" {
                slow = nil
                output.line("-- slow send off")
                return
            }
            let numbers = argument.split(separator: " ").compactMap { Int($0) }
            guard numbers.count == 2, numbers[0] > 0, numbers[1] >= 0 else {
                output.line("!! :slow BYTES MILLISECONDS (or :slow off), such as :slow 1 100")
                return
            }
            slow = (numbers[0], numbers[1])
            output.line("-- requests now go out \(numbers[0]) byte\(numbers[0] == 1 ? "" : "s") every \(numbers[1]) ms")
        case ":dump":
            guard let density = WireDumpRenderer.Density(rawValue: argument) else {
                output.line("!! :dump full|compact")
                return
            }
            settings.density = density
            output.line("-- dumps are \(density.rawValue)")
        case ":ascii":
            settings.ascii = argument != "off"
            output.line("-- CR and LF are drawn as \(settings.ascii ? "'.'" : "␍ and ␊")")
        case ":timeout":
            guard let seconds = Double(argument), seconds > 0 else {
                output.line("!! :timeout SECONDS, such as :timeout 5")
                return
            }
            settings.timeout = seconds
            output.line("-- waiting up to \(argument) s for a response")
        case ":save":
            if argument == "off" || argument.isEmpty {
                output.stopTranscript()
                output.line("-- transcript closed")
            } else if output.startTranscript(argument) {
                output.line("-- saving everything shown to \(argument)")
            } else {
                output.line("!! cannot write a transcript to \(argument)")
            }
        case ":status":
            let state = connection.map { _ in "connection #\(connectionNumber) open, \(requestsOnConnection) requests on it" } ?? "no connection open"
            let mode = webSocket.map { "; WebSocket mode on \($0.path)" } ?? ""
            output.line("-- \(address)\(settings.tls ? " (TLS)" : ""): \(state)\(mode); raw \(raw ? "on" : "off"); dump \(settings.density.rawValue); timeout \(settings.timeout) s")
        default:
            output.line("!! unknown command \(parts[0]); :help lists them")
        }
    }

    func help() {
        let lines = [
            "Type a request line and headers; a blank line sends it (CRLF is added to each line, and Host if missing):",
            "  GET /hello.txt HTTP/1.1",
            "  Accept-Encoding: gzip",
            "  <blank line>",
            "Shorthands:",
            "  get /path                    GET with Host (also head, delete, options)",
            "  post /api/echo {\"a\": 1}      POST with that body (also put, patch)",
            "Commands:",
            "  :help                        this list",
            "  :connect [HOST:PORT]         open a new connection (to another server, too): :connect 127.0.0.1:8081",
            "  :close                       close the connection; the next request opens a new one (WebSocket: below)",
            "  :raw [on|off]                send each line exactly as typed: :raw  then  GET / HTTP/1.1\\nHost: x\\n\\n",
            "  :body TEXT | @FILE | off     attach a body to the next request: :body @photo.jpg",
            "  :pipeline N                  send the next N requests in one write: :pipeline 3",
            "  :slow BYTES MS | off         send requests BYTES at a time every MS ms: :slow 1 100",
            "  :dump full|compact           hex rows, or one line per element: :dump compact",
            "  :ascii [on|off]              draw CR and LF as '.' instead of ␍ ␊",
            "  :timeout SECONDS             how long to wait for a response: :timeout 10",
            "  :save FILE | off             copy everything shown to a transcript: :save session.txt",
            "  :status                      the connection and settings",
            "  :tls [HOST:PORT] | off       connect with TLS (httpkit router --tls-self-signed): :tls 127.0.0.1:8443",
            "                               shows the handshake and certificate; dumps show the HTTP inside",
            "HTTP/2 (RFC 9113):",
            "  :h2 [on|off]                 a new connection in HTTP/2 (prior knowledge; after :tls, ALPN h2): preface,",
            "                               SETTINGS, then each request on a new stream; every frame dumped both ways",
            "  :ping [TEXT] / :goaway       in HTTP/2 mode, a PING (8 octets) or a GOAWAY NO_ERROR",
            "WebSocket (RFC 6455):",
            "  :ws PATH                     opening handshake on this connection, then WebSocket mode: :ws /ws",
            "  TEXT                         in WebSocket mode, a typed line goes out as a masked text frame",
            "  :ping [TEXT]                 a ping (the server answers with a pong): :ping x",
            "  :close [CODE [REASON]]       in WebSocket mode, a close frame (the closing handshake): :close 1000 bye",
            "  :frame KEY=VALUE …           a frame with chosen bits, to try the server's checks:",
            "                               :frame opcode=1 fin=0 rsv1=1 mask=0 payload=hi",
            "                               (opcode=N|text|binary|close|ping|pong, fin rsv1 rsv2 rsv3 mask =0|1, payload= last)",
            "  :quit                        leave (Ctrl-D works too; Ctrl-C abandons the request being typed)",
        ]
        lines.forEach(output.line)
    }

    // MARK: - Sending

    func send(_ bytes: [UInt8], method: String) {
        if http2 != nil { return sendHTTP2Request(bytes) } // ReplSession+HTTP2.swift
        if pipelineSize > 0 {
            pipelineBatch.append((bytes, method))
            if pipelineBatch.count < pipelineSize {
                output.line("-- queued for the pipeline (\(pipelineBatch.count) of \(pipelineSize))")
                return
            }
            let batch = pipelineBatch
            pipelineSize = 0
            pipelineBatch = []
            exchange(batch.flatMap(\.bytes), methods: batch.map(\.method))
            return
        }
        exchange(bytes, methods: [method])
    }

    /// Raw bytes: as many responses are expected as the bytes sent so far hold complete requests
    /// (a request the server must refuse counts too: it will answer 400).
    func sendRaw(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if http2 != nil { return sendHTTP2Raw(bytes) } // frames, not requests
        rawPending += bytes
        var parser = RequestParser()
        parser.append(rawPending)
        var methods: [String] = []
        var refused = false
        do {
            while let request = try parser.next() { methods.append(request.method.rawValue) }
        } catch {
            refused = true
        }
        if refused { methods.append("GET") }
        rawPending = refused ? [] : Array(parser.unconsumedBytes)
        exchange(bytes, methods: methods, raw: true)
    }

    private func exchange(_ bytes: [UInt8], methods: [String], raw: Bool = false) {
        guard let socket = ensureConnection() else { return }
        requestsOnConnection += methods.count
        let what = methods.count > 1 ? "\(methods.count) requests in one write" : raw ? "raw bytes" : "request \(requestsOnConnection)"
        output.line(">> sent \(bytes.count) bytes to \(address) (connection #\(connectionNumber), \(what))")
        output.dump(bytes, as: .request, settings: settings, method: nil)
        let started = Processes.monotonicSeconds()
        do {
            try write(bytes, to: socket)
        } catch {
            // The server stopped reading, often because it answered already (a 408 or a 413): show that.
            output.line("!! \(error): the server closed the connection before it had all of the request")
            receive(on: socket, methods: methods.isEmpty ? ["GET"] : methods, started: started)
            closeConnection(note: nil)
            return
        }
        if methods.isEmpty {
            output.line("-- no complete request yet: the server waits for the rest (type more, or :raw off)")
            return
        }
        receive(on: socket, methods: methods, started: started)
    }

    func write(_ bytes: [UInt8], to socket: any ClientStream) throws(SystemError) {
        guard let slow else {
            try socket.writeAll(bytes)
            return
        }
        var offset = 0, writes = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + slow.bytes)
            try socket.writeAll(Array(bytes[offset..<end]))
            writes += 1
            offset = end
            if offset < bytes.count { usleep(UInt32(slow.milliseconds * 1000)) }
            if Interrupts.take() {
                output.line("^C -- slow send stopped after \(offset) of \(bytes.count) bytes")
                return
            }
        }
        output.line("-- sent slowly: \(writes) writes of \(slow.bytes) byte\(slow.bytes == 1 ? "" : "s") every \(slow.milliseconds) ms")
    }

    /// Reads until every expected response has arrived, the server closes, or the timeout passes.
    private func receive(on socket: any ClientStream, methods: [String], started: Double) {
        var parser = ResponseParser(requestMethod: methods[0])
        var received: [UInt8] = []
        var responses = 0, reads = 0
        var closedByServer = false, timedOut = false, lastKeeps = true
        let deadline = started + settings.timeout
        reading: while responses < methods.count || !lastKeeps {
            let remaining = deadline - Processes.monotonicSeconds()
            guard remaining > 0, waitReadable(socket, milliseconds: Int32(remaining * 1000)) else {
                timedOut = true
                break
            }
            guard let bytes = readChunk(socket) else { continue } // TLS: no whole record yet
            guard !bytes.isEmpty else {
                closedByServer = true
                if let last = try? parser.finish() {
                    responses += 1
                    lastKeeps = last.keepsConnection
                }
                break
            }
            reads += 1
            received += bytes
            parser.append(bytes)
            do {
                while let response = try parser.next() {
                    if (100...199).contains(response.status) { continue }
                    responses += 1
                    lastKeeps = response.keepsConnection
                    if responses < methods.count { parser.requestMethod = methods[responses] }
                    if responses == methods.count && lastKeeps { break reading }
                }
            } catch {
                output.line("!! the response could not be parsed: \(error.reason)")
                break
            }
            if Interrupts.take() {
                output.line("^C -- stopped waiting")
                break
            }
        }
        let elapsed = (Processes.monotonicSeconds() - started) * 1000
        let timing = settings.showTiming ? " in \(String(format: "%.1f", elapsed)) ms (\(reads) read\(reads == 1 ? "" : "s"))" : ""
        if received.isEmpty {
            output.line(timedOut ? "<< nothing received within \(settings.timeout) s" : "<< nothing received")
        } else {
            output.line("<< received \(received.count) bytes from \(address)\(timing)")
            output.dump(received, as: .response, settings: settings, method: methods.count == 1 ? methods[0] : nil)
        }
        if timedOut && responses < methods.count {
            output.line("-- \(responses) of \(methods.count) responses within \(settings.timeout) s (:timeout changes the wait)")
        }
        if closedByServer {
            closeConnection(note: "the server closed it")
        } else if !timedOut {
            output.line("== connection #\(connectionNumber) stays open (keep-alive); the next request reuses it")
        }
    }

    func waitReadable(_ socket: any ClientStream, milliseconds: Int32) -> Bool {
        if socket.hasBufferedBytes { return true } // decrypted already: poll cannot see it
        var descriptor = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno == EINTR {
                if Interrupts.take() { return false }
                continue
            }
            return ready > 0
        }
    }

    // MARK: - The connection

    /// One read: bytes; empty when the server closed (or the read failed); nil when nothing whole came
    /// within the socket's receive timeout (TLS waits for a whole record, and may get only a session ticket).
    func readChunk(_ socket: any ClientStream) -> [UInt8]? {
        do {
            return try socket.read()
        } catch {
            output.line("!! \(error)")
            return []
        }
    }

    func ensureConnection() -> (any ClientStream)? {
        if let connection {
            // The server may have closed it since (an idle timeout): look before sending into it.
            var probe: UInt8 = 0
            if recv(connection.fd, &probe, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0 {
                closeConnection(note: "the server had closed it while we were idle")
            } else {
                return connection
            }
        }
        do {
            let socket = try Socket.connect(host: settings.host, port: settings.port)
            try socket.setNoDelay()
            let stream: (any ClientStream)? = settings.tls ? startTLS(socket) : socket // startTLS: ReplSession+TLS.swift
            guard let stream else { return nil }
            connection = stream
            connectionNumber += 1
            requestsOnConnection = 0
            if !settings.tls { output.line("== connected to \(address) (connection #\(connectionNumber))") }
            return stream
        } catch {
            output.line("!! cannot connect to \(address): \(error). Is a server running there? (httpkit keepalive --port \(settings.port))")
            return nil
        }
    }

    func closeConnection(note: String?) {
        guard let socket = connection else { return }
        socket.close()
        connection = nil
        rawPending = []
        if let note { output.line("== connection #\(connectionNumber) closed (\(note))") }
        if webSocket != nil {
            webSocket = nil
            output.line("-- WebSocket mode ended: lines are HTTP requests again")
        }
        if http2 != nil {
            http2 = nil
            output.line("-- HTTP/2 mode ended: requests go out as HTTP/1.1 again")
        }
    }
}

/// HOST:PORT for the REPL.
struct ReplTarget {
    let host: String
    /// The host as typed: `localhost` stays a name here (TLS sends it as SNI and checks it in the certificate).
    let name: String
    let port: UInt16

    init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]), port > 0 else { return nil }
        host = parts[0] == "localhost" ? "127.0.0.1" : String(parts[0])
        name = String(parts[0])
        self.port = port
    }
}

/// Everything the REPL shows: to stdout (coloured on a terminal) and, after :save, to a transcript file.
final class ReplOutput {
    private var transcript: FileHandle?

    func line(_ text: String) {
        print(text)
        fflush(nil)
        transcript?.write(Data((text + "\n").utf8))
    }

    func dump(_ bytes: [UInt8], as kind: WireMessage.Kind, settings: ReplSession.Settings, method: String?) {
        dump(WireAnalysis(bytes, as: kind, requestMethod: method), settings: settings)
    }

    func dump(_ analysis: WireAnalysis, settings: ReplSession.Settings) {
        var options = WireDumpRenderer.Options(density: settings.density, ascii: settings.ascii, color: settings.color)
        print(WireDumpRenderer(options).render(analysis), terminator: "")
        fflush(nil)
        if let transcript {
            // The same analysis drawn again without colour: a saved transcript is read in an editor.
            options.color = false
            transcript.write(Data(WireDumpRenderer(options).render(analysis).utf8))
        }
    }

    func startTranscript(_ path: String) -> Bool {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else { return false }
        transcript?.closeFile()
        transcript = handle
        return true
    }

    func stopTranscript() {
        transcript?.closeFile()
        transcript = nil
    }

    func close() { stopTranscript() }
}
