import HTTPCore

extension WireDumpRenderer {
    /// The lines under a run of TLS records: what the hellos offered and chose, then what stayed hidden.
    ///
    ///     == tls records from the client: 333 bytes, 1 record: ClientHello
    ///        server name localhost; ALPN h2, http/1.1; versions TLS 1.3, TLS 1.2; 31 cipher suites; key share x25519
    func tlsSummary(_ message: WireMessage, _ tls: WireTLS) -> [String] {
        var text = "== \(message.kind.rawValue)\(tls.sender.map { " from the \($0)" } ?? ""): \(WireAnalysis.bytesText(message.length)), "
            + "\(tls.records) record\(tls.records == 1 ? "" : "s")"
        if !tls.handshakeMessages.isEmpty { text += ": " + tls.handshakeMessages.joined(separator: ", ") }
        var lines = [palette.paint(text, .summary)]
        var offered: [String] = []
        if let name = tls.serverName { offered.append("server name \(name)") }
        if tls.offeredSuites > 0 { offered.append("\(tls.offeredSuites) cipher suites") }
        if !tls.offeredVersions.isEmpty { offered.append("versions \(tls.offeredVersions.joined(separator: ", "))") }
        if tls.sender != "server" && !tls.alpn.isEmpty { offered.append("ALPN \(tls.alpn.joined(separator: ", "))") }
        if tls.sender != "server" && !tls.keyShareGroups.isEmpty { offered.append("key share \(tls.keyShareGroups.joined(separator: ", "))") }
        if !offered.isEmpty { lines.append("   offered: " + offered.joined(separator: "; ")) }
        var chosen: [String] = []
        if tls.helloRetryRequest { chosen.append("a HelloRetryRequest first") }
        if let version = tls.version { chosen.append(version) }
        if let suite = tls.cipherSuite { chosen.append(suite) }
        if tls.sender == "server" && !tls.keyShareGroups.isEmpty { chosen.append("key share \(tls.keyShareGroups.joined(separator: ", "))") }
        if tls.sender == "server" && !tls.alpn.isEmpty { chosen.append("ALPN \(tls.alpn.joined(separator: ", "))") }
        if !chosen.isEmpty { lines.append("   chosen:  " + chosen.joined(separator: ", ")) }
        if tls.encryptedRecords > 0 {
            lines.append("   encrypted: \(tls.encryptedRecords) record\(tls.encryptedRecords == 1 ? "" : "s"), \(WireAnalysis.bytesText(tls.encryptedBytes)) "
                + "(a dump of the decrypted bytes needs the keys: httpkit repl --tls shows them after decryption)")
        }
        if !tls.alerts.isEmpty { lines.append("   alerts: " + tls.alerts.joined(separator: ", ")) }
        return lines
    }
}
