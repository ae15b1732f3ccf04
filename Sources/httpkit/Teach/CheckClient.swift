import Foundation
import HTTPCore
import Sockets

/// A client for checks: raw bytes out, parsed responses back, a timeout on everything. Over TLS when the
/// target is https: `socket` is then a TLS client transport, and the bytes are the HTTP inside it.
///
/// It never throws away what happened: a write that fails (the server closed after one `recv`) is noted
/// and reading goes on, so the 400 that did arrive is shown; a response the strict parser refuses is kept
/// as bytes, so the wire analysis can say why. `reception` is the whole story, for the report.
final class CheckClient {
    let socket: any ClientStream
    let timeout: Double
    private(set) var reception = Reception()
    private var parser = ResponseParser()
    private var writes = 0

    private init(socket: any ClientStream, timeout: Double) {
        self.socket = socket
        self.timeout = timeout
    }

    static func connect(_ target: CheckTarget, timeout: Double = 3) throws -> CheckClient {
        let socket = try Socket.connect(host: target.host, port: target.port)
        try socket.setReceiveTimeout(seconds: timeout)
        try socket.setSendTimeout(seconds: timeout)
        guard target.tls else { return CheckClient(socket: socket, timeout: timeout) }
        do {
            return CheckClient(socket: try TLSClientTransport(socket, host: target.host), timeout: timeout)
        } catch {
            socket.close()
            throw error
        }
    }

    /// Writes the bytes; a failure is recorded (and returned as false), not thrown: the server may have
    /// answered before it stopped reading.
    @discardableResult
    func send(_ text: String, method: String? = nil) -> Bool { send(Array(text.utf8), method: method) }

    @discardableResult
    func send(_ bytes: [UInt8], method: String? = nil) -> Bool {
        if let method { reception.methods.append(method) }
        guard reception.sendError == nil else { return false }
        do {
            try socket.writeAll(bytes)
            writes += 1
            return true
        } catch {
            reception.sendError = "\(error.call): \(error.errnoName)"
            return false
        }
    }

    /// Whether bytes are waiting to be read right now, without waiting: for a check that wants to know
    /// when the server answered (after which piece of the request).
    func hasArrived() -> Bool {
        if socket.hasBufferedBytes { return true }
        var descriptor = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Records that the check stopped waiting for an answer after `seconds` (it polled rather than read).
    func gaveUp(after seconds: Double) {
        reception.ending = .timedOut(seconds: seconds)
    }

    /// Reads until `count` responses arrived (or the server closed, reset, or went quiet for `timeout`).
    /// With `untilClose`, goes on reading until the server closes (at most `timeout` more), so that bytes
    /// after a body that is longer than its Content-Length show up in the dump.
    func responses(_ count: Int, methods: [String] = [], untilClose: Bool = false) -> [ParsedResponse] {
        if !methods.isEmpty { reception.methods = Array(reception.methods.prefix(reception.responsesParsed)) + methods }
        var result: [ParsedResponse] = []
        // The method of the request the next response answers (HEAD: no body), counted over the connection.
        func expectNext() {
            let index = reception.responsesParsed
            parser.requestMethod = index < reception.methods.count ? reception.methods[index] : "GET"
        }
        expectNext()
        let deadline = Date().addingTimeInterval(timeout)
        func take(_ response: ParsedResponse) {
            result.append(response)
            reception.responsesParsed += 1
            expectNext()
        }
        while (result.count < count || untilClose) && Date() < deadline {
            // Once the answer is in, waiting for the close is only for stray bytes: a short wait, so a
            // server that ignores Connection: close costs a moment, not the whole timeout.
            if result.count >= count { try? socket.setReceiveTimeout(seconds: 0.3) }
            let bytes: [UInt8]?
            do {
                bytes = try socket.read()
            } catch {
                reception.ending = error.errno == ECONNRESET ? .reset : .noConnection("\(error)")
                return result
            }
            guard let bytes else {
                if result.count < count || reception.bytes.isEmpty { reception.ending = .timedOut(seconds: timeout) }
                return result
            }
            if bytes.isEmpty {
                reception.ending = .closed
                if reception.parseError == nil {
                    do {
                        if let last = try parser.finish() { take(last) }
                    } catch {
                        reception.parseError = error.description
                    }
                }
                reception.unparsedBytes = reception.parseError == nil ? 0 : parser.unconsumedBytes.count
                return result
            }
            if reception.answeredAfterWrite == nil { reception.answeredAfterWrite = writes }
            reception.bytes += bytes
            guard reception.parseError == nil else { continue } // keep reading: the dump shows the rest
            parser.append(bytes)
            do {
                while let response = try parser.next() {
                    if (100...199).contains(response.status) { continue }
                    take(response)
                }
            } catch {
                reception.parseError = error.description
                reception.unparsedBytes = parser.unconsumedBytes.count
            }
        }
        return result
    }

    /// Reads raw bytes (not HTTP) until `count` arrived, the server closed, or `timeout` passed: for echo.
    func echoed(count: Int) -> Reception {
        reception.isHTTP = false
        while reception.bytes.count < count {
            do {
                guard let bytes = try socket.read() else {
                    reception.ending = .timedOut(seconds: timeout)
                    break
                }
                if bytes.isEmpty {
                    reception.ending = .closed
                    break
                }
                reception.bytes += bytes
            } catch {
                reception.ending = error.errno == ECONNRESET ? .reset : .noConnection("\(error)")
                break
            }
        }
        return reception
    }

    /// Whether the server closed the connection within `seconds` (reads until EOF or timeout).
    func closes(within seconds: Double) -> Bool {
        try? socket.setReceiveTimeout(seconds: seconds)
        while true {
            guard let bytes = try? socket.read() else { return false }
            if bytes.isEmpty {
                reception.ending = .closed
                return true
            }
            reception.bytes += bytes
        }
    }

    func close() { socket.close() }
}

/// One request, one response, on a new connection; the request says `Connection: close`, so the reading
/// goes on until the server closes: bytes beyond the response are part of the diagnosis.
func exchange(_ target: CheckTarget, _ request: String, method: String = "GET") -> (ParsedResponse?, Reception) {
    let client: CheckClient
    do {
        client = try CheckClient.connect(target)
    } catch {
        return (nil, Reception(failure: error))
    }
    defer { client.close() }
    client.send(request, method: method)
    let closing = request.range(of: "\r\nConnection: close\r\n", options: .caseInsensitive) != nil
    let response = client.responses(1, untilClose: closing).first
    return (response, client.reception)
}
