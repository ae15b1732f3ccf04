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

    /// What ALPN (RFC 7301) agrees to. Never a protocol the server does not speak: a client told `h2` sends
    /// HTTP/2's preface, which an HTTP/1.1 parser can only refuse.
    public enum ALPN: Sendable, Hashable {
        /// `http/1.1` (the stages before http2).
        case http1
        /// `h2` when the client offers it, else `http/1.1` (the http2 stage).
        case http2AndHTTP1
        /// `h2` alone (the http2 stage with --http2-only): a client that offers only other protocols is
        /// refused in the handshake with no_application_protocol (RFC 7301 §3.2).
        case http2Only

        var mode: Int32 {
            switch self {
            case .http1: Int32(HTTPKIT_ALPN_HTTP1)
            case .http2AndHTTP1: Int32(HTTPKIT_ALPN_H2_AND_HTTP1)
            case .http2Only: Int32(HTTPKIT_ALPN_H2_ONLY)
            }
        }
    }

    /// - Parameters:
    ///   - alpn: the protocols ALPN may agree to (`h2` only for a stage that speaks HTTP/2).
    ///   - keyLogPath: where to append the session secrets (the `SSLKEYLOGFILE` convention), so Wireshark
    ///     or tshark can decrypt a capture. nil: none.
    public init(certificate: String, key: String, alpn: ALPN = .http1, keyLogPath: String? = nil) throws(TLSError) {
        var error = [CChar](repeating: 0, count: 512)
        guard let context = httpkit_tls_context_new(certificate, key, alpn.mode, keyLogPath, &error, error.count) else {
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
    /// The last read could not go on until the socket is *writable* (OpenSSL's WANT_WRITE: a handshake
    /// flight that did not fit the send buffer). The event loop then waits for writability and reads again.
    public private(set) var readWantsWrite = false

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
        readWantsWrite = n == Int(HTTPKIT_TLS_WANT_WRITE)
        noteHandshake()
        return try outcome(n, call: "SSL_read")
    }

    public func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard bytes.count > 0 else { return .done(0) }
        let n = httpkit_tls_write(session, bytes.baseAddress, bytes.count, &error, error.count)
        noteHandshake()
        return try outcome(n, call: "SSL_write")
    }

    /// TLS encrypts every write into records anyway: the pieces (HTTP/2's 9-octet frame headers and the body
    /// slices between them) are joined into one buffer of one full record (16 KB), so that a frame header is
    /// not a record of its own. One record per call: a larger join was copied again by every call that
    /// followed a partial write (measured: 130–142 → 143–177 µs per 100 KB request with 64 KB). A retry after
    /// WANT_WRITE starts with the same octets and is no shorter, as OpenSSL asks (the buffer may move:
    /// SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
    public func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int> {
        let limit = 16 * 1024
        var joined: [UInt8] = []
        joined.reserveCapacity(min(limit, vectors.reduce(0) { $0 + $1.iov_len }))
        for vector in vectors where joined.count < limit {
            let take = min(vector.iov_len, limit - joined.count)
            joined += UnsafeRawBufferPointer(start: vector.iov_base, count: take)
        }
        return try joined.withUnsafeBytes { all in Result { () throws(SystemError) in try write(all, more: more) } }.get()
    }

    public func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? { nil }

    /// close_notify (our half of TLS's close), then our half of TCP's.
    public func shutdownWrite() {
        httpkit_tls_shutdown(session)
        socket.shutdownWrite()
    }

    /// close_notify first (RFC 8446 §6.1: a peer that gets none cannot tell our end from a cut
    /// connection; OpenSSL 3 clients report "unexpected eof"), then the socket. Best effort: the peer may
    /// be gone already.
    public func close() {
        httpkit_tls_shutdown(session)
        socket.close()
    }

    private func outcome(_ n: Int, call: String) throws(SystemError) -> IOResult<Int> {
        switch n {
        case 0...: return .done(n)
        case Int(HTTPKIT_TLS_WANT_READ), Int(HTTPKIT_TLS_WANT_WRITE): return .wouldBlock
        case Int(HTTPKIT_TLS_GONE): throw SystemError(call, errno: EPIPE) // the peer left: not worth a log line
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

// MARK: - The client side

/// What a client learned from a finished handshake: the agreement, and the server's certificate.
public struct TLSClientSummary: Sendable, CustomStringConvertible {
    public var version: String
    public var cipher: String
    /// The ALPN protocol the server chose, or "".
    public var alpn: String
    public var subject: String
    public var issuer: String
    /// When the certificate expires, as OpenSSL prints it ("Jan  1 00:00:00 2027 GMT").
    public var notAfter: String
    /// SHA-256 of the certificate, "AB:CD:…": compare it with what the server printed at start.
    public var fingerprint: String
    /// Whether the chain verified against the system's CAs (or the given CA file) and the host matched.
    public var verified: Bool
    /// OpenSSL's reason when it did not ("self-signed certificate").
    public var verifyResult: String

    public var description: String { "\(version) \(cipher)" + (alpn.isEmpty ? "" : " alpn=\(alpn)") }
}

/// TLS over a connected, blocking TCP socket, client side: the handshake runs in `init`, then reads and
/// writes go through SSL_read/SSL_write. A receive timeout on the socket makes `read` answer nil, as the
/// socket's own read does. The certificate is verified and the result reported, never enforced: a
/// learner's self-signed certificate is accepted, and the caller prints the warning.
public final class TLSClientTransport: Transport {
    public let socket: Socket
    private let context: TLSClientContext
    private let session: OpaquePointer
    private var error = [CChar](repeating: 0, count: 512)
    public let summary: TLSClientSummary

    /// - Parameters:
    ///   - host: the name (sent as SNI and checked against the certificate) or IP address (checked only).
    ///   - caFile: a PEM file of certificates to trust besides the system's, such as a self-signed cert.pem.
    ///   - offerHTTP2: offer ALPN `h2` before `http/1.1` (the server's choice is in `summary.alpn`).
    public init(_ socket: Socket, host: String, caFile: String? = nil, offerHTTP2: Bool = false) throws(TLSError) {
        self.socket = socket
        var error = [CChar](repeating: 0, count: 512)
        guard let context = httpkit_tls_client_context_new(caFile, &error, error.count) else {
            throw TLSError(description: cText(error))
        }
        self.context = TLSClientContext(context)
        if offerHTTP2 { httpkit_tls_client_offer_h2(context) }
        guard let session = httpkit_tls_client_session_new(context, socket.fd, host, &error, error.count) else {
            throw TLSError(description: cText(error))
        }
        self.session = session
        var version = [CChar](repeating: 0, count: 32), cipher = [CChar](repeating: 0, count: 96)
        var alpn = [CChar](repeating: 0, count: 32), sni = [CChar](repeating: 0, count: 256)
        var resumed: Int32 = 0, verified: Int32 = 0
        httpkit_tls_info(session, &version, version.count, &cipher, cipher.count, &alpn, alpn.count, &sni, sni.count, &resumed)
        var subject = [CChar](repeating: 0, count: 512), issuer = [CChar](repeating: 0, count: 512)
        var notAfter = [CChar](repeating: 0, count: 64), fingerprint = [CChar](repeating: 0, count: 128)
        var verifyText = [CChar](repeating: 0, count: 256)
        httpkit_tls_peer_info(session, &subject, subject.count, &issuer, issuer.count, &notAfter, notAfter.count,
                              &fingerprint, fingerprint.count, &verified, &verifyText, verifyText.count)
        summary = TLSClientSummary(version: cText(version), cipher: cText(cipher), alpn: cText(alpn), subject: cText(subject),
                                   issuer: cText(issuer), notAfter: cText(notAfter), fingerprint: cText(fingerprint),
                                   verified: verified != 0, verifyResult: cText(verifyText))
    }

    deinit { httpkit_tls_session_free(session) }

    /// Decrypted bytes waiting inside OpenSSL: poll() on the socket cannot see them, so look here first.
    public var hasBufferedBytes: Bool { httpkit_tls_pending(session) > 0 }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        let n = httpkit_tls_read(session, buffer.baseAddress, buffer.count, &error, error.count)
        return try outcome(n)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard bytes.count > 0 else { return .done(0) }
        return try outcome(httpkit_tls_write(session, bytes.baseAddress, bytes.count, &error, error.count))
    }

    public func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? { nil }

    public func shutdownWrite() {
        httpkit_tls_shutdown(session)
        socket.shutdownWrite()
    }

    public func close() {
        httpkit_tls_shutdown(session)
        socket.close()
    }

    /// What is available (at most `maxBytes`), decrypted; empty when the server closed; nil when the
    /// socket's receive timeout passed first (or only a session ticket came). The same shape as `Socket.read`.
    public func read(maxBytes: Int = 64 * 1024) throws(SystemError) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        let result = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try read(into: buffer) }
        }.get()
        guard case .done(let count) = result else { return nil }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Writes every byte, encrypted.
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        var sent = 0
        while sent < bytes.count {
            let result = try bytes.withUnsafeBytes { all in
                Result { () throws(SystemError) in try write(UnsafeRawBufferPointer(rebasing: all[sent...]), more: false) }
            }.get()
            guard case .done(let count) = result else { throw SystemError("SSL_write", errno: EAGAIN) }
            sent += count
        }
    }

    private func outcome(_ n: Int) throws(SystemError) -> IOResult<Int> {
        switch n {
        case 0...: return .done(n)
        case Int(HTTPKIT_TLS_WANT_READ), Int(HTTPKIT_TLS_WANT_WRITE): return .wouldBlock
        default: throw SystemError(cText(error), errno: EPROTO)
        }
    }
}

/// A client's SSL_CTX, freed with the transport that made it (one connection each: the REPL and check
/// open few, so sharing one is not worth the bookkeeping).
private final class TLSClientContext {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { httpkit_tls_context_free(pointer) }
}
