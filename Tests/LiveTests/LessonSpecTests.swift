import Foundation
import Testing

/// Each stage lesson's "Build it yourself" section is `httpkit spec STAGE`, which is made from the checks'
/// own definitions: a check that changes its request, or a lesson edited by hand, fails here until
/// `scripts/sync-lesson-specs` writes the section again.
@Suite("lesson specs match httpkit spec")
struct LessonSpecTests {
    /// The stages whose lesson has the section.
    static let lessons = [
        ("echo", "01-echo.md"), ("hello", "02-hello.md"), ("static", "03-static.md"), ("fork", "04-fork.md"),
        ("threads", "05-threads.md"), ("eventloop", "06-eventloop.md"), ("keepalive", "07b-keepalive-measured.md"),
        ("router", "08b-router-uploads-and-auth.md"), ("websocket", "09-websocket.md"), ("http2", "12-http2.md"),
        ("proxy", "13-proxy.md"),
    ]

    /// The output under `$ httpkit spec STAGE` in the lesson's "## Build it yourself" section, or nil.
    static func lessonSpec(_ file: String, stage: String) throws -> String? {
        let text = try String(contentsOf: HTTPKitBinary.repository.appendingPathComponent("lessons/" + file), encoding: .utf8)
        guard let start = text.range(of: "\n## Build it yourself\n") else { return nil }
        let section = text[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        let body = section[..<end]
        guard let command = body.range(of: "```console\n$ httpkit spec \(stage)\n"),
              let close = body[command.upperBound...].range(of: "\n```") else { return nil }
        return String(body[command.upperBound..<close.lowerBound])
    }

    static func spec(_ stage: String) throws -> String {
        let result = try run(HTTPKitBinary.path, ["spec", stage], timeout: 20, environment: ["NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    @Test("each stage lesson's Build it yourself section is httpkit spec's output", arguments: lessons)
    func sectionMatches(_ stage: String, _ file: String) throws {
        let lesson = try #require(try Self.lessonSpec(file, stage: stage),
                                  "\(file) has no '## Build it yourself' section with a ```console block of `$ httpkit spec \(stage)`")
        let program = try Self.spec(stage)
        if lesson != program {
            let lessonLines = lesson.components(separatedBy: "\n"), programLines = program.components(separatedBy: "\n")
            let first = Array(zip(lessonLines, programLines)).firstIndex { $0 != $1 } ?? min(lessonLines.count, programLines.count)
            Issue.record("""
                \(file): the spec differs from `httpkit spec \(stage)` from line \(first + 1) (scripts/sync-lesson-specs rewrites it):
                --- lesson:  \(first < lessonLines.count ? lessonLines[first] : "(end)")
                --- program: \(first < programLines.count ? programLines[first] : "(end)")
                """)
        }
    }

    @Test func hasFewSmallSteps() throws {
        let hello = try Self.spec("hello")
        #expect(hello.contains("Build it in 4 steps"), "\(hello)")
        #expect(hello.contains("Step 1 of 4 · Answer with a status line\n  - answers GET / with a 2xx status\n"
            + "    sends:   'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n'\n"), "\(hello)")
        // Bytes that are not printable are printf escapes, never raw bytes.
        #expect(hello.contains("'\\001\\002 GARBAGE\\r\\n\\r\\n'"))
        #expect(!hello.contains("\r"))
    }

    @Test func anEditedSectionIsCaught() throws {
        let lesson = try #require(try Self.lessonSpec("02-hello.md", stage: "hello"))
        #expect(lesson.replacing("Host: localhost", with: "Host: x") != (try Self.spec("hello")))
    }
}
