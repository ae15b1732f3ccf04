import ArgumentParser
import HTTPCore
import Sockets
import Stages
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `httpkit serve --stage NAME`: any milestone by name.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a milestone server by name.",
        discussion: """
        Examples:
          httpkit serve --stage hello
          httpkit serve --stage static --port 0 --root ./www
        """
    )

    @Option(help: ArgumentHelp("The milestone to run: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")).",
                               valueName: "name"))
    var stage: StageName

    @OptionGroup var server: ServerOptions
    @OptionGroup(title: "threads stage") var threads: ThreadOptions
    @OptionGroup(title: "eventloop stage") var eventLoop: PollerOptions

    func run() throws { try StageRunner.run(stage, server, threads: threads, poller: eventLoop) }
}

struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Most connections served at once, one thread each (0: no bound).", valueName: "n"))
    var maxThreads = 256

    func validate() throws {
        guard maxThreads >= 0 else { throw ValidationError("--max-threads must be 0 (no bound) or more") }
    }
}

struct PollerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The readiness API: select, poll or epoll.", valueName: "api"))
    var poller: PollerKind = .platformDefault
}

extension PollerKind: ExpressibleByArgument {}

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Stage 1: a TCP echo server (no HTTP yet).",
        discussion: "Example:\n  httpkit echo --port 9000   then, in another terminal:  nc 127.0.0.1 9000"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.echo, server) }
}

struct HelloCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello",
        abstract: "Stage 2: parse one request, answer Hello, world!, close.",
        discussion: "Example:\n  httpkit hello   then:  curl -v http://127.0.0.1:8080/"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.hello, server) }
}

struct StaticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "static",
        abstract: "Stage 3: serve files from a folder, one connection at a time.",
        discussion: "Example:\n  httpkit static --root ./www   then open http://127.0.0.1:8080/"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.static, server) }
}

struct ForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "Stage 4: serve files with a forked process per connection.",
        discussion: "Example:\n  httpkit fork   then:  httpkit bench http://127.0.0.1:8080/ -c 50"
    )
    @OptionGroup var server: ServerOptions
    func run() throws { try StageRunner.run(.fork, server) }
}

struct ThreadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "threads",
        abstract: "Stage 5: serve files with a thread per connection, at most --max-threads at once.",
        discussion: "Examples:\n  httpkit threads --max-threads 64\n  httpkit threads --max-threads 0    (no bound: see what it costs)"
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var threads: ThreadOptions
    func run() throws { try StageRunner.run(.threads, server, threads: threads) }
}

struct EventLoopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eventloop",
        abstract: "Stage 6: serve files from one thread with nonblocking sockets and a readiness loop.",
        discussion: "Examples:\n  httpkit eventloop\n  httpkit eventloop --poller select   (and watch it refuse descriptor 1024)"
    )
    @OptionGroup var server: ServerOptions
    @OptionGroup var eventLoop: PollerOptions
    func run() throws { try StageRunner.run(.eventloop, server, poller: eventLoop) }
}

/// Starts a stage and turns the failures a user can fix into sentences that say how.
enum StageRunner {
    static func run(_ stage: StageName, _ options: ServerOptions, threads: ThreadOptions? = nil,
                    poller: PollerOptions? = nil) throws {
        var configuration = try options.configuration(for: stage)
        if let threads { configuration.maxThreads = threads.maxThreads }
        if let poller { configuration.poller = poller.poller }
        do throws(SystemError) {
            switch stage {
            case .echo: try EchoStage(configuration).run()
            case .hello: try HelloStage(configuration).run()
            case .static: try StaticStage(configuration, root: configuration.root!).run()
            case .fork: try ForkStage(configuration, root: configuration.root!).run()
            case .threads: try ThreadsStage(configuration, root: configuration.root!).run()
            case .eventloop: try EventLoopStage(configuration, root: configuration.root!).run()
            }
        } catch {
            throw explain(error, options)
        }
    }

    static func explain(_ error: SystemError, _ options: ServerOptions) -> CLIError {
        switch error.errno {
        case EADDRINUSE:
            return CLIError(message: "port \(options.port) on \(options.host) is already in use (\(error)). Stop the other server, or choose another port with --port (0 picks a free one).")
        case EACCES where options.port < 1024:
            return CLIError(message: "port \(options.port) needs root privileges (\(error)). Use a port of 1024 or more with --port.")
        case EADDRNOTAVAIL:
            return CLIError(message: "cannot listen on --host \(options.host): no such local address (\(error)). Try 127.0.0.1 or 0.0.0.0.")
        default:
            return CLIError(message: "\(error)")
        }
    }
}

/// `httpkit stages`: the path through the milestones.
struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the milestones in order: name, what it teaches, its lesson."
    )

    func run() {
        let width = StageName.allCases.map(\.rawValue.count).max() ?? 0
        for stage in StageName.allCases {
            let info = stage.info
            let name = stage.rawValue.padding(to: width)
            print("\(info.milestone). \(name)  \(info.teaches)  → \(info.lesson)")
        }
    }
}

/// `httpkit version`: this build and the C libraries it links, proof that zlib and libedit are wired.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show httpkit's version and the versions of zlib and libedit it links."
    )

    func run() {
        print("httpkit \(HTTPKit.version)")
        print("zlib \(Gzip.zlibVersionString)")
        print("libedit \(LineEditor.libraryVersion)")
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
