import Foundation
import Testing

/// The http2 stage against Python's h2 library (PyPI: h2, hpack, hyperframe), an HTTP/2 implementation
/// written by other people: streams interleaved on one connection, flow control with a tiny window, and
/// frames a server must refuse, each with the right code (Fixtures/h2_client.py). Then `httpkit check
/// --stage http2` against httpkit's own stage, and against a server broken on purpose
/// (Fixtures/broken_h2_server.py), which must fail the right check.
///
/// scripts/setup installs h2. Without it these tests are skipped with that message, except in CI
/// (HTTPKIT_REQUIRE_BROWSER=1 or CI set), where a missing h2 is a failure.
@Suite("the http2 stage with Python's h2 library", .serialized)
final class HTTP2PythonLiveTests {
    static let python = which("python3")
    static let h2Installed: Bool = python.map { (try? run($0, ["-c", "import h2, hpack, hyperframe"]))?.status == 0 } ?? false
    static let required = BrowserLiveTests.required || ProcessInfo.processInfo.environment["CI"] != nil
    /// Both loops run the same HTTP2Connection: the readiness loop, and the completion loop where io_uring works.
    static let pollers = ["epoll"] + (ioUringUnavailable == nil ? ["io_uring"] : [])
    /// Run when h2 is there, or when CI requires it (then its absence is recorded as a failure).
    static let runnable = h2Installed || required
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    let root = TemporaryDirectory()

    init() throws {
        // A 1.5 MB file that needs many flow-control windows, and two small ones; deterministic bytes.
        var state: UInt32 = 2_463_534_242
        let big = (0..<1_500_000).map { _ -> UInt8 in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
        try Data(big).write(to: URL(fileURLWithPath: root.path + "/big.bin"))
        try Data(String(repeating: "alpha file\n", count: 10).utf8).write(to: URL(fileURLWithPath: root.path + "/a.txt"))
        try Data("bravo\n".utf8).write(to: URL(fileURLWithPath: root.path + "/b.txt"))
    }

    /// Whether h2 can be used; records a failure when CI requires it and it is missing.
    func h2Available() -> Bool {
        if Self.h2Installed { return true }
        Issue.record("Python's h2 is not installed, and CI requires it (scripts/setup installs it: python3 -m pip install h2)")
        return false
    }

    /// Runs Fixtures/h2_client.py MODE against a fresh `httpkit http2 --root ROOT --poller POLLER`.
    func client(_ mode: String, poller: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let server = try ServerProcess(["http2", "--root", root.path, "--access-log", "off", "--poller", poller])
        defer { server.stop() }
        return try run(Self.python!, [Self.fixtures.appendingPathComponent("h2_client.py").path, mode, String(server.port), root.path], timeout: 60)
    }

    @Test(.enabled(if: runnable, "Python's h2 is not installed (scripts/setup installs it)"), .timeLimit(.minutes(2)),
          arguments: HTTP2PythonLiveTests.pollers)
    func streamsInterleaveOnOneConnection(_ poller: String) throws {
        guard h2Available() else { return }
        let result = try client("interleave", poller: poller)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok interleave"), "\(result.stdout)")
    }

    @Test(.enabled(if: runnable, "Python's h2 is not installed (scripts/setup installs it)"), .timeLimit(.minutes(2)),
          arguments: HTTP2PythonLiveTests.pollers)
    func flowControlStopsAndResumesOnWindowUpdate(_ poller: String) throws {
        guard h2Available() else { return }
        let result = try client("flow", poller: poller)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok flow"), "\(result.stdout)")
    }

    @Test(.enabled(if: runnable, "Python's h2 is not installed (scripts/setup installs it)"), .timeLimit(.minutes(2)),
          arguments: HTTP2PythonLiveTests.pollers)
    func errorsAreAnsweredWithTheRightCode(_ poller: String) throws {
        guard h2Available() else { return }
        let result = try client("errors", poller: poller)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("STREAM_CLOSED") && result.stdout.contains("FLOW_CONTROL_ERROR"), "\(result.stdout)")
    }

