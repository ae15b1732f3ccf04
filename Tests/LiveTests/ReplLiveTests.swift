import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Dates and ports vary from run to run; everything else in a REPL transcript must not.
func normalised(_ text: String, port: UInt16) -> String {
    text.replacing(String(port), with: "PORT")
        .replacing(#/Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/#, with: "Date: DATE")
}

@Suite("the REPL")
struct ReplLiveTests {
    @Test(.timeLimit(.minutes(1))) func scriptedSessionAgainstALiveStage() throws {
        let server = try ServerProcess(["router", "--access-log", "off"])
        defer { server.stop() }
        let script = TemporaryDirectory()
        script.write("session.repl", """
            # keep-alive: two requests, one connection
            get /echo/one
            get /echo/two
            # pipelining: two requests in one write
            :pipeline 2
            get /echo/a
            get /echo/b
            # a typed request, Host added
            GET /users/2 HTTP/1.1
            Accept: application/json

            # raw garbage: the server answers 400 and closes
            :raw
            GARBAGE\\r\\n\\r\\n
            :raw off
            :dump compact
            get /echo/again
            :save \(script.path)/transcript.txt
            head /echo/headless
            :save off
            :quit
            """)
        let result = try run(HTTPKitBinary.path, ["repl", "127.0.0.1:\(server.port)", "--script", script.path + "/session.repl", "--no-timing"])
        #expect(result.status == 0)
        let out = normalised(result.stdout, port: server.port)
        #expect(!out.contains("\u{1B}["), "no colour in scripted output")
        #expect(!out.contains("httpkit> "), "no prompt in scripted output")
        // keep-alive reuse
        #expect(out.contains("== connected to 127.0.0.1:PORT (connection #1)"))
        #expect(out.contains(" to 127.0.0.1:PORT (connection #1, request 2)"))
        #expect(out.contains("== connection #1 stays open (keep-alive); the next request reuses it"))
        // pipelining
        #expect(out.contains(" to 127.0.0.1:PORT (connection #1, 2 requests in one write)"))
        #expect(out.contains("<< received 284 bytes from 127.0.0.1:PORT\n-- message 1 of 2 (response) at offset 0000"))
        #expect(out.contains("-- message 2 of 2 (response) at offset 008e"))
        // the typed request got its Host
        #expect(out.contains("|Host: 127.0.0.1:|  header  Host"))
        #expect(out.contains("   {\"id\": \"2\", \"name\": \"Alan Turing\"}"))
        // raw garbage
        #expect(out.contains("» GARBAGE\\r\\n\\r\\n\n>> sent 11 bytes to 127.0.0.1:PORT (connection #1, raw bytes)"))
        #expect(out.contains("|HTTP/1.1 400 Bad|  status-line  400 Bad Request"))
        #expect(out.contains("== connection #1 closed (the server closed it)"))
        // a new connection afterwards, compact dump
        #expect(out.contains("== connected to 127.0.0.1:PORT (connection #2)"))
        #expect(out.contains("  GET /echo/again HTTP/1.1␍␊ "))
        #expect(out.contains("request-line  method=GET target=/echo/again version=HTTP/1.1"))
        #expect(out.contains("  <5 bytes> ") && out.contains("body (5 bytes)"))
        // the transcript holds what was shown while saving
        let transcript = try String(contentsOfFile: script.path + "/transcript.txt", encoding: .utf8)
        #expect(transcript.contains("HEAD /echo/headless HTTP/1.1␍␊"))
        #expect(transcript.contains("end of headers → no body (HEAD)"))
        #expect(!transcript.contains("get /echo/again"))
    }

    /// `:ws` against the websocket stage: the handshake, a text frame echoed, a ping answered, the close handshake.
    @Test(.timeLimit(.minutes(1))) func webSocketModeAgainstTheWebSocketStage() throws {
        let server = try ServerProcess(["websocket"])
        defer { server.stop() }
        let script = TemporaryDirectory()
        script.write("ws.repl", """
            :help
            :ws /ws
            hello, frames
            :ping x
            :close 1000
            get /echo/after
            :quit
            """)
        let result = try run(HTTPKitBinary.path, ["repl", "127.0.0.1:\(server.port)", "--script", script.path + "/ws.repl", "--no-timing"])
        #expect(result.status == 0)
        let out = normalised(result.stdout, port: server.port)
        #expect(out.contains("  :ws PATH ") && out.contains("  :frame KEY=VALUE "), ":help lists the WebSocket commands")
        // the opening handshake
        #expect(out.contains("|Upgrade: websock|  header  Upgrade"))
        #expect(out.contains("status-line  101 Switching Protocols"))
        #expect(out.contains("== switched to WebSocket on /ws: Sec-WebSocket-Accept "))
        // the line went out as a masked text frame and came back unmasked
        #expect(out.contains("FIN=1 RSV=000 opcode=1 text"))
        #expect(out.contains("MASK=1 length=13 (7-bit form)"))
        #expect(out.contains("payload (masked) → \"hello, frames\""))
        #expect(out.contains("MASK=0 length=13 (7-bit form)"))
        #expect(out.contains("|hello, frames   |  payload → \"hello, frames\"\n== websocket frames from the server: 15 bytes, 1 frame, 1 message"))
        // ping → pong
        #expect(out.contains("FIN=1 RSV=000 opcode=9 ping"))
        #expect(out.contains("FIN=1 RSV=000 opcode=A pong"))
        #expect(out.contains("   pong: \"x\""))
        // the closing handshake, then HTTP again on a new connection
        #expect(out.contains("payload (masked) → close 1000 normal closure"))
        #expect(out.contains("|··              |  payload → close 1000 normal closure"))
        #expect(out.contains("== the closing handshake is complete (the server answered: close 1000 normal closure)"))
        #expect(out.contains("-- WebSocket mode ended: lines are HTTP requests again"))
        #expect(out.contains("== connected to 127.0.0.1:PORT (connection #2)"))
        #expect(!out.contains("⚠"), "no warnings on a well-behaved exchange")
    }

    @Test func pipedInputWorksLikeAScript() throws {
        let server = try ServerProcess(["hello"])
        defer { server.stop() }
        let result = try run("/bin/sh", ["-c", "printf 'get /\\n' | '\(HTTPKitBinary.path)' repl 127.0.0.1:\(server.port) --no-timing"])
        #expect(result.stdout.contains("» get /"))
        #expect(result.stdout.contains("   Hello, world!"))
        #expect(result.stdout.contains("== connection #1 closed (the server closed it)"))
    }

    @Test func noServerIsAClearMessage() throws {
        let result = try run("/bin/sh", ["-c", "printf 'get /\\n' | '\(HTTPKitBinary.path)' repl 127.0.0.1:1"])
        #expect(result.stdout.contains("!! cannot connect to 127.0.0.1:1"))
        #expect(result.stdout.contains("ECONNREFUSED"))
    }

    @Test func badTargetIsOneLine() throws {
        let result = try run(HTTPKitBinary.path, ["repl", "nonsense"])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("HOST:PORT"))
    }

    /// The interactive REPL in a real terminal (tmux): the up arrow recalls history, Tab completes.
    @Test(.timeLimit(.minutes(1))) func interactiveInATerminal() throws {
        guard let tmux = which("tmux") else {
            if BrowserLiveTests.required { Issue.record("tmux is not installed, and CI (HTTPKIT_REQUIRE_BROWSER=1) requires it") }
            return
        }
        let server = try ServerProcess(["router", "--access-log", "off"])
        defer { server.stop() }
        let directory = TemporaryDirectory()
        let session = "httpkit-test-\(getpid())-\(server.port)"
        let command = "HTTPKIT_HISTORY=\(directory.path)/history NO_COLOR=1 '\(HTTPKitBinary.path)' repl 127.0.0.1:\(server.port) --no-timing"
        try spawn(tmux, ["new-session", "-d", "-s", session, "-x", "200", "-y", "60", command])
        defer { _ = try? spawn(tmux, ["kill-session", "-t", session]) }
        func keys(_ keys: String...) throws {
            try spawn(tmux, ["send-keys", "-t", session] + keys)
            usleep(400_000)
        }
        func screen() throws -> String { try spawn(tmux, ["capture-pane", "-p", "-t", session, "-S", "-200"]).stdout }
        usleep(800_000)
        try keys("get /echo/recalled", "Enter")
        try keys(":dum", "Tab")                 // completes to ":dump "
        try keys("compact", "Enter")
        try keys("Up", "Up", "Enter")           // recalls "get /echo/recalled"
        try keys("GET /abandoned HTTP/1.1", "Enter")
        try keys("C-c")
        try keys(":status", "Enter")
        let text = try screen()
        #expect(text.contains("httpkit> :dump compact\n-- dumps are compact"), "\(text)")
        #expect(text.contains("(connection #1, request 1)") && text.contains("(connection #1, request 2)"),
                "the recalled request went out again: \(text)")
        #expect(text.contains("  GET /echo/recalled HTTP/1.1␍␊"), "the second send was dumped compact")
        #expect(text.contains("^C -- the request being typed was abandoned"))
        #expect(text.contains("2 requests on it"))
        try keys("C-d")
        let history = (try? String(contentsOfFile: directory.path + "/history", encoding: .utf8)) ?? ""
        #expect(history.contains("get\\040/echo/recalled"), "history is kept across runs: \(history)")
    }

    /// Tab in a narrow terminal: `ge` completes (get and GET both match), paths come from the links the
    /// server sent and never from the local disk, and dumps are compact below 120 columns.
    @Test(.timeLimit(.minutes(1))) func completionFromTheSiteInANarrowTerminal() throws {
        guard let tmux = which("tmux") else {
            if BrowserLiveTests.required { Issue.record("tmux is not installed, and CI (HTTPKIT_REQUIRE_BROWSER=1) requires it") }
            return
        }
        let server = try ServerProcess(["static"])
        defer { server.stop() }
        let directory = TemporaryDirectory()
        let session = "httpkit-test-narrow-\(getpid())-\(server.port)"
        let command = "HTTPKIT_HISTORY=\(directory.path)/history NO_COLOR=1 '\(HTTPKitBinary.path)' repl 127.0.0.1:\(server.port) --no-timing"
        try spawn(tmux, ["new-session", "-d", "-s", session, "-x", "100", "-y", "60", command])
        defer { _ = try? spawn(tmux, ["kill-session", "-t", session]) }
        func keys(_ keys: String...) throws {
            try spawn(tmux, ["send-keys", "-t", session] + keys)
            usleep(400_000)
        }
        func screen() throws -> String { try spawn(tmux, ["capture-pane", "-p", "-t", session, "-S", "-300"]).stdout }
        usleep(800_000)
        try keys("ge", "Tab")                   // get and GET both match: the typed case wins
        try keys("/", "Enter")                  // index.html: its links become completions
        try keys("get /sty", "Tab", "Enter")    // → get /style.css
        try keys("get /ho", "Tab", "Enter")     // no /home from this machine's disk
        let text = try screen()
        #expect(text.contains("-- dumps are compact: this terminal is 100 columns"), "\(text)")
        #expect(text.contains("httpkit> get /\n"), "ge<Tab> completed to 'get ': \(text)")
        #expect(text.contains("httpkit> get /style.css"), "\(text)")
        #expect(text.contains("httpkit> get /ho\n"), "\(text)")
        #expect(!text.contains("/home"), "\(text)")
        try keys("C-d")
    }
}
