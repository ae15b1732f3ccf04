import ArgumentParser
import Foundation
import HTTPCore

/// `httpkit dump [FILE|-]`: the wire-dump annotator on any bytes.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Annotate the bytes of HTTP messages: hex, CR and LF made visible, a note per element.",
        discussion: """
        Reads a file, or standard input with - (the default). Requests and responses are told apart by their first line; several messages one after another (pipelining) are each annotated.

        TLS: bytes that start with a TLS record header (content type 20-23, version 0x0301-0x0304), or any bytes with --tls, are annotated record by record (RFC 8446 §5.1): content type, legacy version, length; the ClientHello and ServerHello field by field (cipher suites, groups and signature algorithms by name, SNI, ALPN, supported_versions, key shares, GREASE marked); alerts by name; encrypted records counted, not opened.

        HTTP/2: bytes that start with the client connection preface (PRI * HTTP/2.0...) are annotated frame by frame (RFC 9113 §4.1), as nghttp -v prints them with the bytes beside them: length, type, flags by name, stream id; SETTINGS by name; HPACK header blocks representation by representation (indexed or literal, with or without indexing or never indexed, Huffman or raw, the table index, the decoded field, the dynamic table after it, size updates); DATA with a text preview; WINDOW_UPDATE increments; RST_STREAM and GOAWAY error codes by name; PING data; PRIORITY fields; padding. After an h2c upgrade (a 101 with Upgrade: h2c, as curl --http2 gets on http://) the rest is annotated as frames too. A server's side starts with its SETTINGS frame, not a preface: say so with --h2 server.

        WebSocket: after a 101 Switching Protocols (or a request with Upgrade: websocket) the rest of the bytes are annotated as frames: FIN, RSV, opcode, MASK, the length and its form, the masking key, the payload unmasked (and inflated when the handshake negotiated permessage-deflate). For a capture of frames only, say who sent them with --websocket client|server.

        Examples:
          printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | httpkit dump
          curl -s --raw -i http://127.0.0.1:8080/ | httpkit dump --compact
          httpkit dump captured-response.bin --response --ascii
          echo 505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000000040000000000 | xxd -r -p | httpkit dump
          httpkit dump server-side.bin --h2 server
          echo 818537fa213d7f9f4d5158 | xxd -r -p | httpkit dump --websocket client
          httpkit dump server-frames.bin --websocket server --deflate
          nc -l 127.0.0.1 4433 > hello.bin & openssl s_client -connect 127.0.0.1:4433 -alpn h2,http/1.1; httpkit dump hello.bin
        """
    )

    @Argument(help: "The file to read; - for standard input.")
    var file = "-"

    @Flag(help: "One line per element instead of full hex.")
    var compact = false

    @Flag(help: "Draw CR, LF and other bytes with ASCII '.' instead of ␍ ␊ ·.")
    var ascii = false

    @Flag(name: .customLong("request"), help: "Treat the bytes as requests.")
    var asRequest = false

    @Flag(name: .customLong("response"), help: "Treat the bytes as responses.")
    var asResponse = false

    @Option(help: ArgumentHelp("The bytes are WebSocket frames only, all sent by the client (masked) or the server.", valueName: "sender"))
    var websocket: FrameSender?

    @Option(name: .customLong("h2"), help: ArgumentHelp("The bytes are HTTP/2 frames, all sent by the client (after its preface, if any) or the server.", valueName: "sender"))
    var h2: FrameSender?

    @Flag(help: "The bytes are TLS records (found without the flag when they start with a record header).")
    var tls = false

    @Flag(help: "With --websocket: permessage-deflate was negotiated, so payloads marked RSV1 are inflated.")
    var deflate = false

    @Option(help: ArgumentHelp("The method of the request a response answers (HEAD means no body).", valueName: "method"))
    var method: String?

    @Option(help: ArgumentHelp("Colour: auto (on a terminal, unless NO_COLOR is set), always or never.", valueName: "when"))
    var color: ColorChoice = .auto

    func validate() throws {
        if asRequest && asResponse { throw ValidationError("--request and --response exclude each other") }
        if websocket != nil && (asRequest || asResponse) { throw ValidationError("--websocket says the bytes are frames; leave out --request and --response") }
        if tls && (websocket != nil || asRequest || asResponse) { throw ValidationError("--tls says the bytes are TLS records; leave out --websocket, --request and --response") }
        if h2 != nil && (websocket != nil || tls || asRequest || asResponse) {
            throw ValidationError("--h2 says the bytes are HTTP/2 frames; leave out --websocket, --tls, --request and --response")
        }
        if deflate && websocket == nil { throw ValidationError("--deflate goes with --websocket (after a handshake, the 101 says whether permessage-deflate was negotiated)") }
    }

    func run() throws {
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError(message: "dump: cannot read '\(file)': no such readable file. Give a file path, or - for standard input.")
            }
            bytes = Array(data)
        }
        guard !bytes.isEmpty else {
            throw CLIError(message: "dump: no bytes to annotate (the input is empty)")
        }
        let kind: WireMessage.Kind? = asRequest ? .request : asResponse ? .response : nil
        let analysis = tls ? WireAnalysis(tlsRecords: bytes)
            : h2.map { WireAnalysis(http2Frames: bytes, from: $0 == .client ? .client : .server) } ?? websocket.map { WireAnalysis(webSocketFrames: bytes, from: $0.sender, deflate: deflate) } ?? WireAnalysis(bytes, as: kind, requestMethod: method)
        var options = WireDumpRenderer.Options(density: compact ? .compact : .full, ascii: ascii, color: color.enabled(for: 1))
        options.bodyPreviewBytes = 600
        print(WireDumpRenderer(options).render(analysis), terminator: "")
    }
}

/// Who sent a capture of WebSocket frames (`--websocket client|server`).
enum FrameSender: String, ExpressibleByArgument, CaseIterable {
    case client, server

    var sender: WireWebSocket.Sender { self == .client ? .client : .server }
}

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    /// Whether to colour output on descriptor `fd`: never with NO_COLOR, on a terminal for auto.
    func enabled(for fd: Int32) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return isatty(fd) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        }
    }
}
