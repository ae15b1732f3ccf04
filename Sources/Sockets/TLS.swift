import CTLS
import Glibc

/// A TLS failure, with OpenSSL's reason (`--tls-cert: cannot use the certificate: … no start line`).
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// The server's TLS settings, made once at start (OpenSSL's SSL_CTX): certificate and key, TLS 1.2 and
/// 1.3 only with forward-secret AEAD ciphers, session tickets, ALPN, and an optional key log.
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer

    /// - Parameters:
    ///   - offerHTTP2: answer ALPN `h2` (only a stage that speaks HTTP/2 may); `http/1.1` otherwise.
    ///   - keyLogPath: where to append the session secrets (the `SSLKEYLOGFILE` convention), so Wireshark
    ///     or tshark can decrypt a capture. nil: none.
    public init(certificate: String, key: String, offerHTTP2: Bool = false, keyLogPath: String? = nil) throws(TLSError) {
        var error = [CChar](repeating: 0, count: 512)
        guard let context = httpkit_tls_context_new(certificate, key, offerHTTP2 ? 1 : 0, keyLogPath, &error, error.count) else {
            throw TLSError(description: cText(error))
        }
        pointer = context
    }

    deinit { httpkit_tls_context_free(pointer) }

    public static var libraryVersion: String { String(cString: httpkit_tls_library_version()) }
}

/// What a finished handshake agreed on.
public struct TLSSummary: Sendable, Hashable, CustomStringConvertible {
    public var version: String
    public var cipher: String
    /// The ALPN protocol (`h2`, `http/1.1`), or "" when the client sent none.
    public var alpn: String
    /// The name the client asked for (SNI), or "".
    public var serverName: String
    public var resumed: Bool

    public var description: String {
        "\(version) \(cipher)" + (serverName.isEmpty ? "" : " sni=\(serverName)") + (alpn.isEmpty ? "" : " alpn=\(alpn)")
            + (resumed ? " resumed" : "")
    }
}

/// TLS over a nonblocking TCP socket: the handshake runs inside the first reads (OpenSSL answers
/// WANT_READ until the client's next flight arrives, which the event loop sees as "would block"), then
/// reads and writes go through SSL_read/SSL_write. Files cannot go to the kernel with sendfile (the bytes
/// must be encrypted here), so `sendFile` answers nil and the output queue reads and writes instead.
public final class TLSTransport: Transport {
    public let socket: Socket
    private let session: OpaquePointer
    private var error = [CChar](repeating: 0, count: 512)
    /// Set once, when the handshake has finished.
    public private(set) var summary: TLSSummary?

    public init(_ socket: Socket, context: TLSContext) throws(TLSError) {
        self.socket = socket
        guard let session = httpkit_tls_session_new(context.pointer, socket.fd, &error, error.count) else {
            throw TLSError(description: cText(error))
        }
        self.session = session
    }

    deinit { httpkit_tls_session_free(session) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        let n = httpkit_tls_read(session, buffer.baseAddress, buffer.count, &error, error.count)
        noteHandshake()
        return try outcome(n, call: "SSL_read")
    }

    public func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard bytes.count > 0 else { return .done(0) }
        let n = httpkit_tls_write(session, bytes.baseAddress, bytes.count, &error, error.count)
        noteHandshake()
        return try outcome(n, call: "SSL_write")
    }

    public func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? { nil }

    /// close_notify (our half of TLS's close), then our half of TCP's.
    public func shutdownWrite() {
        httpkit_tls_shutdown(session)
        socket.shutdownWrite()
    }

    public func close() { socket.close() }

    private func outcome(_ n: Int, call: String) throws(SystemError) -> IOResult<Int> {
        switch n {
        case 0...: return .done(n)
        case Int(HTTPKIT_TLS_WANT_READ), Int(HTTPKIT_TLS_WANT_WRITE): return .wouldBlock
        case Int(HTTPKIT_TLS_PLAIN_HTTP):
            // Answer in plain text, which the client can read, instead of leaving it waiting for TLS bytes.
            let body = "400 Bad Request: this port speaks HTTPS (TLS); use an https:// URL\n"
            let answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Connection: close\r\n\r\n" + body
            _ = try? socket.writeAll(Array(answer.utf8))
            // Read what the client already sent before closing: unread bytes would make the kernel reset the
            // connection (RST), and the client could lose the answer.
            socket.shutdownWrite()
            for _ in 0..<16 {
                guard let bytes = try? socket.read(maxBytes: 16 * 1024), !bytes.isEmpty else { break }
            }
            throw SystemError(cText(error), errno: EPROTO)
        default:
            throw SystemError(cText(error), errno: EPROTO) // "SSL_read: error:0A000102:SSL routines::unsupported protocol"
        }
    }

    private func noteHandshake() {
        guard summary == nil, httpkit_tls_handshake_done(session) != 0 else { return }
        var version = [CChar](repeating: 0, count: 32), cipher = [CChar](repeating: 0, count: 96)
        var alpn = [CChar](repeating: 0, count: 32), sni = [CChar](repeating: 0, count: 256)
        var resumed: Int32 = 0
        httpkit_tls_info(session, &version, version.count, &cipher, cipher.count, &alpn, alpn.count, &sni, sni.count, &resumed)
        summary = TLSSummary(version: cText(version), cipher: cText(cipher), alpn: cText(alpn),
                             serverName: cText(sni), resumed: resumed != 0)
    }
}

/// A throwaway certificate for trying TLS on this machine.
public enum SelfSignedCertificate {
    /// Writes cert.pem and key.pem for localhost, 127.0.0.1 and ::1 into `directory` (valid 30 days);
    /// returns their paths and the certificate's SHA-256 fingerprint.
    public static func make(in directory: String) throws(TLSError) -> (certificate: String, key: String, fingerprint: String) {
        let certificate = directory + "/cert.pem", key = directory + "/key.pem"
        var fingerprint = [CChar](repeating: 0, count: 128), error = [CChar](repeating: 0, count: 512)
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw TLSError(description: "cannot create \(directory): \(String(cString: strerror(errno)!))")
        }
        guard httpkit_tls_make_self_signed(certificate, key, &fingerprint, fingerprint.count, &error, error.count) == 0 else {
            throw TLSError(description: cText(error))
        }
        return (certificate, key, cText(fingerprint))
    }
}

/// A C string in a buffer, up to its NUL.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
