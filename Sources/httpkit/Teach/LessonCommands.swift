import ArgumentParser
import Foundation
import Stages

/// The lesson files that ship with httpkit, found like www/.
enum LessonLibrary {
    static func directory() -> String? { BundledSite.locate(folder: "lessons", marker: "README.md") }

    /// Lesson files in reading order (their names start with the milestone number).
    static func files() -> [String] {
        guard let directory = directory(),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted().map { directory + "/" + $0 }
    }

    /// The lesson for `key`: a milestone number (3), a stage name (static), or part of a file name (dump).
    static func find(_ key: String) -> String? {
        let all = files()
        if let number = Int(key) {
            let prefix = number < 10 ? "0\(number)-" : "\(number)-"
            return all.first { ($0 as NSString).lastPathComponent.hasPrefix(prefix) }
        }
        if let stage = StageName(rawValue: key), let directory = directory() {
            return directory + "/" + (stage.info.lesson as NSString).lastPathComponent
        }
        return all.first { ($0 as NSString).lastPathComponent.lowercased().contains(key.lowercased()) }
    }

    /// The lesson's title: its first heading.
    static func title(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let heading = text.split(separator: "\n").first { $0.hasPrefix("# ") }
        return heading.map { String($0.dropFirst(2)) } ?? (path as NSString).lastPathComponent
    }

    /// The text of the section headed `heading` ("What you will learn").
    static func section(_ path: String, heading: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("## ") && $0.lowercased().contains(heading.lowercased()) }) else { return nil }
        let rest = lines[(start + 1)...]
        let end = rest.firstIndex { $0.hasPrefix("## ") } ?? lines.endIndex
        return lines[(start + 1)..<end].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `httpkit lessons`: the path, with progress.
struct LessonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lessons",
        abstract: "List the lessons in order, with your progress (a stage is done when its check passes).",
        discussion: "Examples:\n  httpkit lessons\n  httpkit lessons --reset     forget the progress (in ~/.httpkit/progress)"
    )

    @Flag(help: "Forget which stages are done.")
    var reset = false

    func run() throws {
        if reset {
            LearnerProgress.reset()
            print("Progress reset: every stage is to do again (\(LearnerProgress.path) removed).")
            return
        }
        guard !LessonLibrary.files().isEmpty else {
            throw CLIError(message: "lessons: cannot find the lessons/ folder next to httpkit or in the current directory")
        }
        print(PathView.render(color: ColorChoice.auto.enabled(for: 1)))
    }
}

/// The milestones with ✔ done, → next, · to do, and the extra lessons in between.
enum PathView {
    static func render(color: Bool) -> String {
        let levels = LearnerProgress.levels()
        let next = LearnerProgress.next()
        var lines: [String] = []
        for file in LessonLibrary.files() {
            let name = (file as NSString).lastPathComponent
            let stage = StageName.allCases.first { ($0.info.lesson as NSString).lastPathComponent == name }
            let mark: String
            if let stage {
                switch levels[stage] {
                case .built: mark = paint("✔", "32", color)
                case .explored: mark = paint("○", "36", color)
                case nil: mark = stage == next ? paint("→", "1;33", color) : "·"
                }
            } else {
                mark = " "
            }
            let level = stage.flatMap { levels[$0] }.map { "   (\($0.rawValue))" } ?? ""
            // 07b · keepalive, …: the second half of a stage's lesson, not a side lesson like 02b.
            let continued = stage == nil ? StageName.allCases.first { LessonLibrary.title(file).hasPrefix("\(name.prefix(3)) · \($0.rawValue)") } : nil
            let suffix = stage == next ? "   ← next" : stage == nil
                ? continued.map { "   (lesson \($0.info.milestone), continued)" } ?? "   (a side lesson)" : level
            lines.append("  \(mark) \(name.padding(to: 31)) \(LessonLibrary.title(file))\(suffix)")
        }
        let built = levels.values.filter { $0 == .built }.count
        lines.append("\(levels.count) of \(StageName.allCases.count) stages done: \(built) built (✔ your server passed), "
                     + "\(levels.count - built) explored (○ httpkit's passed). Read one with: httpkit lesson NUMBER|NAME")
        return lines.joined(separator: "\n")
    }

    static func paint(_ text: String, _ code: String, _ color: Bool) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
}

/// `httpkit lesson [N|NAME]`: a lesson in the terminal.
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "Show a lesson in the terminal (in a pager on a terminal).",
        discussion: "Examples:\n  httpkit lesson            the next one on your path\n  httpkit lesson 3\n  httpkit lesson keepalive\n  httpkit lesson dump"
    )

    @Argument(help: "A milestone number, a stage name or part of a lesson's file name.")
    var which: String?

    @Flag(help: "Print straight to the terminal, without a pager.")
    var noPager = false

    func run() throws {
        let key = which ?? LearnerProgress.next()?.rawValue ?? "01"
        guard let path = LessonLibrary.find(key), let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            let known = StageName.allCases.map(\.rawValue).joined(separator: ", ")
            throw CLIError(message: "lesson: no lesson matches '\(key)'. Try a number (1-\(StageName.allCases.count)), a stage (\(known)), or run httpkit lessons.")
        }
        let interactive = isatty(1) != 0
        let rendered = MarkdownTerminal(width: TerminalSize.columns(), color: interactive && ColorChoice.auto.enabled(for: 1)).render(text)
        if interactive && !noPager { Pager.show(rendered) } else { print(rendered, terminator: "") }
    }
}