    // MARK: - httpkit check --stage http2

    func check(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let progress = TemporaryDirectory()
        return try run(HTTPKitBinary.path, ["check", "--stage", "http2"] + arguments, timeout: 90,
                       environment: ["HTTPKIT_PROGRESS": progress.path + "/progress", "NO_COLOR": "1"])
    }

    @Test(.timeLimit(.minutes(2))) func checkPassesAgainstHttpkitsOwnStage() throws {
        let result = try check([])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"), "\(result.stdout)")
        #expect(result.stdout.contains("[http2]") && result.stdout.contains(" checks passed"), "\(result.stdout)")
    }

    @Test("a broken HTTP/2 server fails the right check, with its frames annotated",
          .enabled(if: runnable, "Python's h2 is not installed (scripts/setup installs it)"), .timeLimit(.minutes(2)), arguments: [
        ("ignores-flow-control", "respects flow control: with a 16-octet window it waits for WINDOW_UPDATE (§5.2, §6.9)",
         "48 octets of DATA with a stream window of 16", "DATA  stream 1, length 48"),
        ("no-settings-ack", "exchanges SETTINGS: its own first, then an ACK of ours (RFC 9113 §3.4, §6.5.3)",
         "no SETTINGS ACK within 3 s", "SETTINGS  stream 0, length"),
    ])
    func brokenServerFailsTheRightCheck(_ mode: String, _ failing: String, _ note: String, _ frame: String) throws {
        guard h2Available() else { return }
        let command = "\(Self.python!) \(Self.fixtures.appendingPathComponent("broken_h2_server.py").path) \(mode) {port} \(HTTPKitBinary.repository.appendingPathComponent("www").path)"
        let result = try check(["--exec", command])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let failure = lines.firstIndex { $0.contains("✘ FAIL [http2]") && $0.hasSuffix(failing) }
        #expect(failure != nil, "expected '\(failing)' to fail:\n\(result.stdout)")
        // It is the first check to fail; the router checks after it fail too (the fixture speaks only HTTP/2).
        #expect(lines.first { $0.contains("✘ FAIL") } == failure.map { lines[$0] }, "\(result.stdout)")
        if let failure {
            let details = lines[failure...].prefix(40).joined(separator: "\n")
            #expect(details.contains(note), "\(details)")
            #expect(details.contains(frame), "the server's frames are shown annotated:\n\(details)")
            #expect(details.contains("reproduce: printf ':h2"), "\(details)")
        }
    }

    @Test(.enabled(if: runnable, "Python's h2 is not installed (scripts/setup installs it)"), .timeLimit(.minutes(2)))
    func aMixedPortThatAnswersEveryLineInHTTP11FailsThePrefaceCheck() throws {
        guard h2Available() else { return }
        let command = "\(Self.python!) \(Self.fixtures.appendingPathComponent("broken_h2_server.py").path) http1-for-any-line {port} \(HTTPKitBinary.repository.appendingPathComponent("www").path)"
        let result = try check(["--exec", command])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let failure = lines.firstIndex { $0.contains("✘ FAIL [http2]") && $0.contains("neither the preface nor a request line") }
        #expect(failure != nil, "\(result.stdout)")
        #expect(lines.first { $0.contains("✘ FAIL [http2]") } == failure.map { lines[$0] }, "the first http2 check to fail:\n\(result.stdout)")
        if let failure {
            let details = lines[failure...].prefix(30).joined(separator: "\n")
            #expect(details.contains("the server answered in HTTP/1.1"), "\(details)")
            #expect(details.contains("400 Bad Request"), "the HTTP/1.1 answer is shown:\n\(details)")
            #expect(details.contains("reproduce: printf 'INVALID CONNECTION PREFACE"), "\(details)")
        }
    }
}
