import ArgumentParser
import Stages
import Glibc

@main
struct HTTPKit: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "httpkit",
        abstract: "Build an HTTP/1.1 server from raw sockets, one milestone at a time.",
        discussion: """
        Each milestone is a server you can run, read and poke at. Start here:

          httpkit                        (or httpkit learn) where you are, and what to do next
          httpkit lesson 1               read a lesson in the terminal
          httpkit check --stage echo     check a stage: httpkit's, or your own server with --target/--exec
          httpkit spec hello             what to build for a stage, step by step, byte by byte
          httpkit new python myserver    a starter for your own server, a TODO per step
          httpkit hint                   what the first failing check needs
          httpkit repl                   send requests by hand and see every byte
          httpkit doctor                 is this machine ready?
          httpkit stages                 the milestones in order, with their lessons
          httpkit echo                   stage 1: a TCP echo server (try: nc 127.0.0.1 8080)
          httpkit hello --port 0         stage 2: Hello, world! on a free port
          httpkit static --root ./www    stage 3: serve a folder
          httpkit serve --stage static   the same, by name
        """,
        version: version,
        subcommands: [
            LearnCommand.self, LessonsCommand.self, LessonCommand.self, NextCommand.self, CheckCommand.self, SpecCommand.self, NewCommand.self, HintCommand.self, DoctorCommand.self,
            Serve.self, EchoCommand.self, HelloCommand.self, StaticCommand.self,
            ForkCommand.self, ThreadsCommand.self, EventLoopCommand.self, KeepAliveCommand.self, RouterCommand.self, WebSocketCommand.self, HTTP2Command.self, ProxyCommand.self,
            BenchCommand.self, DumpCommand.self, ReplCommand.self, StagesCommand.self, VersionCommand.self, CheckUpstreamsCommand.self,
        ],
        defaultSubcommand: LearnCommand.self
    )

    /// Parses and runs, turning every failure into one line on stderr and a non-zero exit: a learner
    /// should see what went wrong and what to do, never a stack trace or a screen of usage.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let error as CLIError {
            Console.error(error.message)
            Glibc.exit(error.exitCode)
        } catch let verdict as ExitCode {
            // A verdict, not a mistake: a failed check or a doctor finding has printed its report already,
            // and "invalid arguments" under it would send the learner looking in the wrong place.
            Glibc.exit(verdict.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let firstLine = oneLine(message(for: error))
            let subcommand = arguments.first { name in
                configuration.subcommands.contains { $0.configuration.commandName == name || $0._commandName == name }
            }
            let help = subcommand.map { "httpkit \($0) --help" } ?? "httpkit --help"
            Console.error("\(firstLine.replacing("Error: ", with: "")) (see '\(help)')")
            Glibc.exit(code.rawValue)
        }
    }
}

extension HTTPKit {
    /// The parser's message as one line: a list of valid values ("Please provide one of the following:"
    /// then "- echo" lines) is folded into "echo, hello, …" rather than cut off before it.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first else { return "invalid arguments" }
        let values = lines.dropFirst().filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
        guard !values.isEmpty else { return first }
        return first + " " + values.joined(separator: ", ")
    }
}

/// A failure the user can fix, with the sentence that says how.
struct CLIError: Error {
    let message: String
    var exitCode: Int32 = 1
}

