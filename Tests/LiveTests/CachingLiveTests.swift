import Foundation
import Testing

/// Validators, conditional requests and ranges on the router stage, with curl, Python and Chromium.
@Suite("caching and ranges", .serialized)
final class CachingLiveTests {
    let root = TemporaryDirectory()
    let server: ServerProcess
    let log: String
    /// 300,000 bytes whose value at each offset is known.
    let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }

    init() throws {
        let www = HTTPKitBinary.repository.appendingPathComponent("www").path
        for name in try FileManager.default.contentsOfDirectory(atPath: www) {
            try FileManager.default.copyItem(atPath: www + "/" + name, toPath: root.path + "/" + name)
        }
        #expect(FileManager.default.createFile(atPath: root.path + "/big.bin", contents: Data(big)))
        log = root.path + "/access.log"
        server = try ServerProcess(["router", "--root", root.path, "--access-log", log])
    }

    deinit { server.stop() }

    var base: String { "http://127.0.0.1:\(server.port)" }

    func header(_ name: String, in output: String) -> String? {
        for line in output.split(separator: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
            return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    @Test func filesCarryValidatorsAndHEADMatchesGET() throws {
        let get = try curl(["-s", "-D", "-", "-o", "/dev/null", base + "/style.css"]).stdout
        let head = try curl(["-s", "-I", base + "/style.css"]).stdout
        let etag = try #require(header("ETag", in: get))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""), "a strong ETag")
        #expect(header("Last-Modified", in: get).flatMap { $0.hasSuffix(" GMT") ? $0 : nil } != nil)
        #expect(header("Accept-Ranges", in: get) == "bytes")
        #expect(header("Cache-Control", in: get) == "max-age=60")
        for name in ["ETag", "Last-Modified", "Accept-Ranges", "Cache-Control", "Content-Length", "Content-Type"] {
            #expect(header(name, in: head) == header(name, in: get), "HEAD's \(name)")
        }
    }

    @Test func revalidationWithCurl() throws {
        let first = try curl(["-s", "-D", "-", "-o", "/dev/null", base + "/style.css"]).stdout
        let etag = try #require(header("ETag", in: first))
        let lastModified = try #require(header("Last-Modified", in: first))
        let byTag = try curl(["-s", "-D", "-", "-o", "/dev/null", "-H", "If-None-Match: \(etag)", base + "/style.css"]).stdout
        #expect(byTag.hasPrefix("HTTP/1.1 304 Not Modified"))
        #expect(header("ETag", in: byTag) == etag)
        #expect(header("Content-Length", in: byTag) == nil)
        // curl -z sends If-Modified-Since with the date of a file or a date string.
        let byDate = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-z", lastModified, base + "/style.css"]).stdout
        #expect(byDate == "304")
        let changed = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \"stale\"", base + "/style.css"]).stdout
        #expect(changed == "200")
        // A gzip variant is another representation: its own ETag, which validates only itself.
        let gzipped = try curl(["-s", "-D", "-", "-o", "/dev/null", "--compressed", base + "/style.css"]).stdout
        let gzipTag = try #require(header("ETag", in: gzipped))
        #expect(gzipTag != etag && header("Accept-Ranges", in: gzipped) == nil)
        let gzip304 = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--compressed", "-H", "If-None-Match: \(gzipTag)", base + "/style.css"]).stdout
        #expect(gzip304 == "304")
    }

    @Test func rangesWithCurl() throws {
        let out = NSTemporaryDirectory() + "httpkit-range-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let partial = try curl(["-s", "-D", "-", "-r", "1000-1999", "-o", out, base + "/big.bin"]).stdout
        #expect(partial.hasPrefix("HTTP/1.1 206 Partial Content"))
        #expect(header("Content-Range", in: partial) == "bytes 1000-1999/300000")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(big[1000..<2000]))
        let suffix = try curl(["-s", "-r", "-5", base + "/big.bin"], timeout: 20)
        #expect(Array(suffix.stdout.utf8).count <= 5)
        let refused = try curl(["-s", "-D", "-", "-o", "/dev/null", "-r", "300000-", base + "/big.bin"]).stdout
        #expect(refused.hasPrefix("HTTP/1.1 416 Range Not Satisfiable"))
        #expect(header("Content-Range", in: refused) == "bytes */300000")
        let css = try #require(FileManager.default.contents(atPath: root.path + "/style.css"))
        let multi = try curl(["-s", "-D", "-", "-r", "0-0,-1", base + "/style.css"]).stdout
        let type = try #require(header("Content-Type", in: multi))
        #expect(type.hasPrefix("multipart/byteranges; boundary="))
        let boundary = type.dropFirst("multipart/byteranges; boundary=".count)
        #expect(multi.contains("\r\n--\(boundary)\r\nContent-Type: text/css; charset=utf-8\r\nContent-Range: bytes 0-0/\(css.count)\r\n\r\n/"))
        #expect(multi.contains("Content-Range: bytes \(css.count - 1)-\(css.count - 1)/\(css.count)\r\n"))
        #expect(multi.hasSuffix("\r\n--\(boundary)--\r\n"))
    }

    @Test func curlResumesADownload() throws {
        let out = NSTemporaryDirectory() + "httpkit-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(FileManager.default.createFile(atPath: out, contents: Data(big[0..<123_456]))) // a download cut short
        let resumed = try curl(["-s", "-C", "-", "-o", out, "-w", "%{http_code}", base + "/big.bin"])
        #expect(resumed.stdout == "206")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(big))
    }

    @Test func pythonHTTPClientConditionalAndRange() throws {
        let script = """
        import http.client, sys
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
        c.request("GET", "/big.bin"); r = c.getresponse(); r.read(); etag = r.getheader("ETag")
        c.request("GET", "/big.bin", headers={"If-None-Match": etag}); r = c.getresponse()
        assert r.status == 304 and r.read() == b"", r.status
        c.request("GET", "/big.bin", headers={"Range": "bytes=10-19", "If-Range": etag}); r = c.getresponse()
        body = r.read(); assert r.status == 206 and len(body) == 10, (r.status, len(body))
        c.request("GET", "/big.bin", headers={"Range": "bytes=10-19", "If-Range": '"stale"'}); r = c.getresponse()
        assert r.status == 200 and len(r.read()) == 300000
        c.request("GET", "/big.bin", headers={"Range": "bytes=oops"}); r = c.getresponse()
        assert r.status == 200 and len(r.read()) == 300000
        c.request("GET", "/big.bin", headers={"If-Modified-Since": "not a date"}); r = c.getresponse()
        assert r.status == 200 and len(r.read()) == 300000
        c.request("GET", "/big.bin", headers={"If-Match": '"stale"'}); r = c.getresponse(); r.read()
        print("ok", r.status)
        """
        let result = try run(which("python3") ?? "/usr/bin/python3", ["-c", script, String(server.port)], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok 412"), "\(result.stdout)")
    }

    @Test func rangeOfALargeSparseFileCostsNoMemory() throws {
        let path = root.path + "/huge.bin"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 1 << 30) // 1 GB, sparse
        try handle.close()
        let before = try #require(server.memoryKB("VmRSS"))
        let response = try curl(["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-r", "100000000-799999999", base + "/huge.bin"], timeout: 60)
        #expect(response.stdout == "206 700000000")
        let after = try #require(server.memoryKB("VmRSS"))
        #expect(after - before < 8 * 1024, "RSS grew by \(after - before) kB")
    }

    @Test(.timeLimit(.minutes(2))) func chromiumRevalidatesOnReloadAndSeeksWithRanges() throws {
        guard let chromium = BrowserLiveTests.chromium else {
            if BrowserLiveTests.required { Issue.record("Chromium is not installed, and HTTPKIT_REQUIRE_BROWSER=1 (CI) requires it") }
            return
        }
        let make = HTTPKitBinary.repository.appendingPathComponent("scripts/make-media").path
        let python = which("python3") ?? "/usr/bin/python3"
        #expect(try run(python, [make, root.path + "/media"]).status == 0)
        let script = HTTPKitBinary.repository.appendingPathComponent("Tests/LiveTests/Fixtures/browser_cache.py").path
        let result = try run(python, [script, chromium, base], timeout: 90)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr.suffix(600))")
        // The access log is flushed on the loop's 100 ms tick, which a busy machine can delay: wait for the
        // lines (up to 5 s) rather than a fixed time.
        var lines = ""
        for _ in 0..<50 {
            lines = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if lines.contains("\"GET / HTTP/1.1\" 304 -") && lines.contains("\"GET /media/tone.wav HTTP/1.1\" 206 ") { break }
            usleep(100_000)
        }
        #expect(lines.contains("\"GET / HTTP/1.1\" 304 -"), "\(lines)")
        #expect(lines.contains("\"GET /media/tone.wav HTTP/1.1\" 206 "), "\(lines)")
    }
}
