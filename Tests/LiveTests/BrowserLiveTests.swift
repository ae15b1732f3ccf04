import Foundation
import Testing

/// Headless Chromium loads the bundled site from the static stage. The page's script records, on
/// <body>, that it ran, that the stylesheet applied and that the image loaded.
@Suite("a real browser loads www/")
struct BrowserLiveTests {
    static var chromium: String? { which("chromium") ?? which("chromium-browser") ?? which("google-chrome") }
    static var required: Bool { ProcessInfo.processInfo.environment["HTTPKIT_REQUIRE_BROWSER"] == "1" }

    @Test(.timeLimit(.minutes(2))) func siteRendersWithScriptStylesheetAndImage() throws {
        guard let chromium = Self.chromium else {
            if Self.required { Issue.record("Chromium is not installed, and HTTPKIT_REQUIRE_BROWSER=1 (CI) requires it") }
            return
        }
        let server = try ServerProcess(["static"])
        defer { server.stop() }
        let profile = TemporaryDirectory()
        let result = try run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", "--disable-dev-shm-usage",
            "--user-data-dir=\(profile.path)", "--virtual-time-budget=5000", "--dump-dom",
            "http://127.0.0.1:\(server.port)/",
        ], timeout: 90)
        let dom = result.stdout
        #expect(dom.contains("data-script=\"ran\""), "script did not run: \(result.stderr.suffix(500))")
        #expect(dom.contains("data-stylesheet=\"applied\""))
        #expect(dom.contains("data-image=\"loaded\""))
        #expect(dom.contains("JavaScript ran: this page was served by httpkit."))
    }
}