/// `httpkit next`: what to do now.
struct NextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "next", abstract: "Say what to do next on the path.")

    func run() {
        print(NextSteps.text(for: LearnerProgress.next()))
    }
}

enum NextSteps {
    static func text(for next: StageName?) -> String {
        guard let stage = next else {
            return "Every stage is done. Compare your numbers with nginx (scripts/bench), or start again with httpkit lessons --reset."
        }
        let info = stage.info
        var lines = ["Next: stage \(info.milestone) · \(stage.rawValue) — \(info.teaches)", ""]
        lines += [
            "  1. read the lesson     httpkit lesson \(stage.rawValue)",
            "  2. run the stage       httpkit \(stage.rawValue)",
            "  3. poke it             httpkit repl 127.0.0.1:8080      (or: curl -v http://127.0.0.1:8080/)",
            "  4. check it            httpkit check --stage \(stage.rawValue)",
            "     your own server:    httpkit check --stage \(stage.rawValue) --exec 'python3 myserver.py \(stage.execArguments)'",
            "     stuck?              httpkit hint \(stage.rawValue) --exec 'python3 myserver.py \(stage.execArguments)'",
            "",
            "httpkit learn --check runs step 4 and moves you on when it passes (add --exec to check your own server:",
            "the stage is then built, not only explored).",
        ]
        if let hint = hints[stage] { lines += ["", "Hint: " + hint] }
        return lines.joined(separator: "\n")
    }

    static let hints: [StageName: String] = [
        .echo: "read() returns whatever has arrived, not a message: loop until it returns 0 (the client closed).",
        .hello: "keep reading until you have seen \\r\\n\\r\\n, then Content-Length more bytes; answer with Content-Length.",
        .static: "decode %XX before you look at '..', and check the real path (realpath) is still under the root.",
        .fork: "the parent must close the client socket and reap children on SIGCHLD; accept() can fail with EINTR.",
        .threads: "bound the threads with a semaphore; an unbounded server dies of the 10,000th slow client.",
        .eventloop: "a nonblocking write can send part of your buffer: remember the rest and wait for EPOLLOUT.",
        .keepalive: "after a response, the bytes already read may hold the next request: parse them before reading again.",
        .router: "decide on the normalised path everywhere, and add Vary: Accept-Encoding when gzip depends on the header.",
    ]
}

/// `httpkit learn` (also plain `httpkit`): where you are, what the next stage teaches, what to run.
struct LearnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Start here: your place on the path, the next lesson, the commands to run.",
        discussion: "Examples:\n  httpkit\n  httpkit learn --check                 check the current stage against httpkit's own server\n  httpkit learn --check --target 127.0.0.1:9000   ... against yours\n  httpkit learn --check --exec 'python3 server.py {port}'   ... started for you"
    )

    @Flag(help: "Run the current stage's check and move on when it passes.")
    var check = false

    @Option(help: ArgumentHelp("With --check: your server, HOST:PORT.", valueName: "host:port"))
    var target: String?

    @Option(name: .customLong("exec"), help: ArgumentHelp("With --check: a command that starts your server; {port} is replaced by a free port.", valueName: "command"))
    var command: String?

    func validate() throws {
        if (target != nil || command != nil) && !check { throw ValidationError("--target and --exec go with --check") }
        if target != nil && command != nil { throw ValidationError("--target and --exec exclude each other: give one") }
    }

    func run() throws {
        let color = ColorChoice.auto.enabled(for: 1)
        let next = LearnerProgress.next()
        if check, let stage = next {
            let arguments = ["--stage", stage.rawValue] + (target.map { ["--target", $0] } ?? []) + (command.map { ["--exec", $0] } ?? [])
            try CheckCommand.parse(arguments).run()
            print("")
            print(NextSteps.text(for: LearnerProgress.next()))
            return
        }
        print("httpkit: build an HTTP/1.1 server from raw sockets, one milestone at a time.\n")
        print(PathView.render(color: color))
        print("")
        if let stage = next, let path = LessonLibrary.find(stage.rawValue),
           let learn = LessonLibrary.section(path, heading: "What you will learn") {
            print("From \(stage.info.lesson), what you will learn:")
            print(MarkdownTerminal(width: TerminalSize.columns(), color: color).render(learn))
        }
        print(NextSteps.text(for: next))
    }
}

/// The terminal's width, from the tty or COLUMNS; 80 otherwise.
enum TerminalSize {
    static func columns() -> Int {
        var size = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 80
    }
}

/// Shows long text in `$PAGER` (or less -R), as git does.
enum Pager {
    static func show(_ text: String) {
        let pager = ProcessInfo.processInfo.environment["PAGER"] ?? "less -R -F -X"
        guard let pipe = popen(pager, "w") else {
            print(text, terminator: "")
            return
        }
        fputs(text, pipe)
        pclose(pipe)
    }
}
