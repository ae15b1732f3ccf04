import HTTPCore
import Sockets

/// The event loop's HTTP/2 part (the http2 stage). HTTP/2 is chosen before the first request: over TLS by
/// ALPN (`h2`), on plain TCP by the client starting with the 24-byte preface (prior knowledge). Then the
/// connection's slot holds an HTTP2Connection, whose requests go to the same handler as HTTP/1.1's.
extension EventLoop {
    /// Looks at a connection's first bytes: the HTTP/2 preface (or ALPN h2) switches the slot; anything
    /// else goes to HTTP/1.1. Bytes that are still a prefix of the preface wait for more.
    func probePreface(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        let preface = HTTP2Connection.clientPreface
        connection.prefaceProbe.append(contentsOf: bytes)
        let seen = connection.prefaceProbe
        let alpnH2 = connection.tls?.summary?.alpn == "h2"
        // "PRI * HTTP/2.0" can only be HTTP/2: even if the rest of the preface is wrong, the HTTP/2 machine
        // answers it (GOAWAY PROTOCOL_ERROR, §3.4), not HTTP/1.1's parser.
        let http2Line = Array(preface.prefix(16))
        if alpnH2 || (seen.count >= http2Line.count && seen.starts(with: http2Line)) {
            // The stage's body limit (--max-body) applies to HTTP/2 requests too.
            var machine = HTTP2Connection(configuration: .init(maxBodyBytes: options.limits.maxBodyBytes))
            machine.receive(seen)
            connection.http2 = machine
            connection.http1 = nil // the slot changes hands before any HTTP/1.1 request
        } else if seen.count < http2Line.count && preface.starts(with: seen) {
            return // maybe the preface, cut by TCP: wait for the rest
        } else {
            connection.http1?.receive(seen)
        }
        connection.prefaceProbe = []
    }

    func perform(_ action: HTTP2Connection.Action, on connection: Connection) {
        switch action {
        case .request(let streamID, var request):
            request.remoteAddress = connection.remoteAddress
            request.tls = connection.tlsDescription
            let response = Self.inMemory(handler(request))
            guard let actions = connection.http2?.respond(response, to: streamID, date: HTTPDate.now()) else { return }
            for action in actions { perform(action, on: connection) }
        case .write(let bytes):
            connection.output.append(bytes)
        case .close:
            connection.ending = .close
        }
    }

    /// The HTTP/2 machine sends bodies from memory: a file or a stream is read here first, up to 64 MiB
    /// (larger ones get 500 with the reason; streaming them from disk is the next step).
    static func inMemory(_ response: HTTPResponse) -> HTTPResponse {
        let limit = 64 << 20
        var response = response
        func read(_ body: ResponseBody) -> ResponseBody? {
            switch body {
            case .file(let path, let offset, let length):
                guard length <= limit, let bytes = try? FileContents.read(path, offset: offset, length: length) else { return nil }
                return .bytes(bytes)
            case .stream(let streamed):
                guard let stream = try? streamed.open() else { return nil }
                defer { stream.close() }
                var bytes: [UInt8] = []
                do {
                    while bytes.count <= limit, let piece = try stream.next() { bytes += piece }
                } catch {
                    return nil // a stream that fails is a 500, never a truncated 200
                }
                return bytes.count <= limit ? .bytes(bytes) : nil
            case .parts(let parts):
                var bytes: [UInt8] = []
                for part in parts {
                    guard case .bytes(let piece)? = read(part) else { return nil }
                    bytes += piece
                }
                return .bytes(bytes)
            default:
                return body
            }
        }
        guard let body = read(response.body) else {
            return .text(.internalServerError, "500 Internal Server Error: the body could not be read, or is over 64 MiB (HTTP/2 sends from memory)\n")
        }
        response.body = body
        return response
    }
}
