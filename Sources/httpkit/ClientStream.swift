import Sockets

/// A client's connection as the REPL and `httpkit check` use it: plain TCP (`Socket`) or TLS
/// (`TLSClientTransport`), the same calls either way, so a request goes out and a response comes back
/// without the caller asking which. With TLS, the bytes read and written are the decrypted HTTP.
protocol ClientStream {
    var fd: Int32 { get }
    /// What is available (at most `maxBytes`); empty when the peer closed; nil when the receive timeout passed.
    func read(maxBytes: Int) throws(SystemError) -> [UInt8]?
    func writeAll(_ bytes: [UInt8]) throws(SystemError)
    func setReceiveTimeout(seconds: Double) throws(SystemError)
    func setSendTimeout(seconds: Double) throws(SystemError)
    /// Bytes already received and decrypted but not read yet, which poll() on `fd` cannot see (TLS).
    var hasBufferedBytes: Bool { get }
    func close()
}

extension ClientStream {
    func read() throws(SystemError) -> [UInt8]? { try read(maxBytes: 64 * 1024) }
}

extension Socket: ClientStream {
    var hasBufferedBytes: Bool { false }
}

extension TLSClientTransport: ClientStream {
    var fd: Int32 { socket.fd }
    func setReceiveTimeout(seconds: Double) throws(SystemError) { try socket.setReceiveTimeout(seconds: seconds) }
    func setSendTimeout(seconds: Double) throws(SystemError) { try socket.setSendTimeout(seconds: seconds) }
}

extension TLSClientSummary {
    /// The handshake and the certificate for a person, a line each, with the verification result last:
    ///
    ///     == TLS handshake: TLSv1.3, TLS_AES_256_GCM_SHA384, ALPN http/1.1
    ///        certificate: subject /O=httpkit (self-signed)/CN=localhost
    func lines(verifying: Bool = true) -> [String] {
        var lines = ["== TLS handshake: \(version), \(cipher), ALPN \(alpn.isEmpty ? "none (the server chose no protocol: HTTP/1.1)" : alpn)",
                     "   certificate: subject \(subject)",
                     "                issuer  \(issuer)\(subject == issuer ? " (self-signed: it vouches for itself)" : "")",
                     "                expires \(notAfter)",
                     "                SHA-256 \(fingerprint)"]
        if !verifying {
            lines.append("   ⚠ verification off: the certificate is not checked (as curl -k); \(verified ? "it would have verified" : "it would not verify: \(verifyResult)")")
        } else if verified {
            lines.append("   ✔ the certificate verified: a trusted CA signed it and it names this host")
        } else {
            lines.append("   ⚠ the certificate did NOT verify (\(verifyResult)): continuing anyway, as curl -k would. Compare the SHA-256 with the one the server printed.")
        }
        return lines
    }
}
