import Foundation
import Testing
@testable import HTTPCore

/// Golden tests: each fixture's dump is compared with Golden/NAME.txt. After a deliberate change to the
/// format, regenerate with `HTTPKIT_UPDATE_GOLDEN=1 swift test --filter WireDump` and review the diff.
enum WireFixtures {
    static let gzipBody: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0x48, 0x2b,
        0xca, 0xcf, 0x55, 0xc8, 0x28, 0x29, 0x29, 0xc8, 0xce, 0x2c, 0x51, 0xe4, 0x4a, 0xce, 0x28, 0xcd, 0xcb, 0x4e,
        0x4d, 0x51, 0xd0, 0x56, 0x48, 0xaf, 0xca, 0x2c, 0xd0, 0x51, 0x28, 0x2e, 0x49, 0x4c, 0x4f, 0xb5, 0x52, 0xc8,
        0x4e, 0x4d, 0x2d, 0x48, 0xcc, 0xc9, 0x2c, 0x4b, 0xe5, 0xd2, 0xa5, 0x18, 0x70, 0x01, 0x00, 0x59, 0x74, 0xfc,
        0xc2, 0x78, 0x00, 0x00, 0x00,
    ]

    static let cases: [(name: String, bytes: [UInt8], options: WireDump.Options)] = [
        ("get", Array("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept-Encoding: gzip\r\n\r\n".utf8), .init()),
        ("post-with-body", Array("POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"name\": \"httpkit\", \"n\": 1}".utf8), .init()),
        ("response-content-length", Array("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: httpkit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nHello, world!\n".utf8), .init()),
        ("response-chunked", Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: 42\r\n\r\n".utf8), .init()),
        ("response-gzip", Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n4d\r\n".utf8)
            + gzipBody + Array("\r\n0\r\n\r\n".utf8), .init()),
        ("request-bare-lf", Array("GET / HTTP/1.1\nHost: x\n\n".utf8), .init()),
        ("request-malformed", Array("GET  /index.html\r\nHost : x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nbroken line\r\n\r\n".utf8), .init()),
        ("response-wrong-chunk-size", Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n".utf8), .init()),
        ("response-content-length-short", Array("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nonly ten b".utf8), .init()),
        ("pipelined-compact", Array("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            .init(density: .compact)),
        ("response-gzip-ascii-compact", Array("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 77\r\n\r\n".utf8) + gzipBody,
            .init(density: .compact, ascii: true)),
        ("head-response", Array("HTTP/1.1 200 OK\r\nContent-Length: 4130\r\n\r\n".utf8), .init(requestMethod: "HEAD")),
    ]

    static var directory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden") }
}

@Suite("Wire dump golden files")
struct WireDumpGoldenTests {
    @Test("dump matches its golden file", arguments: WireFixtures.cases.map(\.name))
    func golden(_ name: String) throws {
        let fixture = WireFixtures.cases.first { $0.name == name }!
        let dump = WireDump(fixture.options).annotate(fixture.bytes)
        let path = WireFixtures.directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["HTTPKIT_UPDATE_GOLDEN"] == "1" {
            try dump.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(dump == expected, "dump of \(name) differs from Golden/\(name).txt")
    }
}

@Suite("Wire dump behaviour")
struct WireDumpTests {
    func dump(_ text: String, _ options: WireDump.Options = .init()) -> String {
        WireDump(options).annotate(Array(text.utf8))
    }

    @Test func crlfIsNeverSplitAcrossRows() {
        // 15 visible bytes then CR LF: the CR would be byte 16 of the row; it moves to the next row with its LF.
        let output = dump("GET /abcdefghij HTTP/1.1\r\nHost: 123456789\r\n\r\n")
        for line in output.split(separator: "\n") where line.contains("␍") {
            #expect(line.contains("␍␊"), "split CR LF in: \(line)")
        }
    }

    @Test func warningsForTheClassicMistakes() {
        #expect(dump("GET / HTTP/1.1\nHost: x\n\n").contains("⚠ bare LF (expected CRLF)"))
        #expect(dump("GET / HTTP/1.1\r\n\r\n").contains("⚠ no Host header"))
        #expect(dump("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").contains("⚠ Content-Length 10 ≠ body 3"))
        #expect(dump("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabc").contains("⚠ Content-Length 2 ≠ body 3"))
        #expect(dump("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n").contains("⚠ chunk-size says 3, got 5"))
        #expect(dump("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").contains("⚠ both Content-Length and Transfer-Encoding"))
        #expect(dump("GET / HTTP/1.1\r\nHost : x\r\n\r\n").contains("⚠ whitespace before ':'"))
    }

    @Test func asciiFallbackUsesNoControlPictures() {
        let output = dump("GET / HTTP/1.1\r\nHost: x\r\n\r\n", .init(ascii: true))
        #expect(!output.contains("␍") && !output.contains("␊") && !output.contains("·"))
        #expect(output.contains("|GET / HTTP/1.1..|"))
    }

    @Test func colourOnlyWhenAsked() {
        #expect(!dump("GET / HTTP/1.1\r\nHost: x\r\n\r\n").contains("\u{1B}["))
        #expect(dump("GET / HTTP/1.1\r\nHost: x\r\n\r\n", .init(color: true)).contains("\u{1B}["))
    }

    /// Found by scripts/fuzz (wire-dump): a negative Content-Length crashed the annotator.
    @Test("fuzz finding: odd Content-Length values are warned about, not trusted", arguments: ["-1", "+5", "1e3", "99999999999999999999999", ""])
    func oddContentLength(_ value: String) {
        let output = dump("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\nbody")
        #expect(output.contains("is not a number"), "\(output)")
    }

    /// Found by scripts/fuzz (wire-dump): a non-ASCII byte in a chunk-size line trapped.
    @Test func fuzzFindingNonASCIIChunkSize() {
        let bytes = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffff".utf8) + [0xC1] + Array("ff\r\n".utf8)
        let output = WireDump().annotate(bytes)
        #expect(output.contains("chunk-size"))
    }

    @Test func garbageNeverCrashes() {
        var generator = SplitMix(state: 7)
        for length in [0, 1, 2, 5, 17, 100, 1000] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = WireDump().annotate(bytes)
                _ = WireDump(.init(density: .compact)).annotate(bytes)
            }
        }
        for text in ["\r\n", "\n\n\n", "HTTP/1.1", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n"] {
            _ = dump(text)
        }
    }
}
