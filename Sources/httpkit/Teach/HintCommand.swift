import ArgumentParser
import Foundation
import Sockets
import Stages

/// `httpkit hint [STAGE]`: the next thing to fix. Against your server (--exec/--target) it runs the stage's
/// checks quietly and explains the first one that fails, with the reason its wire dump gives and that
/// check's own hint; without one, it gives the stage's hint and the checks to pass, step by step.
struct HintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hint",
        abstract: "The next hint: what the first failing check of a stage needs (your stage on the path by default).",
        discussion: """
        Examples:
          httpkit hint                                     the stage you are on: its hint and its checks
          httpkit hint hello --exec 'python3 server.py {port}'   the first check your server fails, and why
          httpkit hint static --target 127.0.0.1:9000
        """
    )

    @Argument(help: ArgumentHelp("The stage (default: the next one on your path).", valueName: "stage"))
    var stage: StageName?

    @Option(help: ArgumentHelp("Your server, already running: HOST:PORT.", valueName: "host:port"))
    var target: String?

    @Option(name: .customLong("exec"), help: ArgumentHelp("A command that starts your server; {port} is replaced by a free port ({upstreams}: see httpkit check --help).", valueName: "command"))
    var command: String?

    func validate() throws {
        if target != nil && command != nil { throw ValidationError("--target and --exec exclude each other: give one") }
        if let target, CheckCommand.parseTarget(target) == nil {
            throw ValidationError("--target '\(target)' is not HOST:PORT, such as 127.0.0.1:9000")
        }
    }

    func run() throws {
        guard let stage = stage ?? LearnerProgress.next() else {
            print("Every stage is done: no hint needed. (httpkit hint STAGE for a given one.)")
            return
        }
        let checks = CheckCatalog.checks(for: stage)
        guard target != nil || command != nil else {
            print("Stage \(stage.info.milestone) · \(stage.rawValue): \(NextSteps.hints[stage] ?? stage.info.teaches)")
            print("")
            print("Its checks, in the order to make them pass (httpkit spec \(stage.rawValue) shows the bytes each sends):")
            var number = 0
            for (index, step) in Spec.steps(checks).enumerated() {
                print("  step \(index + 1) · \(step.title)")
                for check in step.checks {
                    number += 1
                    print("    \(number). \(check.name)")
                }
            }
            print("")
            print("Against your server, the hint is for the first check it fails: httpkit hint \(stage.rawValue) --exec 'python3 server.py \(stage.execArguments)'")
            return
        }
        StopSignal.install()
        let server = try CheckCommand.server(stage, target: target, command: command)
        defer { server.stop() }
        for (index, check) in checks.enumerated() {
            if StopSignal.isRequested { return }
            guard case .fail(let expected, let got, let note, let reproduce) = check.run(server.target) else { continue }
            print(index == 0 ? "The first check of \(stage.rawValue) to make pass:"
                  : "The first \(index) of \(checks.count) checks of \(stage.rawValue) pass. The next to make pass:")
            print("  \(check.name)")
            for line in CheckReport.explanation(expected: expected, got: got, note: note) where !line.hasPrefix("got:") {
                print("    " + line)
            }
            print("    hint:     \(check.hint)")
            if let start = server.startCommand { print("    start it:  \(start)   (in another terminal; then:)") }
            print("    see it:   \(reproduce)")
            print("  (httpkit check --stage \(stage.rawValue) shows the wire dump of what came back)")
            throw ExitCode.failure
        }
        print("Every check of \(stage.rawValue) passes: nothing to hint. Record it with httpkit check --stage \(stage.rawValue) and the same server.")
    }
}
