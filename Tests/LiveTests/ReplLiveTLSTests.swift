import Foundation
import Testing

/// The REPL and `httpkit check` as TLS clients, against `httpkit router --tls-self-signed`.
@Suite("the REPL and check over TLS", .serialized)
struct ReplLiveTLSTests {
    let server: ServerProcess
    /// The self-signed certificate the server printed the path of.
    let certificate: String

    init() throws {
        server = try ServerProcess(["router", "--tls-self-signed", "--access-log", "off"])
        let line = server.output.split(separator: "\n").first { $0.hasPrefix("TLS: certificate ") } ?? ""
        certificate = String(line.dropFirst("TLS: certificate ".count).prefix { $0 != " " })
    }

    @Test(.timeLimit(.minutes(1))) func scriptedSessionOverTLS() throws {
        defer { server.stop() }
        let script = TemporaryDirectory()
        script.write("session.repl", """
            :tls localhost:\(server.port)
            get /echo/one
            get /echo/two
            :status
            :tls off
            get /echo/plain
            :quit
            """)
        let result = try run(HTTPKitBinary.path, ["repl", "127.0.0.1:\(server.port)", "--script", script.path + "/session.repl", "--no-timing"])
        #expect(result.status == 0)
        let out = normalised(result.stdout, port: server.port)
        // The handshake summary, once per connection.
        #expect(out.contains("== connected to 127.0.0.1:PORT with TLS (connection #1); dumps show the HTTP inside the encrypted records"), "\(out)")
        #expect(out.contains("== TLS handshake: TLSv1.3, TLS_"))
        #expect(out.contains(", ALPN http/1.1"))
        #expect(out.contains("   certificate: subject /O=httpkit (self-signed)/CN=localhost"))
        #expect(out.contains("(self-signed: it vouches for itself)"))
        #expect(out.contains("                expires "))
        #expect(out.contains(#/SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/#))
        #expect(out.contains("⚠ the certificate did NOT verify (self-signed certificate): continuing anyway"))
        // Requests go over TLS as usual, keep-alive included; the dumps are the decrypted HTTP.
        #expect(out.contains("|GET /echo/one HT|  request-line  method=GET target=/echo/one version=HTTP/1.1"))
        #expect(out.contains("|HTTP/1.1 200 OK |  status-line  200 OK"))
        #expect(out.contains(" to 127.0.0.1:PORT (connection #1, request 2)"))
        #expect(out.contains("-- 127.0.0.1:PORT (TLS): connection #1 open, 2 requests on it"))
        // :tls off: plain HTTP to a TLS port gets the server's plain-text 400.
        #expect(out.contains("-- TLS off: the next request opens a plain TCP connection to 127.0.0.1:PORT"))
        #expect(out.contains("400 Bad Request: this port speaks HTTPS (TLS)"))
    }

    @Test(.timeLimit(.minutes(1))) func theCertificateVerifiesWhenTrusted() throws {
        defer { server.stop() }
        let script = TemporaryDirectory()
        script.write("trusted.repl", "get /echo/trusted\n")
        let result = try run(HTTPKitBinary.path, ["repl", "--tls", "--tls-ca", certificate, "localhost:\(server.port)", "--no-timing", "--compact",
                                                  "--script", script.path + "/trusted.repl"])
        #expect(result.stdout.contains("✔ the certificate verified"), "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("trusted"))
    }

    @Test(.timeLimit(.minutes(2))) func checkRunsOverTLS() throws {
        defer { server.stop() }
        let progress = TemporaryDirectory()
        let result = try run(HTTPKitBinary.path, ["check", "--stage", "router", "--target", "https://127.0.0.1:\(server.port)"],
                             timeout: 90, environment: ["HTTPKIT_PROGRESS": progress.path + "/progress", "NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("against https://127.0.0.1:\(server.port)"))
        #expect(result.stdout.contains("certificate verification is off for these checks"))
        #expect(!result.stdout.contains("FAIL"))
    }
}
