import ArgumentParser
import Foundation
import ServerProcess
import HTTPCore
import Sockets
import Stages

/// `httpkit check --stage NAME`: a milestone's conformance checks, against httpkit's own stage or yours.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run a milestone's conformance checks against httpkit's stage or your own server.",
        discussion: """
        Static-file checks expect the server to serve the bundled www/ folder.

        Examples:
          httpkit check --stage hello                         httpkit's own hello stage
          httpkit check --stage static --target 127.0.0.1:9000   a server you already started
          httpkit check --stage router --target https://127.0.0.1:8443
                                                              the same checks over TLS (certificate not verified)
          httpkit check --stage hello --exec 'python3 server.py {port}'
                                                              started, waited for and stopped by httpkit;
                                                              {port} becomes a free port; {root}, a copy of
                                                              www/ with a large file for fork, threads
                                                              and eventloop
          httpkit check --stage proxy --exec 'python3 proxy.py {port} {upstreams}'
                                                              {upstreams} becomes the check's own two
                                                              upstream servers, 127.0.0.1:PORT,127.0.0.1:PORT,
                                                              which record what arrives (httpkit spec proxy)
          httpkit check --stage hello --step 2 --exec 'python3 server.py {port}'
                                                              steps 1 and 2 of httpkit spec hello
          httpkit check --stage hello --watch --exec 'python3 server.py {port}'
                                                              again on each save (or Enter)
          httpkit check --stage keepalive --all               stages 1 to 7
        The exit status is 0 when every check passed, 1 when one failed.
        """
    )

    @Option(help: ArgumentHelp("The milestone to check: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var stage: StageName?

    @Option(help: ArgumentHelp("Another site's course instead of a stage: codecrafters (its HTTP server, with compression and persistent connections; port 4221, {dir} in --exec becomes the --directory folder).", valueName: "name"))
    var course: Course?

    @Option(help: ArgumentHelp("A server that is already running, HOST:PORT (https://HOST:PORT: over TLS).", valueName: "host:port"))
    var target: String?

    @Option(name: .customLong("exec"), help: ArgumentHelp("A command that starts your server; {port} is replaced by a free port (and for the proxy stage, {upstreams} by the check's own upstream servers, HOST:PORT,HOST:PORT).", valueName: "command"))
    var command: String?

    @Flag(help: "Also run the checks of the earlier milestones (from hello: echo is not HTTP).")
    var all = false

    @Option(help: ArgumentHelp("Run only the checks of steps 1 to N of the stage (see httpkit spec STAGE).", valueName: "n"))
    var step: Int?

    @Flag(help: "Run the checks again each time a file in your server's folder changes, or when you press Enter.")
    var watch = false

    @Option(help: ArgumentHelp("With --watch: the folder to watch (default: the folder of the first file --exec names, else this one).", valueName: "dir"))
    var watchFolder: String?

    @Option(help: ArgumentHelp("Colour: auto, always or never.", valueName: "when"))
    var color: ColorChoice = .auto

    func validate() throws {
        if target != nil && command != nil { throw ValidationError("--target and --exec exclude each other: give one") }
        if command?.contains("{upstreams}") == true && stage != .proxy {
            throw ValidationError("{upstreams} is for --stage proxy: it becomes the upstream servers the proxy stands in front of")
        }
        if (stage == nil) == (course == nil) { throw ValidationError("give --stage NAME (\(StageName.allCases.map(\.rawValue).joined(separator: ", "))) or --course codecrafters, not both") }
        if course != nil && (all || step != nil) { throw ValidationError("--all and --step are for stages, not --course") }
        if all && stage == .proxy {
            // The earlier stages' checks ask for www/'s files; behind a proxy the content is its upstreams'.
            throw ValidationError("--all does not apply to --stage proxy: a proxy serves what its upstreams send, not www/, so the earlier stages' checks cannot pass through it; run httpkit check --stage proxy")
        }
        if let step, let stage {
            let count = Spec.steps(CheckCatalog.checks(for: stage)).count
            guard (1...count).contains(step) else { throw ValidationError("--step \(step): \(stage.rawValue) has steps 1 to \(count) (httpkit spec \(stage.rawValue))") }
            if all { throw ValidationError("--step and --all exclude each other: a step is one stage's") }
        }
        if let target, Self.parseTarget(target) == nil {
            throw ValidationError("--target '\(target)' is not HOST:PORT or https://HOST:PORT, such as 127.0.0.1:8080")
        }
    }

    func run() throws {
        StopSignal.install()
        if watch {
            try watchAndRerun()
        } else if try !runOnce() {
            throw ExitCode.failure
        }
    }

    /// Starts (or finds) the server, runs the checks, prints the report and records progress; stops a
    /// server it started. True when every check passed.
    func runOnce() throws -> Bool {
        if let course { return try runCourse(course) }
        let stage = stage!
        // The concurrency checks want a large file: on a copy of www/ made for the run, never in www/ itself.
        let site = [.fork, .threads, .eventloop].contains(stage) && (command?.contains("{root}") ?? (target == nil)) ? try CheckSite() : nil
        defer { site?.remove() }
        let line = site.flatMap { site in command?.replacing("{root}", with: site.path) } ?? command
        let server = try Self.server(stage, target: target, command: line, root: site?.path)
        server.target.largeFile = site.map { _ in CheckSite.largePath }
        defer { server.stop() }
        // Echo speaks raw TCP, not HTTP: an HTTP stage's --all starts at hello.
        let stages = all ? StageName.allCases.filter { $0.info.milestone <= stage.info.milestone && ($0 != .echo || stage == .echo) }.reversed() : [stage]
        let checks = step.map { Spec.checks(CheckCatalog.checks(for: stage), upTo: $0) }
            ?? stages.flatMap { earlier in CheckCatalog.checks(for: earlier).filter { !$0.isModelCheck || earlier == stage } }
        let report = CheckReport(color: color.enabled(for: 1), startCommand: server.startCommand)
        let scope = all ? " and the stages before it" : step.map { " step\($0 == 1 ? "" : "s 1 to") \($0) of \(Spec.steps(CheckCatalog.checks(for: stage)).count)" } ?? ""
        print("httpkit check: \(stage.rawValue)\(scope) against \(server.description)")
        if let upstreams = server.target.upstreams {
            print("behind it, the check's own upstreams: \(upstreams.named) (they record what arrives)")
        }
        if server.target.tls { try Self.describeTLS(server.target) }
        var failed = 0
        for check in checks {
            if StopSignal.isRequested { break }
            let outcome = check.run(server.target)
            report.print(check, outcome, target: server.target)
            if case .fail = outcome { failed += 1 }
        }
        print("\(checks.count - failed) of \(checks.count) checks passed")
        if failed == 0, let step {
            let count = Spec.steps(CheckCatalog.checks(for: stage)).count
            print(step < count ? "Step \(step) of \(count) passes. Next: step \(step + 1) in httpkit spec \(stage.rawValue), then --step \(step + 1)"
                  : "Every step passes: run it without --step to record the stage.")
            return true
        }
        if failed == 0 {
            // Built: your own server passed. Explored: httpkit's own stage did, which is reading, not writing.
            LearnerProgress.markDone(stages, as: server.isOwnStage ? .explored : .built)
            if server.isOwnStage {
                print("Stage \(stage.info.milestone) explored (httpkit's own server passed). To mark it built, check yours: "
                      + "httpkit check --stage \(stage.rawValue) --exec 'python3 server.py \(stage.execArguments)'")
            }
            if let next = StageName.allCases.first(where: { $0.info.milestone == stage.info.milestone + 1 }) {
                print("Stage \(stage.info.milestone) is done. Next: httpkit lesson \(next.rawValue)")
            } else {
                print("That was the last stage: the whole path is done.")
            }
        }
        return failed == 0
    }

    /// The server the checks of `stage` run against: one already running (`target`), the learner's (`command`,
    /// its placeholders filled in), or httpkit's own stage. For the proxy stage, the check's own upstreams
    /// are started first when the proxy is to stand in front of them (`{upstreams}`, or httpkit's own proxy);
    /// they stop with the server.
    static func server(_ stage: StageName, target: String?, command: String?, root: String? = nil) throws -> CheckedServer {
        if let target {
            let (address, tls) = parseTarget(target)!
            return try CheckedServer.running(host: address.host, port: address.port, tls: tls)
        }
        let upstreams = stage == .proxy && (command?.contains("{upstreams}") ?? true) ? try CheckUpstreams() : nil
        do {
            let server = try command.map { try CheckedServer.started(command: $0, upstreams: upstreams) }
                ?? CheckedServer.own(stage, root: root, upstreams: upstreams)
            server.target.upstreams = upstreams
            return server
        } catch {
            upstreams?.stop()
            throw error
        }
    }

    /// A course's checks: against the learner's program (`{dir}` becomes a folder made for the run, `{port}`
    /// a free port, else the course's port), a running server, or httpkit's own router.
    func runCourse(_ course: Course) throws -> Bool {
        let directory = NSTemporaryDirectory() + "httpkit-\(course.rawValue)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server: CheckedServer
        if let target {
            let (address, tls) = Self.parseTarget(target)!
            server = try CheckedServer.running(host: address.host, port: address.port, tls: tls)
        } else {
            let own = "\(BundledSite.executablePath() ?? CommandLine.arguments[0]) router --port {port} --directory {dir}"
            server = try CheckedServer.started(command: (command ?? own).replacing("{dir}", with: directory), port: course.port,
                                               description: command == nil ? "httpkit's own router" : nil)
            server.target.directory = directory
        }
        defer { server.stop() }
        let checks = course.checks
        let report = CheckReport(color: color.enabled(for: 1), startCommand: command == nil ? nil : server.startCommand)
        print("httpkit check: the \(course.rawValue) course against \(server.description)")
        var failed = 0
        for check in checks {
            if StopSignal.isRequested { break }
            let outcome = check.run(server.target)
            report.print(check, outcome, target: server.target)
            if case .fail = outcome { failed += 1 }
        }
        print("\(checks.count - failed) of \(checks.count) checks passed")
        return failed == 0
    }

    /// `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT` (a trailing / allowed): the address and whether it is TLS.
    static func parseTarget(_ text: String) -> (ReplTarget, tls: Bool)? {
        var rest = Substring(text)
        var tls = false
        if rest.hasPrefix("https://") {
            tls = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        return ReplTarget(String(rest)).map { ($0, tls) }
    }

    /// One handshake before the checks, to say what they run over; each check then makes its own.
    static func describeTLS(_ target: CheckTarget) throws {
        let socket = try Socket.connect(host: target.host, port: target.port)
        defer { socket.close() }
        try socket.setReceiveTimeout(seconds: 3)
        do {
            let transport = try TLSClientTransport(socket, host: target.host)
            print("over TLS (\(transport.summary.version), \(transport.summary.cipher)); certificate verification is off for these checks:")
            print("  \(transport.summary.verified ? "the certificate would verify" : "it would not verify: \(transport.summary.verifyResult)"); "
                  + "subject \(transport.summary.subject), SHA-256 \(transport.summary.fingerprint)")
            print("  (to reproduce with curl, add -k, or --cacert with the server's certificate)")
        } catch {
            throw CLIError(message: "check: no TLS handshake with \(target.host):\(target.port): \(error). Does it serve HTTPS? (plain HTTP: leave out https://)")
        }
    }
}

/// Prints one line per check; for a failure, what was expected, the reason (the first problem the wire
/// analysis finds in what came back, else what the check noticed, else how the connection ended), a
/// compact dump of what came back, and a command that reproduces it.
final class CheckReport {
    let color: Bool
    /// With --exec: the command that starts the learner's server on the port the reproduce lines name
    /// (the checked one is stopped by the time the report is read).
    let startCommand: String?
    /// The wire problems already shown with a dump: one mistake (bare LF) fails many checks, and its dump
    /// once is enough.
    private var dumpedCauses: Set<String> = []

    init(color: Bool, startCommand: String?) {
        self.color = color
        self.startCommand = startCommand
    }

    func print(_ check: Check, _ outcome: CheckOutcome, target: CheckTarget) {
        let prefix = "[\(check.label ?? check.stage.rawValue)]".padding(to: 12)
        switch outcome {
        case .pass:
            Swift.print("  \(paint("✔ pass", "32")) \(prefix) \(check.name)")
        case .skipped(let reason):
            Swift.print("  \(paint("- skip", "33")) \(prefix) \(check.name): \(reason)")
        case .fail(let expected, let got, let note, let reproduce):
            Swift.print("  \(paint("✘ FAIL", "1;31")) \(prefix) \(check.name)")
            for line in Self.explanation(expected: expected, got: got, note: note) { Swift.print("      " + line) }
            if let cause = got.wireCause, dumpedCauses.contains(cause) {
                Swift.print("        (the same problem as above: its dump is there)")
            } else if !got.bytes.isEmpty {
                for line in dump(got) { Swift.print("        " + line) }
                if let cause = got.wireCause { dumpedCauses.insert(cause) }
            }
            if let startCommand { Swift.print("      start it:  \(startCommand)   (in another terminal; then:)") }
            Swift.print("      reproduce: \(reproduce)")
        }
    }

    /// The expected/but/got lines of a failure. The wire's word comes first: a check's own note is often a
    /// guess at the cause ("answers after the first read()?"), and the bytes say what really happened.
    static func explanation(expected: String, got: Reception, note: String?) -> [String] {
        var lines = ["expected: \(expected)"]
        // An empty reception that is still .open was never read: the check is about something else (/proc).
        let unread = got.bytes.isEmpty && got.ending == .open && got.sendError == nil
        let cause = (got.bytes.isEmpty && !unread) || got.wireCause != nil ? got.cause : nil
        if let cause {
            lines.append("but:      \(cause)")
            if let note, note != cause { lines.append("          \(note)") }
        } else if let reason = note ?? got.cause {
            lines.append("but:      \(reason)")
        }
        if unread {
            // nothing was asked of the connection
        } else if got.bytes.isEmpty {
            lines.append("got:      nothing (\(got.endingText))")
        } else {
            lines.append("got:      \(WireAnalysis.bytesText(got.bytes.count)), then \(got.endingText):")
        }
        return lines
    }

    /// What came back, as the compact dump: one line per element, the analysis's warnings beside it.
    func dump(_ got: Reception) -> [String] {
        // Analysed whole, so that a long body is not reported as cut off; the compact dump summarises bodies.
        let shown = Array(got.bytes.prefix(1 << 20))
        let analysis = got.isHTTP2 ? WireAnalysis(http2Frames: shown, from: .server) // HTTP2Checks.swift: frames, header blocks decoded
            : got.isHTTP ? WireAnalysis(shown, as: .response, requestMethod: got.methods.first) : WireAnalysis(shown, as: .request)
        var options = WireDumpRenderer.Options(density: .compact, color: color)
        options.bodyPreviewBytes = 200
        let lines = WireDumpRenderer(options).render(analysis).split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        let limit = got.isHTTP2 ? 50 : 30
        var shownLines = lines.prefix(limit).map(String.init)
        if lines.count > limit { shownLines.append("… (\(lines.count - limit) more lines: httpkit dump shows them all)") }
        if got.bytes.count > shown.count { shownLines.append("… (\(got.bytes.count - shown.count) more bytes not shown)") }
        return shownLines
    }

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
}

/// The server under test, and how to stop it if we started it.
final class CheckedServer {
    var target: CheckTarget
    let description: String
    /// Whether this is httpkit's own stage rather than the learner's server.
    var isOwnStage: Bool { startCommand == nil && process != nil }
    /// How a person starts the same server by hand, on the port reproduce commands name (--exec only).
    var startCommand: String?
    /// The server process when check started it (stopped by `stop`).
    let process: ServerProcess?
    /// The check's own upstream servers behind a proxy, stopped after it.
    private var checkUpstreams: CheckUpstreams?

    private init(target: CheckTarget, description: String, process: ServerProcess?) {
        self.target = target
        self.description = description
        self.process = process
    }

    /// A server that is already listening.
    static func running(host: String, port: UInt16, tls: Bool = false) throws -> CheckedServer {
        guard waitForListener(host: host, port: port, seconds: 2) else {
            throw CLIError(message: "check: nothing is listening on \(host):\(port). Start your server first, or use --exec 'COMMAND'.")
        }
        let local = ["127.0.0.1", "localhost", "::1"].contains(host)
        return CheckedServer(target: CheckTarget(host: host, port: port, tls: tls, pid: local ? PortOwner.pid(port: port) : nil), description: tls ? "https://\(host):\(port)" : "\(host):\(port)", process: nil)
    }

    /// httpkit's own stage on a free port.
    static func own(_ stage: StageName, root: String? = nil, upstreams: CheckUpstreams? = nil) throws -> CheckedServer {
        if stage == .proxy, let upstreams { return try ownProxy(upstreams) }
        let server = try StageServer(stage: stage, root: root)
        let checked = CheckedServer(target: CheckTarget(host: "127.0.0.1", port: server.port, pid: server.server.pid),
                                    description: "httpkit's own \(stage.rawValue) stage (127.0.0.1:\(server.port))",
                                    process: server.server)
        return checked
    }

    /// The learner's server, started from a shell command and waited for with retries. With `upstreams`,
    /// `{upstreams}` in the command becomes their addresses (the reproduce lines' start command names
    /// `httpkit check-upstreams` on 8081 and 8082 instead).
    static func started(command: String, port fixedPort: UInt16 = 8080, description: String? = nil,
                        upstreams: CheckUpstreams? = nil) throws -> CheckedServer {
        let reproducePort = "9000"
        var port = fixedPort
        var line = upstreams.map { command.replacing("{upstreams}", with: $0.list) } ?? command
        if command.contains("{port}") {
            let probe = try Socket.listen(host: "127.0.0.1", port: 0)
            port = try probe.localAddress().port
            probe.close()
            line = line.replacing("{port}", with: String(port))
        }
        // exec: the pid we hold is the server's, so stopping it stops the server.
        do {
            let process = try ServerProcess(executable: "/bin/sh", arguments: ["-c", "exec " + line],
                                            readiness: .accepts(host: "127.0.0.1", port: port), timeout: 10, name: "check")
            let fixed = command.contains("{port}")
            let checked = CheckedServer(target: CheckTarget(host: "127.0.0.1", port: port, shownPort: fixed ? UInt16(reproducePort) : nil,
                                                           pid: process.pid),
                                        description: "\(description ?? "`\(line)`") (127.0.0.1:\(port))", process: process)
            checked.startCommand = command.replacing("{port}", with: reproducePort)
            if upstreams != nil {
                checked.startCommand = "httpkit check-upstreams 8081 8082 & "
                    + checked.startCommand!.replacing("{upstreams}", with: "127.0.0.1:8081,127.0.0.1:8082")
            }
            checked.checkUpstreams = upstreams
            return checked
        } catch {
            let tail = error.output.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw CLIError(message: "check: `\(line)` did not listen on 127.0.0.1:\(port) within 10 s\(tail.isEmpty ? "" : "; it printed: \(tail)"). Use {port} in the command, or --target.")
        }
    }

    /// Tries to connect every 100 ms until it works or the time is up.
    static func waitForListener(host: String, port: UInt16, seconds: Double, while alive: () -> Bool = { true }) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && alive() {
            if let socket = try? Socket.connect(host: host, port: port) {
                socket.close()
                return true
            }
            usleep(100_000)
        }
        return false
    }

    func stop() {
        process?.stop(timeout: 3)
        checkUpstreams?.stop()
    }

    /// httpkit's proxy stage in front of the check's own two upstreams, with a cache (the cache checks).
    static func ownProxy(_ upstreams: CheckUpstreams) throws -> CheckedServer {
        let executable = BundledSite.executablePath() ?? CommandLine.arguments[0]
        do {
            let proxy = try ServerProcess(executable: executable,
                                          arguments: ["proxy", "--port", "0", "--cache-size", "1m"]
                                            + upstreams.servers.flatMap { ["--upstream", $0.address] },
                                          timeout: 15, name: "proxy stage")
            let checked = CheckedServer(target: CheckTarget(host: "127.0.0.1", port: proxy.port, pid: proxy.pid),
                                        description: "httpkit's own proxy stage (127.0.0.1:\(proxy.port))", process: proxy)
            checked.checkUpstreams = upstreams
            return checked
        } catch {
            // The only failure here is ServerProcess's (typed throws): what the stage printed says why.
            throw CLIError(message: "the proxy stage did not start: \(error): \(error.output)")
        }
    }
}

/// A copy of the bundled www/ made for one check run, with a large file the concurrency checks ask for
/// and never read: www/ itself stays small. Removed after the run.
final class CheckSite {
    let path: String
    /// The large file's path in the site, and its size: far more than loopback's socket buffers hold.
    static let largePath = "/httpkit-large.bin"
    static let largeSize = 32 << 20

    init() throws {
        guard let www = BundledSite.locate() else { throw CLIError(message: "check: cannot find the bundled www/ folder to copy") }
        path = NSTemporaryDirectory() + "httpkit-check-site-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.copyItem(atPath: www, toPath: path)
        guard FileManager.default.createFile(atPath: path + Self.largePath, contents: Data(count: Self.largeSize)) else {
            throw CLIError(message: "check: cannot write \(path + Self.largePath)")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
