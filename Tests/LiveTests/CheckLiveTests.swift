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
        if stage == "proxy" {
            // In front of the check's own upstreams, every proxy check runs: none is skipped.
            #expect(!result.stdout.contains("- skip"), "\(result.stdout)")
            #expect(result.stdout.contains("behind it, the check's own upstreams: a 127.0.0.1:"), "\(result.stdout)")
        }
    }

    static let naiveProxy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/naive_proxy.py").path

    /// A proxy that forwards without removing hop-by-hop fields, to one upstream, with no cache: its
    /// forwarding passes, and the first check to fail is the hop-by-hop one, naming the field that leaked.
    @Test(.timeLimit(.minutes(1))) func aNaiveProxyFailsOnHopByHopFieldsFirst() throws {
        let result = try httpkit(["check", "--stage", "proxy", "--exec", "\(Self.python) \(Self.naiveProxy) {port} {upstreams}"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("✔ pass [proxy]") && $0.hasSuffix("forwards a request and passes the upstream's answer back, with Via") },
                "\(result.stdout)")
        let failure = try #require(lines.firstIndex { $0.contains("✘ FAIL") }, "\(result.stdout)")
        #expect(lines[failure].hasSuffix("removes the request's hop-by-hop fields and adds Via and X-Forwarded-For (RFC 9110 §7.6.1)"), "\(result.stdout)")
        let details = lines[(failure + 1)...].prefix { !$0.hasPrefix("  ✘") && !$0.hasPrefix("  ✔") }.joined(separator: "\n")
        #expect(details.contains("Connection, X-Hop, Keep-Alive, TE and Proxy-Connection reached upstream a"), "\(details)")
        #expect(details.contains("A correct proxy removes Connection, the fields it names"), "\(details)")
        // The start line brings up the same upstreams on fixed ports, with the proxy in front of them.
        #expect(details.contains("start it:  httpkit check-upstreams 8081 8082 & \(Self.python) \(Self.naiveProxy) 9000 127.0.0.1:8081,127.0.0.1:8082"),
                "\(details)")
        // The naive proxy's other shortcomings fail the checks that look for them.
        for name in ["removes the hop-by-hop fields of the upstream's answer", "spreads the requests over both upstreams",
                     "answers a repeated GET from its cache while the answer is fresh (max-age=60), with Age"] {
            #expect(lines.contains { $0.contains("✘ FAIL [proxy]") && $0.hasSuffix(name) }, "\(name): \(result.stdout)")
        }
        #expect(result.stdout.contains("X-Backend-Hop"), "\(result.stdout)")
        #expect(result.stdout.contains("none to b"), "\(result.stdout)")
        let recorded = (try? String(contentsOfFile: progress.path + "/progress", encoding: .utf8)) ?? ""
        #expect(!recorded.contains("proxy"), "a failed check does not mark the stage done")
    }

    /// The same fixture with --correct, a page of Python: the checks ask nothing that only httpkit's proxy does.
    @Test(.timeLimit(.minutes(1))) func aSmallCorrectProxyPassesEveryCheck() throws {
        let result = try httpkit(["check", "--stage", "proxy", "--exec", "\(Self.python) \(Self.naiveProxy) --correct {port} {upstreams}"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL") && !result.stdout.contains("- skip"), "\(result.stdout)")
        #expect(result.stdout.contains("12 of 12 checks passed"), "\(result.stdout)")
    }

    @Test(.timeLimit(.minutes(1))) func hintForANaiveProxy() throws {
        let result = try httpkit(["hint", "proxy", "--exec", "\(Self.python) \(Self.naiveProxy) {port} {upstreams}"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("The first 1 of 12 checks of proxy pass. The next to make pass:\n  removes the request's hop-by-hop fields"),
                "\(result.stdout)")
        #expect(result.stdout.contains("X-Hop"), "\(result.stdout)")
        #expect(result.stdout.contains("hint:     Connection lists the fields meant for this connection only"), "\(result.stdout)")
    }

    /// Against a proxy check did not start (--target), in front of httpkit's router: the checks of one
    /// hop pass on the router's answers, and those that read the upstreams' side say why they skip.
    @Test(.timeLimit(.minutes(1))) func aProxyInFrontOfTheRouterByTarget() throws {
        let router = try ServerProcess(["router", "--access-log", "off"])
        defer { router.stop() }
        let proxy = try ServerProcess(["proxy", "--upstream", "127.0.0.1:\(router.port)"])
        defer { proxy.stop() }
        let result = try httpkit(["check", "--stage", "proxy", "--target", "127.0.0.1:\(proxy.port)"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✔ pass [proxy]      refuses Content-Length with Transfer-Encoding"), "\(result.stdout)")
        #expect(result.stdout.contains("- skip [proxy]      spreads the requests over both upstreams: needs the check's own upstreams"), "\(result.stdout)")
        #expect(result.stdout.contains("12 of 12 checks passed"), "\(result.stdout)")
    }

    @Test("{upstreams} is for the proxy stage") func upstreamsPlaceholderOnlyForTheProxy() throws {
        let result = try httpkit(["check", "--stage", "hello", "--exec", "python3 x.py {port} {upstreams}"], timeout: 20)
        #expect(result.status == 64)
        #expect(result.stderr.contains("{upstreams} is for --stage proxy"), "\(result.stderr)")
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/learner_server.py").path
    static let www = HTTPKitBinary.repository.appendingPathComponent("www").path
    static let python = which("python3") ?? "/usr/bin/python3"

    /// `httpkit check --stage STAGE --exec 'python3 learner_server.py FLAGS {port} www'`.
    func checkLearnerServer(_ flags: String, _ stage: String, extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try httpkit(["check", "--stage", stage, "--exec", "\(Self.python) \(Self.fixture) \(flags) {port} \(Self.www)"] + extra)
    }

    @Test("the learner server without a bug passes every stage it claims", .timeLimit(.minutes(2)), arguments: [
        ("", "keepalive", ["--all"]), ("--model fork", "fork", []), ("--model threads", "threads", []),
    ] as [(String, String, [String])])
    func correctLearnerServer(_ flags: String, _ stage: String, _ extra: [String]) throws {
        let result = try checkLearnerServer(flags, stage, extra: extra)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
    }

    /// Each classic bug fails the right check first, and the reason names the bug.
    @Test("a learner server with one classic bug fails the right check and names the bug", .timeLimit(.minutes(3)), arguments: [
        ("--bug bare-lf", "hello", "answers GET / with a 2xx status", "bare LF (expected CRLF) — in the status-line"),
        ("--bug char-length", "hello", "frames the body with Content-Length (or chunked), not by closing",
         "Content-Length 4235 ≠ body 4239: 4 bytes extra"),
        ("--bug char-length", "hello", "frames the body with Content-Length (or chunked), not by closing",
         "4235 is the number of characters; Content-Length counts bytes"),
        ("--bug no-content-length", "hello", "frames the body with Content-Length (or chunked), not by closing", "no Content-Length or Transfer-Encoding header"),
        ("--bug no-date", "hello", "sends a Date header (RFC 9110 §6.6.1)", "no Date header"),
        ("--bug one-recv", "hello", "waits for a request that arrives in several pieces", "the server answered 400 after 1 of 4 pieces"),
        ("--bug no-400", "hello", "answers garbage with 400 Bad Request", "200 for a line that is not METHOD SP TARGET SP HTTP/1.1"),
        ("--bug naive-join", "static", "never serves files outside the root (../, %2e%2e)", "/../../../../../../../../../../etc/passwd was served"),
        ("--bug dotdot-before-decode", "static", "never serves files outside the root (../, %2e%2e)", "check for '..' after decoding %XX"),
        ("--bug always-200", "static", "answers a missing file with 404", "200 for a file that does not exist"),
        ("--bug no-keepalive", "keepalive", "keeps an HTTP/1.1 connection open for the next request", "the second request was not answered"),
        ("--bug pipeline-drop", "keepalive", "answers pipelined requests in order", "only the first request was answered"),
        ("--model iterative", "fork", "a client that sends nothing does not block the others", "blocked behind a client that sent half a request"),
        ("--model iterative --timeout 0.5", "fork", "a client that trickles a byte every 100 ms does not block the others", "each byte restarts it"),
        ("--model iterative --timeout 0.5", "threads", "a client that trickles a byte every 100 ms does not block the others", "each byte restarts it"),
        ("--model iterative --timeout 0.5", "eventloop", "a client that trickles a byte every 100 ms does not block the others", "each byte restarts it"),
        ("--model threads", "fork", "serves each connection in a process of its own (read from /proc)", "threads, not processes"),
        ("--model fork", "threads", "serves each connection on a thread of its own (read from /proc)", "processes, not threads"),
        ("--model threads", "eventloop", "serves 20 waiting connections from one thread, without a process or thread each (read from /proc)",
         "a thread per connection is the threads stage"),
    ] as [(String, String, String, String)])
    func learnerServerBugs(_ flags: String, _ stage: String, _ failing: String, _ note: String) throws {
        let result = try checkLearnerServer(flags, stage)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty, "a failed check is a verdict, not a usage error: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let failure = lines.firstIndex { $0.contains("✘ FAIL [\(stage)]") && $0.hasSuffix(failing) }
        #expect(failure != nil, "expected '\(failing)' to fail:\n\(result.stdout)")
        // It is the first check to fail (a mistake can make later, related checks fail too).
        #expect(lines.first { $0.contains("✘ FAIL") } == failure.map { lines[$0] }, "\(result.stdout)")
        if let failure {
            let details = lines[(failure + 1)...].prefix { !$0.hasPrefix("  ✘") && !$0.hasPrefix("  ✔") }.joined(separator: "\n")
            #expect(details.contains("expected: "))
            #expect(details.contains("but: "), "\(details)")
            #expect(details.contains(note), "\(details)")
            #expect(!(details.contains("got:      nothing") && details.contains("bytes, then")), "never 'nothing' when bytes arrived")
            // Reproduce lines paste into a shell: one line, no raw CR, the fixed port the start line names.
            #expect(details.contains("start it:  \(Self.python) \(Self.fixture) \(flags) 9000 "), "\(details)")
            let reproduce = lines[failure...].first { $0.hasPrefix("      reproduce: ") } ?? ""
            #expect(!reproduce.contains("\r") && reproduce.contains("9000"), "\(reproduce)")
        }
        let recorded = (try? String(contentsOfFile: progress.path + "/progress", encoding: .utf8)) ?? ""
        #expect(!recorded.contains(stage), "a failed check does not mark the stage done")
    }

    /// A client that never reads its large response: with {root}, check serves its own copy of www/ with a
    /// large file; a server that writes to one client at a time stops answering, and the site is removed.
    @Test(.timeLimit(.minutes(1))) func unreadLargeResponse() throws {
        let name = "a client that never reads a large response does not block the others"
        // Step 1 only: an iterative server stuck on an idle client makes the 1,100 connections of step 2 wait for TCP's timeouts.
        let iterative = try httpkit(["check", "--stage", "eventloop", "--step", "1", "--exec", "\(Self.python) \(Self.fixture) --model iterative {port} {root}"])
        let lines = iterative.stdout.split(separator: "\n").map(String.init)
        let failure = try #require(lines.firstIndex { $0.contains("✘ FAIL [eventloop]") && $0.hasSuffix(name) }, "\(iterative.stdout)")
        #expect(lines[failure...].prefix(5).joined().contains("blocked writing to a client that does not read"), "\(iterative.stdout)")
        let site = try #require(iterative.stdout.firstMatch(of: #/\{port\} (\S+httpkit-check-site\S+)|[0-9]+ (\S+httpkit-check-site\S+)`/#))
        #expect(!FileManager.default.fileExists(atPath: String(site.2 ?? site.1 ?? "")), "the check's site is removed after the run")
        let threads = try httpkit(["check", "--stage", "threads", "--exec", "\(Self.python) \(Self.fixture) --model threads {port} {root}"])
        #expect(threads.stdout.contains("✔ pass [threads]    \(name)"), "\(threads.stdout)")
        // Without {root} there is no large file to ask for: the check says how to get it.
        let noRoot = try httpkit(["check", "--stage", "threads", "--exec", "\(Self.python) \(Self.fixture) --model threads {port} \(Self.www)"])
        #expect(noRoot.stdout.contains("- skip [threads]    \(name): needs the check's own site"), "\(noRoot.stdout)")
    }

    @Test func execServerIsAlwaysStopped() throws {
        let marker = "httpkit-stop-\(getpid())"
        _ = try httpkit(["check", "--stage", "static", "--exec", "\(Self.python) \(Self.fixture) --bug always-200 {port} \(Self.www) \(marker)"])
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

    @Test("usage errors say what is valid, with exit status 64", arguments: [
        (["serve", "--stage", "nope"], "echo, hello, static, fork, threads, eventloop, keepalive, router, websocket, http2"),
        (["hello", "--port", "-1"], "a port is 0 to 65535"),
        (["hello", "--port", "70000"], "a port is 0 to 65535"),
        (["doctor", "--port", "x"], "a port is a number"),
        (["check", "--stage", "proxy", "--all"], "--all does not apply to --stage proxy"),
        // HTTP/2 alone is the http2 stage's: the router has no such option, and serve refuses it for other stages.
        (["router", "--http2-only"], "Unknown option '--http2-only'"),
        (["serve", "--stage", "router", "--http2-only"], "--http2-only: the router stage speaks HTTP/1.1"),
    ])
    func usageErrors(_ arguments: [String], _ mentions: String) throws {
        let result = try httpkit(arguments, timeout: 20)
        #expect(result.status == 64)
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
        #expect(result.stdout.contains("○ 01-echo.md"), "httpkit's own server passing is exploring: \(result.stdout)")
        #expect(result.stdout.contains("(explored)"))
        #expect(result.stdout.contains("→ 02-hello.md"))
        result = try httpkit(["next"])
        #expect(result.stdout.hasPrefix("Next: stage 2 · hello"))
        #expect(result.stdout.contains("httpkit check --stage hello"))
        result = try httpkit([])
        #expect(result.stdout.contains("From lessons/02-hello.md, what you will learn:"))
        #expect(result.stdout.contains("  2. run the stage       httpkit hello"))
        result = try httpkit(["learn", "--check", "--exec", "\(Self.python) \(Self.fixture) {port} \(Self.www)"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Next: stage 3 · static"))
        result = try httpkit(["lessons"])
        #expect(result.stdout.contains("✔ 02-hello.md"), "your own server passing is building: \(result.stdout)")
        #expect(result.stdout.contains("2 of 11 stages done: 1 built"))
        #expect(try httpkit(["lessons", "--reset"]).stdout.contains("Progress reset"))
        #expect(try httpkit(["next"]).stdout.hasPrefix("Next: stage 1 · echo"))
    }

    @Test func hintForTheFirstFailingCheck() throws {
        let plain = try httpkit(["hint", "hello"])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("1. answers GET / with a 2xx status"))
        let result = try httpkit(["hint", "hello", "--exec", "\(Self.python) \(Self.fixture) --bug no-date {port} \(Self.www)"])
        #expect(result.status == 1)
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.contains("The first 2 of 7 checks of hello pass. The next to make pass:\n  sends a Date header"), "\(result.stdout)")
        #expect(result.stdout.contains("no Date header"))
        // The hint is the failing check's own, not the stage's.
        #expect(result.stdout.contains("hint:     format the current time in GMT as 'Sun, 06 Nov 1994 08:49:37 GMT'"), "\(result.stdout)")
        let passing = try httpkit(["hint", "hello", "--exec", "\(Self.python) \(Self.fixture) {port} \(Self.www)"])
        #expect(passing.status == 0)
        #expect(passing.stdout.contains("Every check of hello passes"))
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
        #expect(busy.status == 1)
        #expect(!busy.stderr.contains("invalid arguments"), "a finding is not a usage error: \(busy.stderr)")
        #expect(busy.stdout.contains("port \(server.port) is in use by pid \(server.pid)"), "\(busy.stdout)")
    }
}
