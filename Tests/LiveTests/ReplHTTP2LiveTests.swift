import Foundation
import Testing

/// The REPL's `:h2` mode against the http2 stage: requests on new streams of one connection, the frames
/// dumped both ways with their header blocks decoded, and the client's chores done and shown (SETTINGS
/// ACK, PING, WINDOW_UPDATE); over TLS with ALPN h2 after `--tls`.
@Suite("the REPL's :h2 mode", .serialized)
struct ReplHTTP2LiveTests {
    func repl(_ script: String, _ arguments: [String]) throws -> String {
        let directory = TemporaryDirectory()
        let path = directory.path + "/session.repl"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run(HTTPKitBinary.path, ["repl", "--script", path, "--no-timing", "--color", "never"] + arguments, timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test(.timeLimit(.minutes(1))) func requestsGoOutOnNewStreamsOfOneConnection() throws {
        let root = TemporaryDirectory()
        try Data(repeating: 0x61, count: 200_000).write(to: URL(fileURLWithPath: root.path + "/big.txt"))
        let server = try ServerProcess(["http2", "--root", root.path, "--access-log", "off"])
        defer { server.stop() }
        let output = try repl(":h2\nget /echo/one\nget /echo/two\nget /big.txt\n:ping httpkit!\n:h2 off\n", ["127.0.0.1:\(server.port)"])
        #expect(output.contains("for HTTP/2 with prior knowledge"), "\(output.prefix(2000))")
        #expect(output.contains("client connection preface (§3.4)"))
        #expect(output.contains("(connection #1, SETTINGS ACK (§6.5.3))"))
        #expect(output.contains("(connection #1, request 1 on stream 1)") && output.contains("(connection #1, request 2 on stream 3)"))
        // The second request names :authority from the dynamic table the first one filled.
        #expect(output.contains("indexed 63 (dynamic)  :authority: 127.0.0.1:\(server.port)") || output.contains("indexed 64 (dynamic)  :authority: 127.0.0.1:\(server.port)"),
                "\(output)")
        #expect(output.contains("   stream 3: 200, ") && output.contains("      two"))
        // 200,000 octets do not fit the 65,535-octet windows: the REPL gives credit back and shows it.
        #expect(output.contains("WINDOW_UPDATE +"), "\(output.suffix(3000))")
        // The DATA arrives over several reads, each dumped as it comes; the last one ends the stream.
        let dataLines = output.split(separator: "\n").filter { $0.hasPrefix("   stream 5: ") && !$0.contains("GET /") } // the server's side
        #expect(dataLines.first?.hasPrefix("   stream 5: 200, ") == true && dataLines.last?.hasSuffix("END_STREAM") == true, "\(dataLines)")
        #expect(!output.contains("not finished"))
        #expect(output.contains("PING  stream 0, length 8, flags 0x01 ACK"))
        #expect(output.contains("-- HTTP/2 mode ended"))
    }

    @Test(.timeLimit(.minutes(1))) func overTLSWithALPNh2() throws {
        let server = try ServerProcess(["http2", "--tls-self-signed", "--access-log", "off"])
        defer { server.stop() }
        let output = try repl(":h2\nget /echo/secure\n", ["--tls", "127.0.0.1:\(server.port)"])
        #expect(output.contains("ALPN h2"), "\(output.prefix(2000))")
        #expect(output.contains("for HTTP/2 over TLS (ALPN h2)"))
        #expect(output.contains(":scheme: https"))
        #expect(output.contains("stream 1: 200, ") && output.contains("      secure"), "\(output)")
    }

    @Test(.timeLimit(.minutes(1))) func anHTTP11OnlyServerIsNoticed() throws {
        let server = try ServerProcess(["router", "--access-log", "off"])
        defer { server.stop() }
        let output = try repl(":h2\n", ["127.0.0.1:\(server.port)", "--timeout", "1"])
        // The router stage answers the preface as a bad HTTP/1.1 request: the frames do not parse.
        #expect(output.contains("!! the server's frames do not parse") || output.contains("closed"), "\(output)")
    }
}
