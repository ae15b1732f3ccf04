import Foundation
import Testing

/// HTTPS on the event-loop stages, with curl, openssl s_client, Python's ssl and websockets, Chromium.
@Suite("TLS", .serialized)
final class TLSLiveTests {
    let keys = TemporaryDirectory()
    let server: ServerProcess
    let certificate: String

    init() throws {
        server = try ServerProcess(["websocket", "--tls-self-signed"], environment: ["SSLKEYLOGFILE": keys.path + "/keys.log"])
        let line = server.output.split(separator: "\n").first { $0.hasPrefix("TLS: certificate ") } ?? ""
        certificate = String(line.dropFirst("TLS: certificate ".count).prefix { $0 != " " })
    }

    deinit { server.stop() }

    var base: String { "https://localhost:\(server.port)" }

    @Test func startupNamesTheCertificateAndTheScheme() {
        #expect(server.startupLine.contains("listening on https://127.0.0.1:"))
        #expect(server.output.contains("TLS: a self-signed certificate for localhost, 127.0.0.1 and ::1 (30 days), SHA-256 "))
        #expect(FileManager.default.fileExists(atPath: certificate), "\(server.output)")
    }

    @Test func curlWithTheCertificateTrusted() throws {
        let small = try curl(["-s", "--cacert", certificate, base + "/echo/hello"])
        #expect(small.stdout == "hello", "\(small.stderr)")
        // A file larger than the socket buffer goes through the read-and-write path (no sendfile over TLS).
        let www = HTTPKitBinary.repository.appendingPathComponent("www/index.html").path
        let index = try String(contentsOfFile: www, encoding: .utf8)
        let page = try curl(["-s", "--cacert", certificate, base + "/index.html"])
        #expect(page.stdout == index)
        // Keep-alive over one TLS session: two requests, one handshake.
        let two = try curl(["-s", "-w", "%{num_connects}\n", "--cacert", certificate, base + "/echo/a", "--next", "-w", "%{num_connects}\n", "--cacert", certificate, base + "/echo/b"])
        #expect(two.stdout.hasPrefix("a1\nb0"), "\(two.stdout)")
        // Without the certificate trusted, curl refuses (the certificate is self-signed): TLS is real.
        #expect(try curl(["-s", base + "/echo/x"]).status == 60)
    }

    @Test func protocolsAlpnAndResumptionWithOpenSSL() throws {
        guard let openssl = which("openssl") else { Issue.record("openssl is not installed (scripts/setup installs it)"); return }
        let address = "127.0.0.1:\(server.port)"
        let old = try run(openssl, ["s_client", "-connect", address, "-tls1_1"], timeout: 20)
        #expect(!old.stdout.contains("Cipher is TLS"), "TLS 1.1 must be refused")
        let v12 = try run(openssl, ["s_client", "-connect", address, "-tls1_2", "-servername", "localhost"], timeout: 20)
        #expect(v12.stdout.contains("Protocol  : TLSv1.2") || v12.stdout.contains("New, TLSv1.2"), "\(v12.stdout.suffix(400))")
        let alpn = try run(openssl, ["s_client", "-connect", address, "-alpn", "h2,http/1.1"], timeout: 20)
        #expect(alpn.stdout.contains("ALPN protocol: http/1.1"))
        let session = keys.path + "/session.pem"
        _ = try run(openssl, ["s_client", "-connect", address, "-tls1_2", "-sess_out", session], timeout: 20)
        let again = try run(openssl, ["s_client", "-connect", address, "-tls1_2", "-sess_in", session], timeout: 20)
        #expect(again.stdout.contains("Reused, TLSv1.2"), "a resumed session: \(again.stdout.prefix(300))")
    }

    @Test func plainHTTPOnTheTLSPortGetsAClearAnswer() throws {
        let response = try RawClient.exchange(port: server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(response.status == 400)
        #expect(response.text.contains("this port speaks HTTPS"))
        usleep(200_000)
        #expect(server.output.contains("plain HTTP on a TLS port"))
    }

    @Test func pythonSSLAndWebSocketsOverTLS() throws {
        let script = """
        import asyncio, http.client, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[1])
        c = http.client.HTTPSConnection("localhost", int(sys.argv[2]), context=context, timeout=10)
        c.request("GET", "/users/1"); r = c.getresponse(); body = r.read()
        assert r.status == 200 and b"Ada Lovelace" in body, body
        print("https", c.sock.version(), c.sock.cipher()[0])
        from websockets.asyncio.client import connect
        async def main():
            async with connect(f"wss://localhost:{sys.argv[2]}/ws", ssl=context) as ws:
                await ws.send("over wss"); print("wss", await ws.recv())
        asyncio.run(main())
        """
        let result = try run(which("python3") ?? "/usr/bin/python3", ["-c", script, certificate, String(server.port)], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("https TLSv1.3"))
        #expect(result.stdout.contains("wss over wss"))
        // SSLKEYLOGFILE: the session secrets a capture tool needs to decrypt.
        let keyLog = (try? String(contentsOfFile: keys.path + "/keys.log", encoding: .utf8)) ?? ""
        #expect(keyLog.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET") || keyLog.contains("CLIENT_RANDOM"))
    }

    @Test(.timeLimit(.minutes(2))) func chromiumLoadsThePageOverHTTPS() throws {
        guard let chromium = BrowserLiveTests.chromium else {
            if BrowserLiveTests.required { Issue.record("Chromium is not installed, and HTTPKIT_REQUIRE_BROWSER=1 (CI) requires it") }
            return
        }
        let profile = TemporaryDirectory()
        let result = try run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", "--disable-dev-shm-usage",
            "--ignore-certificate-errors", "--user-data-dir=\(profile.path)", "--virtual-time-budget=5000", "--dump-dom",
            base + "/",
        ], timeout: 90)
        #expect(result.stdout.contains("data-script=\"ran\""), "\(result.stderr.suffix(400))")
        #expect(result.stdout.contains("data-stylesheet=\"applied\""))
    }

    @Test("TLS options are checked and explained", arguments: [
        (["keepalive", "--tls-cert", "/no/such.pem", "--tls-key", "/no/such.key"], "--tls-cert: cannot use the certificate"),
        (["router", "--tls-cert", "/etc/hostname"], "--tls-cert needs --tls-key"),
        (["router", "--tls-self-signed", "--tls-key", "k"], "--tls-self-signed makes its own certificate"),
        (["serve", "--stage", "static", "--tls-self-signed"], "the static stage speaks plain HTTP only"),
    ])
    func badTLSOptions(_ arguments: [String], _ message: String) throws {
        let result = try run(HTTPKitBinary.path, arguments + ["--port", "0"], timeout: 20)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
