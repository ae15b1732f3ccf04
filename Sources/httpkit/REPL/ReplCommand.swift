import ArgumentParser
import Foundation
import HTTPCore
import Sockets

/// `httpkit repl [HOST:PORT]`.
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Send requests by hand and see every byte that went out and came back, annotated.",
        discussion: """
        On a terminal: line editing, history (~/.httpkit_history), tab completion. From a pipe or with --script: the same output without prompt or colour, each input line echoed after '» '.

        Examples:
          httpkit repl                          to 127.0.0.1:8080
          httpkit repl 127.0.0.1:9000
          httpkit repl --tls localhost:8443     HTTPS: the handshake and certificate, then the HTTP inside
          printf 'get /hello.txt\\nget /\\n' | httpkit repl
          httpkit repl --script lesson.repl --compact
        Inside, :help lists the commands.
        """
    )

    @Argument(help: "The server, HOST:PORT (default 127.0.0.1:8080).")
    var target = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("Read commands from this file instead of the terminal.", valueName: "file"))
    var script: String?

    @Flag(help: "Start with compact dumps (one line per element).")
    var compact = false

    @Flag(help: "Draw CR and LF as '.' instead of ␍ ␊.")
    var ascii = false

    @Flag(help: "Leave response times out of the output (for transcripts that must not change).")
    var noTiming = false

    @Option(help: ArgumentHelp("Colour: auto, always or never.", valueName: "when"))
    var color: ColorChoice = .auto

    @Option(help: ArgumentHelp("Seconds to wait for a response.", valueName: "seconds"))
    var timeout = 3.0

    @Flag(help: "Connect with TLS (HTTPS). A certificate that does not verify is shown with a warning, not refused.")
    var tls = false

    @Option(help: ArgumentHelp("The folder the server serves, when you know it: tab completes its paths (else from the links in responses).", valueName: "dir"))
    var root: String?

    @Option(help: ArgumentHelp("With --tls: also trust the certificates in this PEM file (such as the cert.pem --tls-self-signed printed).", valueName: "file"))
    var tlsCA: String?

    func validate() throws {
        guard ReplTarget(target) != nil else { throw ValidationError("'\(target)' is not HOST:PORT, such as 127.0.0.1:8080") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
        if tlsCA != nil && !tls { throw ValidationError("--tls-ca goes with --tls") }
    }

    func run() throws {
        let destination = ReplTarget(target)!
        let interactive = script == nil && isatty(0) != 0
        var settings = ReplSession.Settings()
        settings.host = destination.host
        settings.serverName = destination.name
        settings.port = destination.port
        settings.tls = tls
        settings.caFile = tlsCA
        // A full dump is about 110 columns wide: on a narrower terminal it would wrap mid-word.
        let columns = interactive ? TerminalSize.columns() : 0
        settings.density = compact || (interactive && columns < 120) ? .compact : .full
        if let root { ReplCompletion.paths = ReplCompletion.paths(underRoot: root) }
        settings.ascii = ascii
        settings.color = interactive && color.enabled(for: 1)
        settings.showTiming = !noTiming
        settings.timeout = timeout
        Interrupts.install()
        let input: LineSource
        if let script {
            guard let handle = FileHandle(forReadingAtPath: script) else {
                throw CLIError(message: "repl: cannot read --script \(script): no such readable file")
            }
            input = PlainLines(handle)
        } else if interactive {
            input = EditLineSource(commands: ReplSession.commands)
        } else {
            input = PlainLines(FileHandle.standardInput)
        }
        if interactive && !compact && columns < 120 {
            print("-- dumps are compact: this terminal is \(columns) columns and a full dump wants 120 (:dump full to switch)")
        }
        ReplSession(settings: settings, input: input, output: ReplOutput()).run()
    }
}
