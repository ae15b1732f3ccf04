import Foundation
import Testing

/// `httpkit check`, `lessons`, `lesson`, `next`, `learn` and `doctor` against the real binary.
@Suite("httpkit check and the teaching commands", .serialized)
struct CheckLiveTests {
    let progress = TemporaryDirectory()
    var environment: [String: String] { ["HTTPKIT_PROGRESS": progress.path + "/progress", "NO_COLOR": "1"] }

    func httpkit(_ arguments: [String], timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(HTTPKitBinary.path, arguments, timeout: timeout, environment: environment)
    }

    @Test("httpkit check passes against each of httpkit's own stages", .timeLimit(.minutes(3)),
          arguments: ["echo", "hello", "static", "fork", "threads", "eventloop", "keepalive", "router", "proxy"])
    func ownStagesPass(_ stage: String) throws {
        let result = try httpkit(["check", "--stage", stage] + (stage == "router" ? ["--all"] : []))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
        #expect(result.stdout.contains(" checks passed"))
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/broken_server.py").path
    static let www = HTTPKitBinary.repository.appendingPathComponent("www").path

    @Test("a broken server fails the right check with a useful message", .timeLimit(.minutes(2)), arguments: [
        ("no-content-length", "hello", "frames the body with Content-Length (or chunked), not by closing", "no Content-Length or Transfer-Encoding header"),
        ("no-keepalive", "keepalive", "keeps an HTTP/1.1 connection open for the next request", "the second request was not answered"),
        ("one-at-a-time", "threads", "a client that sends nothing does not block the others", "no response within 3 s"),
        ("always-200", "static", "answers a missing file with 404", nil),
    ] as [(String, String, String, String?)])
    func brokenServers(_ mode: String, _ stage: String, _ failing: String, _ note: String?) throws {
        let python = which("python3") ?? "/usr/bin/python3"
        let command = "\(python) \(Self.fixture) \(mode) {port} \(Self.www)"
        let result = try httpkit(["check", "--stage", stage, "--exec", command])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let failure = lines.firstIndex { $0.contains("✘ FAIL [\(stage)]") && $0.hasSuffix(failing) }
        #expect(failure != nil, "expected '\(failing)' to fail:\n\(result.stdout)")
        // It is the first check to fail (a mistake can make later, related checks fail too).
        #expect(lines.first { $0.contains("✘ FAIL") } == failure.map { lines[$0] }, "\(result.stdout)")
        if let failure {
            let details = lines[failure...].prefix(40).joined(separator: "\n")
            #expect(details.contains("expected: "))
            #expect(details.contains("reproduce: "))
            if let note { #expect(details.contains(note), "\(details)") }
        }
        let recorded = (try? String(contentsOfFile: progress.path + "/progress", encoding: .utf8)) ?? ""
        #expect(!recorded.contains(stage), "a failed check does not mark the stage done")
    }

    @Test func execServerIsAlwaysStopped() throws {
        let python = which("python3") ?? "/usr/bin/python3"
        let marker = "httpkit-stop-\(getpid())"
        _ = try httpkit(["check", "--stage", "static", "--exec", "\(python) \(Self.fixture) always-200 {port} \(Self.www) \(marker)"])
        let leftovers = try run("/bin/sh", ["-c", "ps -eo args | grep -c '[\(marker.prefix(1))]\(marker.dropFirst())' || true"]).stdout
        #expect(leftovers.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the --exec server is still running")
    }

    @Test("check gives clear errors", arguments: [
        (["check", "--stage", "hello", "--target", "127.0.0.1:1"], "nothing is listening on 127.0.0.1:1"),
        (["check", "--stage", "hello", "--exec", "sleep 30"], "did not listen"),
        (["check", "--stage", "nope"], "'nope'"),
        (["check", "--stage", "hello", "--target", "x"], "--target"),
    ])
    func checkErrors(_ arguments: [String], _ mentions: String) throws {
        let result = try httpkit(arguments, timeout: 40)
        #expect(result.status != 0)
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func progressLessonsNextAndLearn() throws {
        var result = try httpkit(["lessons"])
        #expect(result.stdout.contains("→ 01-echo.md"))
        #expect(result.stdout.contains("0 of 11 stages done"))
        let echo = try httpkit(["check", "--stage", "echo"])
        #expect(echo.status == 0, "\(echo.stdout)\(echo.stderr)")
        result = try httpkit(["lessons"])
        #expect(result.stdout.contains("✔ 01-echo.md"))
        #expect(result.stdout.contains("→ 02-hello.md"))
        result = try httpkit(["next"])
        #expect(result.stdout.hasPrefix("Next: stage 2 · hello"))
        #expect(result.stdout.contains("httpkit check --stage hello"))
        result = try httpkit([])
        #expect(result.stdout.contains("From lessons/02-hello.md, what you will learn:"))
        #expect(result.stdout.contains("  2. run the stage       httpkit hello"))
        result = try httpkit(["learn", "--check"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Next: stage 3 · static"))
        #expect(try httpkit(["lessons", "--reset"]).stdout.contains("Progress reset"))
        #expect(try httpkit(["next"]).stdout.hasPrefix("Next: stage 1 · echo"))
    }

    @Test func lessonInTheTerminal() throws {
        let result = try httpkit(["lesson", "3"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("03 · static"))
        #expect(result.stdout.contains("\n==="))
        #expect(!result.stdout.contains("```"))
        #expect(try httpkit(["lesson", "keepalive"]).stdout.contains("keepalive"))
        let missing = try httpkit(["lesson", "nothing-like-this"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no lesson matches"))
    }

    @Test func doctor() throws {
        let result = try httpkit(["doctor", "--port", "0"])
        #expect(result.stdout.contains("zlib 1."))
        #expect(result.stdout.contains("libedit linked"))
        #expect(result.stdout.contains("the bundled site is readable"))
        let server = try ServerProcess(["hello"])
        defer { server.stop() }
        let busy = try httpkit(["doctor", "--port", String(server.port)])
        #expect(busy.status != 0)
        #expect(busy.stdout.contains("port \(server.port) is in use by pid \(server.pid)"), "\(busy.stdout)")
    }
}
