import ArgumentParser
import Foundation

/// `httpkit new python|c DIR`: a runnable skeleton of your own server, with a TODO for each step of the
/// hello and static specs, and the commands that check it.
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a starter for your own server (python or c) with a TODO per step of hello and static.",
        discussion: """
        Examples:
          httpkit new python myserver      myserver/server.py, run with python3
          httpkit new c myserver           myserver/server.c and run.sh (compiles with cc, then runs)
        Then: httpkit spec hello, and httpkit check --stage hello --step 1 --exec '…' (printed for you).
        """
    )

    enum Language: String, ExpressibleByArgument, CaseIterable {
        case python, c
    }

    @Argument(help: ArgumentHelp("The language: python or c.", valueName: "language"))
    var language: Language

    @Argument(help: ArgumentHelp("The folder to write it in (made if missing).", valueName: "dir"))
    var directory: String

    @Flag(help: "Overwrite the starter's files if they are there already.")
    var force = false

    func run() throws {
        let www = BundledSite.locate() ?? "www"
        let files: [(name: String, text: String)]
        let command: String
        let folder = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        switch language {
        case .python:
            files = [("server.py", PythonStarter.server)]
            command = "python3 \(shellWord(folder + "/server.py")) {port}"
        case .c:
            files = [("server.c", CStarter.server), ("run.sh", CStarter.run)]
            command = "sh \(shellWord(folder + "/run.sh")) {port}"
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in files where !force && FileManager.default.fileExists(atPath: folder + "/" + file.name) {
            throw CLIError(message: "new: \(folder)/\(file.name) exists already: keep your work, pick another folder, or add --force")
        }
        for file in files {
            let text = file.text.replacing("@WWW@", with: www) + "\n"
            try text.write(toFile: folder + "/" + file.name, atomically: true, encoding: .utf8)
        }
        print("Wrote \(files.map { folder + "/" + $0.name }.joined(separator: " and ")): a server with a TODO for each step of hello (4) and static (4).")
        print("Until step 1 is written it answers with that TODO's message. Next:")
        print("  httpkit spec hello                   the steps, and the bytes each check sends")
        print("  httpkit check --stage hello --step 1 --exec '\(command)'")
        print("                                       check the steps written so far (1, then 2, …)")
        print("  httpkit check --stage hello --watch --exec '\(command)'")
        print("                                       the same each time you save a file in \(folder)")
        print("  httpkit hint hello --exec '\(command)'")
        print("                                       what the first failing check needs")
        print("Then httpkit spec static and httpkit check --stage static --exec '\(command)' (it serves \(www)).")
    }

    /// A path as one shell word inside the single-quoted --exec argument: plain paths as they are, others in
    /// double quotes.
    func shellWord(_ path: String) -> String {
        path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+".contains($0) } ? path : "\"\(path)\""
    }
}
