import HTTPCore
import Sockets

/// Opening the listening socket and the accept loop that the iterative stages share.
public enum Listener {
    /// Binds and listens, then prints the one startup line that tests and learners read the port from:
    /// `httpkit static listening on http://127.0.0.1:8080/ (root /srv/www)`.
    public static func open(_ stage: String, _ configuration: ServerConfiguration,
                            reusePort: Bool = false, announce: Bool = true) throws(SystemError) -> Socket {
        StopSignal.install()
        let socket = try Socket.listen(host: configuration.host, port: configuration.port, reusePort: reusePort)
        if announce {
            let port = (try? socket.localAddress().port) ?? configuration.port
            Console.out(startupLine(stage, host: configuration.host, port: port, root: configuration.root))
        }
        return socket
    }

    public static func startupLine(_ stage: String, host: String, port: UInt16, root: DocumentRoot?, tls: Bool = false) -> String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var line = "httpkit \(stage) listening on \(tls ? "https" : "http")://\(shownHost):\(port)/"
        if let root { line += " (root \(root.path.isEmpty ? "/" : root.path))" }
        return line
    }

    /// Accepts connections one after another and hands each to `handle`, until SIGINT or SIGTERM.
    /// The handler owns the connection and must close it. Errors of one connection end only that one.
    public static func acceptLoop(_ listener: Socket, handle: (Socket) throws -> Void) {
        while !StopSignal.isRequested {
            guard let client = acceptNext(listener) else { continue }
            do {
                try handle(client)
            } catch let error as SystemError where error.isPeerGone || error.isInterrupted {
                // The client left, or we are stopping: nothing to report.
            } catch {
                Console.error("connection: \(error)")
            }
        }
        listener.close()
    }

    /// The next connection, or nil when accept failed in a way that should just be retried: interrupted
    /// by a signal, a connection aborted before we took it, or no descriptors left (back off briefly
    /// instead of spinning, and keep serving once descriptors free up).
    public static func acceptNext(_ listener: Socket) -> Socket? {
        do {
            return try listener.accept()
        } catch {
            if error.isInterrupted || error.isAbortedConnection {
                // retried at once
            } else if error.isOutOfResources {
                Console.error("\(error); backing off for 50 ms")
                Processes.sleep(milliseconds: 50)
            } else {
                Console.error("\(error)")
                Processes.sleep(milliseconds: 10)
            }
            return nil
        }
    }
}

/// Output for people: stdout lines flushed at once (tests read them through a pipe), stderr for problems.
public enum Console {
    public static func out(_ line: String) {
        try? FileDescriptor.standardOutput.writeAll(Array((line + "\n").utf8))
    }

    public static func error(_ line: String) {
        try? FileDescriptor.standardError.writeAll(Array(("httpkit: " + line + "\n").utf8))
    }
}
