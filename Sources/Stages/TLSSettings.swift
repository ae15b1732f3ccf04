import HTTPCore
import Sockets

/// Where a stage's TLS certificate comes from: files, or a throwaway self-signed one made at start.
public struct TLSSettings: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        case files(certificate: String, key: String)
        case selfSigned
    }

    public var source: Source
    /// Append session secrets here (the `SSLKEYLOGFILE` convention) so tshark/Wireshark can decrypt.
    public var keyLogPath: String?

    public init(source: Source, keyLogPath: String? = nil) {
        self.source = source
        self.keyLogPath = keyLogPath
    }

    /// The OpenSSL context, made once: a self-signed certificate is written to a private temporary folder
    /// and announced with its fingerprint and path (for `curl --cacert`).
    public func makeContext(alpn: TLSContext.ALPN = .http1) throws(TLSError) -> TLSContext {
        switch source {
        case .files(let certificate, let key):
            return try TLSContext(certificate: certificate, key: key, alpn: alpn, keyLogPath: keyLogPath)
        case .selfSigned:
            let directory = "/tmp/httpkit-tls-\(Processes.currentPID)"
            let made = try SelfSignedCertificate.make(in: directory)
            Console.out("TLS: a self-signed certificate for localhost, 127.0.0.1 and ::1 (30 days), SHA-256 \(made.fingerprint)")
            Console.out("TLS: certificate \(made.certificate) (trust it with: curl --cacert \(made.certificate) https://localhost:PORT/)")
            return try TLSContext(certificate: made.certificate, key: made.key, alpn: alpn, keyLogPath: keyLogPath)
        }
    }
}
