import Foundation
import HTTPCore
import Testing
@testable import httpkit

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

    /// One golden file: the bytes, what the analysis is told about them, and how the renderer draws them.
    struct Case: Sendable {
        var name: String
        var bytes: [UInt8]
        var requestMethod: String? = nil
        var options = WireDumpRenderer.Options()
        /// Frames only (`httpkit dump --websocket`): who sent them, and whether permessage-deflate is on.
        var frames: WireWebSocket.Sender? = nil
        var deflate = false

        func analysis() -> WireAnalysis {
            frames.map { WireAnalysis(webSocketFrames: bytes, from: $0, deflate: deflate) } ?? WireAnalysis(bytes, requestMethod: requestMethod)
        }
    }

    /// RFC 6455 §1.3's handshake (key and accept) and §5.7's frames; RFC 7692 §7.2.3.1–2's deflated "Hello"s.
    static let handshakeRequest = Array("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)
    static let switchingProtocols = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n".utf8)
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    static let serverFrames: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f, // "Hel" + "lo", fragmented
                                        0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,              // ping "Hello"
                                        0x88, 0x02, 0x03, 0xe8]                               // close 1000
    static let deflatedHellos: [UInt8] = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, // "Hello", no context yet
                                          0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]             // "Hello" again, from the window

    /// A revalidation (RFC 9110 §13.1.2, §15.4.5): the client holds www/hello.txt and asks whether it changed.
    static let etag = "\"674afe40.1a2b3c4d-30-3f2e\""
    static let revalidation = Array(("GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nIf-None-Match: \(etag)\r\n"
        + "If-Modified-Since: Sat, 30 Nov 2024 12:00:00 GMT\r\nCache-Control: max-age=0\r\n\r\n"
        + "HTTP/1.1 304 Not Modified\r\nDate: Sun, 01 Dec 2024 09:30:00 GMT\r\nETag: \(etag)\r\n"
        + "Last-Modified: Sat, 30 Nov 2024 12:00:00 GMT\r\nCache-Control: max-age=60\r\n\r\n").utf8)
    /// Two ranges of www/hello.txt (48 bytes): the first 5 and the last 9, as one multipart/byteranges 206 (§14.6).
    static let byterangesBody = "\r\n--httpkit-3j7x2k\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/48\r\n\r\nHello"
        + "\r\n--httpkit-3j7x2k\r\nContent-Type: text/plain\r\nContent-Range: bytes 39-47/48\r\n\r\nhttpkit.\n"
        + "\r\n--httpkit-3j7x2k--\r\n"
    static let byteranges = Array(("GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nRange: bytes=0-4,-9\r\nIf-Range: \(etag)\r\n\r\n"
        + "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=httpkit-3j7x2k\r\n"
        + "Content-Length: \(byterangesBody.utf8.count)\r\nETag: \(etag)\r\nAccept-Ranges: bytes\r\n\r\n" + byterangesBody).utf8)

    static let cases: [Case] = [
        Case(name: "get", bytes: Array("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept-Encoding: gzip\r\n\r\n".utf8)),
        Case(name: "post-with-body", bytes: Array("POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"name\": \"httpkit\", \"n\": 1}".utf8)),
        Case(name: "response-content-length", bytes: Array("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: httpkit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nHello, world!\n".utf8)),
        Case(name: "response-chunked", bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: 42\r\n\r\n".utf8)),
        Case(name: "response-gzip", bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n4d\r\n".utf8)
            + gzipBody + Array("\r\n0\r\n\r\n".utf8)),
        Case(name: "request-bare-lf", bytes: Array("GET / HTTP/1.1\nHost: x\n\n".utf8)),
        Case(name: "request-malformed", bytes: Array("GET  /index.html\r\nHost : x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nbroken line\r\n\r\n".utf8)),
        Case(name: "response-wrong-chunk-size", bytes: Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n".utf8)),
        Case(name: "response-content-length-short", bytes: Array("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nonly ten b".utf8)),
        Case(name: "pipelined-compact", bytes: Array("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
             options: .init(density: .compact)),
        Case(name: "response-gzip-ascii-compact", bytes: Array("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 77\r\n\r\n".utf8) + gzipBody,
             options: .init(density: .compact, ascii: true)),
        Case(name: "head-response", bytes: Array("HTTP/1.1 200 OK\r\nContent-Length: 4130\r\n\r\n".utf8), requestMethod: "HEAD"),
        Case(name: "websocket-handshake-masked-text", bytes: handshakeRequest + maskedHello),
        Case(name: "websocket-server-frames", bytes: switchingProtocols + Array("\r\n".utf8) + serverFrames),
        Case(name: "websocket-deflate", bytes: switchingProtocols + Array("Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n".utf8) + deflatedHellos),
        Case(name: "websocket-frames-only-compact", bytes: maskedHello + [0x82, 0x7e, 0x00, 0x02, 0xca, 0xfe], // unmasked, 16-bit form for 2 bytes
             options: .init(density: .compact), frames: .client),
        Case(name: "revalidation-304", bytes: revalidation),
        Case(name: "byteranges-206", bytes: byteranges),
    ]

    static var directory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden") }
}

@Suite("Wire dump golden files")
struct WireDumpGoldenTests {
    @Test("dump matches its golden file", arguments: WireFixtures.cases.map(\.name))
    func golden(_ name: String) throws {
        let fixture = WireFixtures.cases.first { $0.name == name }!
        let analysis = fixture.analysis()
        let dump = WireDumpRenderer(fixture.options).render(analysis)
        let path = WireFixtures.directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["HTTPKIT_UPDATE_GOLDEN"] == "1" {
            try dump.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(dump == expected, "dump of \(name) differs from Golden/\(name).txt")
    }
}

/// How the renderer draws; what the bytes mean is tested on the analysis in HTTPCoreTests/WireAnalysisTests.
@Suite("Wire dump rendering")
struct WireDumpRendererTests {
    func dump(_ text: String, _ options: WireDumpRenderer.Options = .init()) -> String {
        WireDumpRenderer(options).render(WireAnalysis(Array(text.utf8)))
    }

    @Test func crlfIsNeverSplitAcrossRows() {
        // 15 visible bytes then CR LF: the CR would be byte 16 of the row; it moves to the next row with its LF.
        let output = dump("GET /abcdefghij HTTP/1.1\r\nHost: 123456789\r\n\r\n")
        for line in output.split(separator: "\n") where line.contains("␍") {
            #expect(line.contains("␍␊"), "split CR LF in: \(line)")
        }
    }

    @Test func warningsAreMarked() {
        #expect(dump("GET / HTTP/1.1\nHost: x\n\n").contains("⚠ bare LF (expected CRLF)"))
        #expect(dump("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", .init(density: .compact)).contains("⚠ Content-Length 10 ≠ body 3"))
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

    @Test func nothingToDrawDrawsNothing() {
        #expect(WireDumpRenderer().render(WireAnalysis([])) == "")
    }

    @Test func garbageNeverCrashes() {
        var generator = SplitMix(state: 7)
        for length in [0, 1, 2, 5, 17, 100, 1000] {
            for _ in 0..<20 {
                let analysis = WireAnalysis((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
                _ = WireDumpRenderer().render(analysis)
                _ = WireDumpRenderer(.init(density: .compact, ascii: true, color: true)).render(analysis)
            }
        }
    }
}

/// A small deterministic generator, so a failing random input can be reproduced (as in HTTPCoreTests).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
