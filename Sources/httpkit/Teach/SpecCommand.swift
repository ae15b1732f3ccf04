import ArgumentParser
import Stages

/// `httpkit spec STAGE`: what to build for a stage, in small steps, as the checks see it. Each step lists
/// its checks with the bytes they send (the strings the checks' own code sends, escaped as printf writes
/// them) and what they expect back. The text is made from the check definitions, so it cannot drift from
/// them; each lesson's "Build it yourself" section is this output, and a test keeps it so.
struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "What to build for a stage, step by step: the bytes each check sends and what it expects.",
        discussion: """
        Examples:
          httpkit spec hello                  the hello stage in 4 steps
          httpkit spec static
          httpkit check --stage hello --step 1 --exec 'python3 server.py {port}'
                                              then check your server, one step at a time
        """
    )

    @Argument(help: ArgumentHelp("The stage: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "stage"))
    var stage: StageName?

    @Option(help: ArgumentHelp("A course instead of a stage: codecrafters.", valueName: "name"))
    var course: Course?

    func validate() throws {
        if (stage == nil) == (course == nil) { throw ValidationError("give a stage (httpkit spec hello) or --course codecrafters") }
    }

    func run() throws {
        if let stage { print(Spec.text(for: stage)) }
        if let course { print(Spec.text(for: course)) }
    }
}

extension StageName {
    /// What a learner's server takes in the --exec examples: its port, and for a proxy its upstreams.
    var execArguments: String { self == .proxy ? "{port} {upstreams}" : "{port}" }
}

/// The spec of a stage, as text: made only from `CheckCatalog`.
enum Spec {
    /// A stage's build steps: consecutive checks with the same step title, in check order.
    static func steps(_ checks: [Check]) -> [(title: String, checks: [Check])] {
        var steps: [(title: String, checks: [Check])] = []
        for check in checks {
            if steps.last?.title == check.step {
                steps[steps.count - 1].checks.append(check)
            } else {
                steps.append((check.step, [check]))
            }
        }
        return steps
    }

    /// The checks of steps 1 to `step` (all of them when nil).
    static func checks(_ checks: [Check], upTo step: Int?) -> [Check] {
        guard let step else { return checks }
        return steps(checks).prefix(step).flatMap(\.checks)
    }

    static func text(for course: Course) -> String {
        let steps = steps(course.checks)
        var lines = [
            "The \(course.rawValue) course (CodeCrafters' HTTP server: the base stages, compression, persistent connections), offline.",
            "\(steps.count) steps, each one of the course's stages; check your program with all of them:",
            "  httpkit check --course \(course.rawValue) --exec './your_program.sh --directory {dir}'",
            "It listens on port \(course.port) (or on {port} if the command has it); {dir} becomes a folder made for the run.",
            "Each check opens a new connection (unless it says otherwise) and sends these bytes, written as printf",
            "writes them (\\r\\n is CR LF): printf 'BYTES' | nc -q1 127.0.0.1 \(course.port) sends one by hand.",
        ]
        lines += stepLines(steps)
        return lines.joined(separator: "\n")
    }

    static func text(for stage: StageName) -> String {
        let steps = steps(CheckCatalog.checks(for: stage))
        var lines = [
            "Stage \(stage.info.milestone) · \(stage.rawValue): \(stage.info.teaches).",
            "Build it in \(steps.count) step\(steps.count == 1 ? "" : "s"); after each, check your server up to that step:",
            "  httpkit check --stage \(stage.rawValue) --step 1 --exec 'python3 server.py \(stage.execArguments)'",
            "Each check opens a new connection (unless it says otherwise) and sends these bytes, written as printf",
            "writes them (\\r\\n is CR LF): printf 'BYTES' | nc -q1 127.0.0.1 9000 sends one by hand.",
        ]
        if stage.info.servesFiles {
            lines.append("The server serves httpkit's www/ folder (httpkit doctor says where it is).")
        }
        if stage == .proxy {
            lines += [
                "{upstreams} becomes the check's own two upstream servers, a and b (127.0.0.1:PORT_A,127.0.0.1:PORT_B):",
                "your proxy forwards to them, and they record what arrives, so the checks see both hops. Each answer",
                "says who made it (X-Upstream: a); GET /headers answers with the head that arrived. To see it by hand,",
                "httpkit check-upstreams runs them on 8081 and 8082 and prints each request. With --target (a proxy you",
                "started, in front of httpkit router), the checks that read the upstreams' side are skipped.",
            ]
        }
        lines += stepLines(steps)
        return lines.joined(separator: "\n")
    }

    /// Each step's title, then each check's name, the bytes it sends, how, and what it expects.
    static func stepLines(_ steps: [(title: String, checks: [Check])]) -> [String] {
        var lines: [String] = []
        for (index, step) in steps.enumerated() {
            lines.append("")
            lines.append("Step \(index + 1) of \(steps.count) · \(step.title)")
            for check in step.checks {
                lines.append("  - \(check.name)")
                for (number, sent) in check.sends.enumerated() {
                    lines.append("    \(number == 0 ? "sends:  " : "then:   ") \(Reproduce.printfQuoted(sent))")
                }
                if let how = check.how { lines.append("    \(check.sends.isEmpty ? "sends:  " : "how:    ") \(how)") }
                lines.append("    expects: \(check.expects)")
            }
        }
        return lines
    }
}
