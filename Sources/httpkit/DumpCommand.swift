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

        Examples:
          printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | httpkit dump
          curl -s --raw -i http://127.0.0.1:8080/ | httpkit dump --compact
          httpkit dump captured-response.bin --response --ascii
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

    @Option(help: ArgumentHelp("The method of the request a response answers (HEAD means no body).", valueName: "method"))
    var method: String?

    @Option(help: ArgumentHelp("Colour: auto (on a terminal, unless NO_COLOR is set), always or never.", valueName: "when"))
    var color: ColorChoice = .auto

    func validate() throws {
        if asRequest && asResponse { throw ValidationError("--request and --response exclude each other") }
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
        let analysis = WireAnalysis(bytes, as: kind, requestMethod: method)
        var options = WireDumpRenderer.Options(density: compact ? .compact : .full, ascii: ascii, color: color.enabled(for: 1))
        options.bodyPreviewBytes = 600
        print(WireDumpRenderer(options).render(analysis), terminator: "")
    }
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
