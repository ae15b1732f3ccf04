import HTTPCore
import Sockets

/// Where access-log lines go: stdout or a file, buffered and written in batches (a write per request
/// would cost a system call each), flushed at least every 100 ms and when the server stops.
/// With `--workers`, several loops write to one log: the buffer and its flush time share one lock.
public final class AccessLog: Sendable {
    private struct Pending {
        var buffer: [UInt8] = []
        var lastFlush = Processes.monotonicSeconds()
    }

    private let file: FileDescriptor
    private let pending = Locked(Pending())
    /// Writes each line at once (a terminal watching the log), instead of batching.
    private let immediate: Bool

    /// `destination` is `-` for stdout or a file path (appended to).
    public init(destination: String) throws(SystemError) {
        if destination == "-" {
            file = .standardOutput
            immediate = FileDescriptor.standardOutput.isTerminal
        } else {
            file = try FileDescriptor.openForAppending(destination)
            immediate = false
        }
    }

    public func write(_ line: String) {
        let due = pending.withLock { pending in
            pending.buffer.append(contentsOf: line.utf8)
            pending.buffer.append(ASCII.lf)
            return immediate || pending.buffer.count >= 16 * 1024
        }
        if due { flush() }
    }

    /// Writes buffered lines if the oldest has waited 100 ms (called from the event loop's tick).
    public func flushIfStale() {
        let stale = pending.withLock { Processes.monotonicSeconds() - $0.lastFlush >= 0.1 && !$0.buffer.isEmpty }
        if stale { flush() }
    }

    public func flush() {
        let lines = pending.withLock { pending in
            defer {
                pending.buffer.removeAll(keepingCapacity: true)
                pending.lastFlush = Processes.monotonicSeconds()
            }
            return pending.buffer
        }
        if !lines.isEmpty { try? file.writeAll(lines) } // a log that cannot be written must not stop serving
    }

    /// One line in Common Log Format:
    /// `127.0.0.1 - learner [22/Nov/2026:05:04:17 +0000] "GET /admin HTTP/1.1" 200 4130`.
    /// A request the parser refused has no request line to quote: it is logged as `"-"`.
    public func record(_ request: HTTPRequest?, _ response: HTTPResponse, remoteAddress: String?) {
        let requestLine = request.map { "\($0.method) \($0.target) \($0.version)" } ?? "-"
        let sendsBody = response.sendsBody(answering: request?.method ?? .get)
        let size = sendsBody ? response.body.length.map(String.init) ?? "-" : "-"
        // The user only when the credentials were accepted; a name in a refused header proves nothing.
        let user = response.status.code == 401 ? nil : request?.headers["Authorization"]
            .flatMap { BasicCredentials(authorization: $0) }.map(\.user)
            .flatMap { $0.isEmpty || $0.contains(" ") ? nil : $0 }
        // Over TLS the line ends with the session (version, cipher, SNI, ALPN): Common Log Format plus a field.
        let tls = request?.tls.map { " \"\($0)\"" } ?? ""
        write("\(remoteAddress ?? "-") - \(user ?? "-") [\(Self.timestamp())] \"\(requestLine)\" \(response.status.code) \(size)\(tls)")
    }

    /// `22/Nov/2026:05:04:17 +0000`, the Common Log Format's time.
    static func timestamp() -> String { HTTPDate.commonLogFormat(HTTPDate.currentSeconds()) }
}
