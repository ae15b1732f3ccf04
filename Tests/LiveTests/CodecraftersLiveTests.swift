import Foundation
import Testing

/// `httpkit check --course codecrafters`: httpkit's own router and a learner's solution pass it, and a
/// solution with one classic bug fails the check of the course stage that bug belongs to.
@Suite("httpkit check --course codecrafters")
struct CodecraftersLiveTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/codecrafters_server.py").path
    static let python = which("python3") ?? "/usr/bin/python3"

    func check(_ extra: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(HTTPKitBinary.path, ["check", "--course", "codecrafters"] + extra, timeout: 60, environment: ["NO_COLOR": "1"])
    }

    @Test func ownRouterPasses() throws {
        let result = try check([])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("against httpkit's own router"))
        #expect(result.stdout.contains("17 of 17 checks passed"), "\(result.stdout)")
    }

    @Test func aCorrectSolutionPassesAndItsFolderIsRemoved() throws {
        let result = try check(["--exec", "\(Self.python) \(Self.fixture) --port {port} --directory {dir}"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✔ pass [cc base]    POST /files/NAME writes the body to --directory and answers 201"))
        let folder = try #require(result.stdout.firstMatch(of: #/--directory (\S+)/#)).1
        #expect(!FileManager.default.fileExists(atPath: String(folder)), "the {dir} folder is removed after the run")
    }

    @Test("a solution with one bug fails the right check", arguments: [
        ("gzip-exact", "Accept-Encoding: invalid-encoding-1, gzip, invalid-encoding-2 gets Content-Encoding: gzip", "Content-Encoding: (none)"),
        ("close-always", "answers two requests on one connection", "the server closed the connection after the first response"),
        ("length-chars", "gzips the body: it decompresses to abc, and Content-Length is the compressed length", "Content-Length 3 ≠ body 23"),
    ])
    func bug(_ bug: String, _ failing: String, _ reason: String) throws {
        let result = try check(["--exec", "\(Self.python) \(Self.fixture) --bug \(bug) --port {port} --directory {dir}"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let first = try #require(lines.firstIndex { $0.contains("✘ FAIL") }, "\(result.stdout)")
        #expect(lines[first].hasSuffix(failing), "\(result.stdout)")
        let details = lines[(first + 1)...].prefix { !$0.hasPrefix("  ✘") && !$0.hasPrefix("  ✔") }.joined(separator: "\n")
        #expect(details.contains(reason), "\(details)")
    }

    @Test func specListsTheCourse() throws {
        let result = try run(HTTPKitBinary.path, ["spec", "--course", "codecrafters"], timeout: 20)
        #expect(result.stdout.contains("Step 14 of 14 · Connection closure"), "\(result.stdout)")
        #expect(result.stdout.contains("'GET /echo/abc HTTP/1.1\\r\\nHost: localhost:4221\\r\\nAccept-Encoding: gzip\\r\\n\\r\\n'"))
    }
}
