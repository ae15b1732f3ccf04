import Foundation
import HTTPCore
import Testing
@testable import httpkit

/// Golden dumps of real TLS bytes, stored as hex in Golden/*.hex (`xxd -p`):
/// - tls13-client-hello: `openssl s_client -connect 127.0.0.1:PORT -servername localhost -alpn h2,http/1.1`
///   (OpenSSL 3.0) captured with `nc -l 127.0.0.1 PORT > hello.bin`;
/// - tls13-server-flight: `openssl s_server -alpn http/1.1` (P-256 certificate) answering that ClientHello
///   through `nc`: ServerHello, the compatibility ChangeCipherSpec, then encrypted records;
/// - tls12-server-flight: the same server answering `openssl s_client -tls1_2`: everything in clear.
/// Regenerate the .txt with `HTTPKIT_UPDATE_GOLDEN=1 swift test --filter WireDump` and review the diff.
@Suite("Wire dump golden files: TLS records")
struct WireDumpTLSTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: WireFixtures.directory.appendingPathComponent("\(name).hex"), encoding: .utf8)
        let digits = Array(text.utf8.filter { !ASCII.isWhitespace($0) && $0 != ASCII.lf && $0 != ASCII.cr })
        return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(ASCII.hexValue(digits[$0])! * 16 + ASCII.hexValue(digits[$0 + 1])!) }
    }

    static let cases: [(name: String, hex: String, options: WireDumpRenderer.Options)] = [
        ("tls13-client-hello", "tls13-client-hello", .init()),
        ("tls13-server-flight-compact", "tls13-server-flight", .init(density: .compact)),
        ("tls12-server-flight-compact", "tls12-server-flight", .init(density: .compact)),
    ]

    @Test("TLS dump matches its golden file", arguments: cases.map(\.name))
    func golden(_ name: String) throws {
        let fixture = Self.cases.first { $0.name == name }!
        let dump = WireDumpRenderer(fixture.options).render(WireAnalysis(try Self.fixture(fixture.hex)))
        let path = WireFixtures.directory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["HTTPKIT_UPDATE_GOLDEN"] == "1" {
            try dump.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(dump == expected, "dump of \(name) differs from Golden/\(name).txt")
    }

    @Test func compactTLSRowsShowHexNotText() throws {
        let dump = WireDumpRenderer(.init(density: .compact)).render(WireAnalysis(try Self.fixture("tls13-server-flight")))
        #expect(dump.contains("  16 "))
        #expect(dump.contains("<38 bytes encrypted application data>"))
    }
}
