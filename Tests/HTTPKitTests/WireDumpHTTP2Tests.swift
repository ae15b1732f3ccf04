import Foundation
import HTTPCore
import Testing
@testable import httpkit

/// Golden files for HTTP/2 dumps, built from RFC 7541 Appendix C's header blocks inside real frames. After a
/// deliberate change to the format, regenerate with `HTTPKIT_UPDATE_GOLDEN=1 swift test --filter WireDumpHTTP2`
/// and review the diff.
@Suite("Wire dump golden files: HTTP/2 frames")
struct WireDumpHTTP2Tests {
    static func octets(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter(\.isHexDigit))
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    static func headers(_ stream: UInt32, _ block: String, endStream: Bool = true) -> [UInt8] {
        HTTP2Frame(streamID: stream, payload: .headers(fieldBlock: octets(block)[...], endStream: endStream, endHeaders: true)).encoded()
    }

    /// The client: preface, SETTINGS, RFC 7541 C.4.1–C.4.3 on streams 1, 3, 5, a WINDOW_UPDATE and a PING.
    static let client = HTTP2Connection.clientPreface
        + HTTP2Frame(streamID: 0, payload: .settings([HTTP2Setting(.enablePush, 0), HTTP2Setting(.initialWindowSize, 1_048_576)])).encoded()
        + headers(1, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")
        + headers(3, "8286 84be 5886 a8eb 1064 9cbf")
        + headers(5, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")
        + HTTP2Frame(streamID: 0, payload: .windowUpdate(increment: 983_041)).encoded()
        + HTTP2Frame(streamID: 0, payload: .ping(Array("httpkit!".utf8))).encoded()

    /// The server: SETTINGS and ACK, C.6.1 (after a size update to 256) with padded DATA, C.6.2 reset with
    /// CANCEL, C.6.3 split into HEADERS + CONTINUATION, a PING ACK, then GOAWAY.
    static let server: [UInt8] = {
        let c63 = octets("""
            88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
            77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
            9587 3160 65c0 03ed 4ee5 b106 3d50 07
            """)
        return HTTP2Frame(streamID: 0, payload: .settings([HTTP2Setting(.maxConcurrentStreams, 100), HTTP2Setting(.maxHeaderListSize, 32_768)])).encoded()
            + HTTP2Frame(streamID: 0, payload: .settings([], ack: true)).encoded()
            + headers(1, "3fe101 4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3", endStream: false)
            + HTTP2Frame(streamID: 1, payload: .data(Array("Found: see location\n".utf8), endStream: true, padding: 4)).encoded()
            + headers(3, "4883 640e ffc1 c0bf", endStream: false)
            + HTTP2Frame(streamID: 3, payload: .rstStream(.cancel)).encoded()
            + HTTP2Frame(streamID: 5, payload: .headers(fieldBlock: c63[..<20], endStream: false, endHeaders: false)).encoded()
            + HTTP2Frame(streamID: 5, payload: .continuation(fieldBlock: c63[20...], endHeaders: true)).encoded()
            + HTTP2Frame(streamID: 5, payload: .data(Array("{\"ok\": true}".utf8), endStream: true)).encoded()
            + HTTP2Frame(streamID: 0, payload: .ping(Array("httpkit!".utf8), ack: true)).encoded()
            + HTTP2Frame(streamID: 0, payload: .goAway(lastStreamID: 5, errorCode: .noError, debugData: Array("bye".utf8))).encoded()
    }()

    static let cases: [(name: String, analysis: @Sendable () -> WireAnalysis, options: WireDumpRenderer.Options)] = [
        ("http2-client-preface-c4", { WireAnalysis(client) }, .init()),
        ("http2-client-preface-c4-compact", { WireAnalysis(client) }, .init(density: .compact)),
        ("http2-server-c6-frames", { WireAnalysis(http2Frames: server, from: .server) }, .init()),
    ]

    @Test("HTTP/2 dump matches its golden file", arguments: cases.map(\.name))
    func golden(_ name: String) throws {
        let fixture = Self.cases.first { $0.name == name }!
        let dump = WireDumpRenderer(fixture.options).render(fixture.analysis())
        let path = WireFixtures.directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["HTTPKIT_UPDATE_GOLDEN"] == "1" {
            try dump.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(dump == expected, "dump of \(name) differs from Golden/\(name).txt")
    }

    @Test func compactRowsShowHexNotText() {
        let dump = WireDumpRenderer(.init(density: .compact)).render(WireAnalysis(Self.client))
        #expect(dump.contains("  00 00 11 01 05 00 00 00 …             HEADERS  stream 1, length 17, flags 0x05 END_STREAM|END_HEADERS"))
    }

    @Test func theSummaryNamesEachStream() {
        let dump = WireDumpRenderer().render(WireAnalysis(http2Frames: Self.server, from: .server))
        #expect(dump.contains("   stream 1: 302, 4 fields, 20 bytes of DATA in 1 frame, END_STREAM"))
        #expect(dump.contains("   stream 3: 307, 4 fields, reset: CANCEL"))
    }
}
