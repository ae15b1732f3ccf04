import HTTPCore
import Sockets

/// The REPL over TLS: `:tls [HOST:PORT]` (or `httpkit repl --tls`) makes every new connection a TLS client
/// connection (OpenSSL, through Sockets/TLS.swift). The handshake is shown once per connection — version,
/// cipher, ALPN, the certificate's subject, issuer, expiry and SHA-256 fingerprint, and whether it verified —
/// and then requests go out as usual: the dumps show the HTTP inside TLS, before encryption and after
/// decryption. (`httpkit dump` shows the records themselves, from a capture.)
extension ReplSession {
    /// `:tls`; false when `name` is another command.
    func tlsCommand(_ name: String, _ argument: String) -> Bool {
        guard name == ":tls" else { return false }
        switch argument {
        case "off":
            settings.tls = false
            closeConnection(note: connection == nil ? nil : "we closed it to leave TLS")
            output.line("-- TLS off: the next request opens a plain TCP connection to \(address)")
        case "", "on":
            settings.tls = true
            closeConnection(note: connection == nil ? nil : "we closed it to start TLS")
            _ = ensureConnection()
        default:
            guard let target = ReplTarget(argument) else {
                output.line("!! :tls [HOST:PORT] | off, such as :tls 127.0.0.1:8443 (httpkit router --tls-self-signed --port 8443)")
                return true
            }
            settings.host = target.host
            settings.serverName = target.name
            settings.port = target.port
            settings.tls = true
            closeConnection(note: nil)
            _ = ensureConnection()
        }
        return true
    }

    /// The TLS handshake on a fresh TCP connection, and what it agreed on; nil (after saying why) when it failed.
    /// With `offerHTTP2`, ALPN offers `h2` first (`:h2` after `:tls`).
    func startTLS(_ socket: Socket, offerHTTP2: Bool = false) -> TLSClientTransport? {
        do {
            // The handshake blocks: give it the response timeout. Afterwards reads wait at most half a
            // second, so that a read that found only part of a record (or a session ticket) returns to
            // the REPL's own deadline instead of blocking past it.
            try socket.setReceiveTimeout(seconds: settings.timeout)
            let transport = try TLSClientTransport(socket, host: settings.serverName, caFile: settings.caFile, offerHTTP2: offerHTTP2)
            try socket.setReceiveTimeout(seconds: min(settings.timeout, 0.5))
            output.line("== connected to \(address) with TLS (connection #\(connectionNumber + 1)); dumps show the HTTP inside the encrypted records")
            transport.summary.lines().forEach(output.line)
            return transport
        } catch let error as TLSError {
            socket.close()
            output.line("!! TLS handshake with \(address) failed: \(error). Does the server speak TLS there? (httpkit router --tls-self-signed)")
        } catch {
            socket.close()
            output.line("!! \(error)")
        }
        return nil
    }
}
