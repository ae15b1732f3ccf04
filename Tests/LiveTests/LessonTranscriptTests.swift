import Foundation
import Testing

/// A transcript in a lesson: the commands of one ```console block and the output printed under each.
struct Transcript: Sendable, CustomStringConvertible {
    let file: String
    let line: Int
    /// `stage args…` from a `<!-- transcript-server: … -->` comment before the block: the server the
    /// commands talk to on 127.0.0.1:8080.
    let server: [String]?
    let steps: [(command: String, output: String)]

    var description: String { "\((file as NSString).lastPathComponent):\(line)" }

    /// Commands that need no server and print the same thing every time.
    static func isSelfContained(_ command: String) -> Bool {
        command.hasPrefix("httpkit stages") || command.hasPrefix("httpkit dump")
            || (command.hasPrefix("printf ") && command.contains("| httpkit dump"))
    }

    /// Whether this transcript is checked against the program.
    var isCheckable: Bool { server != nil || steps.allSatisfy { Self.isSelfContained($0.command) } }
}

enum Transcripts {
    static func parse(_ path: String) -> [Transcript] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let lines = text.components(separatedBy: "\n")
        var transcripts: [Transcript] = []
        var index = 0
        var server: [String]?
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("<!-- transcript-server:") {
                server = line.dropFirst("<!-- transcript-server:".count).replacing("-->", with: "")
                    .split(separator: " ").map(String.init)
            } else if line.hasPrefix("```console") {
                let start = index + 1
                var end = start
                while end < lines.count && !lines[end].hasPrefix("```") { end += 1 }
                var steps: [(String, String)] = []
                var command: String?
                var output: [String] = []
                for body in lines[start..<min(end, lines.count)] {
                    if body.hasPrefix("$ ") {
                        if let command { steps.append((command, output.joined(separator: "\n"))) }
                        command = String(body.dropFirst(2))
                        output = []
                    } else {
                        output.append(body)
                    }
                }
                if let command { steps.append((command, output.joined(separator: "\n"))) }
                if !steps.isEmpty { transcripts.append(Transcript(file: path, line: start, server: server, steps: steps)) }
                server = nil
                index = end
            }
            index += 1
        }
        return transcripts
    }

    static func all() -> [Transcript] {
        let directory = HTTPKitBinary.repository.appendingPathComponent("lessons").path
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
        return files.flatMap { parse(directory + "/" + $0) }
    }

    /// What varies from run to run: ports, dates, timings, temporary names.
    static func normalise(_ text: String, port: UInt16?) -> String {
        var result = text
        if let port { result = result.replacing(String(port), with: "8080") }
        result = result.replacing(#/[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/#, with: "DATE")
        result = result.replacing(#/\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000/#, with: "LOGDATE")
        result = result.replacing(#/ in \d+(\.\d+)? ms \(\d+ reads?\)/#, with: " in N ms")
        result = result.replacing(#/[ \t]+$/#.anchorsMatchLineEndings(), with: "")
        return result.trimmingCharacters(in: .newlines)
    }

    /// Runs a transcript and returns the first step whose output differs, as (command, expected, actual).
    static func verify(_ transcript: Transcript) throws -> (String, String, String)? {
        var server: ServerProcess?
        defer { server?.stop() }
        if let arguments = transcript.server { server = try ServerProcess(arguments) }
        let binDirectory = (HTTPKitBinary.path as NSString).deletingLastPathComponent
        let path = binDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let directory = TemporaryDirectory()
        for step in transcript.steps {
            var command = step.command
            if let port = server?.port { command = command.replacing("127.0.0.1:8080", with: "127.0.0.1:\(port)").replacing(" 8080", with: " \(port)") }
            let result = try spawn("/bin/sh", ["-c", "cd '\(directory.path)' && " + command], timeout: 30,
                                   environment: ["PATH": path, "NO_COLOR": "1", "COLUMNS": "100", "HTTPKIT_WWW": HTTPKitBinary.repository.appendingPathComponent("www").path])
            let actual = normalise(result.stdout, port: server?.port)
            let expected = normalise(step.output, port: nil)
            if actual != expected { return (step.command, expected, actual) }
        }
        return nil
    }
}

@Suite("lesson transcripts match the program")
struct LessonTranscriptTests {
    @Test func enoughTranscriptsAreChecked() {
        let checkable = Transcripts.all().filter(\.isCheckable)
        #expect(checkable.count >= 8, "only \(checkable.count) transcripts are checked: \(checkable)")
    }

    @Test("each checkable transcript is the program's real output", .timeLimit(.minutes(3)),
          arguments: Transcripts.all().filter(\.isCheckable).map(\.description))
    func transcript(_ name: String) throws {
        let transcript = Transcripts.all().first { $0.description == name }!
        if let (command, expected, actual) = try Transcripts.verify(transcript) {
            Issue.record("\(name): `\(command)` printed something else.\n--- lesson says:\n\(expected)\n--- program prints:\n\(actual)")
        }
    }

    @Test func anEditedTranscriptIsCaught() throws {
        let original = try #require(Transcripts.all().first { $0.isCheckable && $0.server == nil })
        let edited = Transcript(file: original.file, line: original.line, server: nil,
                                steps: original.steps.map { ($0.command, $0.output.replacing("e", with: "E")) })
        #expect(try Transcripts.verify(original) == nil)
        #expect(try Transcripts.verify(edited) != nil, "a transcript edited to disagree with the program must fail")
    }
}
