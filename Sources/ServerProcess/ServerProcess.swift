import Foundation

/// A server started as a child process and waited for until it listens, then stopped by its pid: the one
/// helper behind `httpkit bench --compare`, `httpkit check` (httpkit's own stage or a learner's command)
/// and the live tests, so "start it, wait for it, stop it" is written once.
///
/// It is Foundation code for tools around the server, not part of a server: Sockets stays the only layer
/// of httpkit itself that calls the kernel.
public final class ServerProcess: @unchecked Sendable {
    /// How to know the server is ready.
    public enum Readiness: Sendable {
        /// An httpkit stage: wait for its `listening on http://HOST:PORT/` line and read the port from it.
        case startupLine
        /// Any server: wait until a TCP connection to this port succeeds.
        case accepts(host: String, port: UInt16)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// What the server printed before it failed (stdout and stderr).
        public let output: String
    }

    public let process = Process()
    /// stdout and stderr, together, in a temporary file.
    public let logPath: String
    public private(set) var port: UInt16 = 0
    public private(set) var startupLine = ""

    /// Starts `executable arguments` (or `/bin/sh -c "SHELL; exec executable arguments"` when `shell` is
    /// given, for limits such as `ulimit -n 40`: the pid is still the server's) and waits up to `timeout`.
    public init(executable: String, arguments: [String], shell: String? = nil, environment: [String: String] = [:],
                readiness: Readiness = .startupLine, timeout: Double = 20, name: String = "server") throws(Failure) {
        logPath = NSTemporaryDirectory() + "httpkit-\(name)-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        if let shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\(shell); exec " + ([executable] + arguments).map(Self.shellQuoted).joined(separator: " ")]
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        do {
            try process.run()
        } catch {
            throw Failure(description: "could not start \(executable): \(error)", output: "")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            switch readiness {
            case .startupLine:
                if let line = output.split(separator: "\n").first(where: { $0.contains("listening on http") }) {
                    startupLine = String(line)
                    port = UInt16((line.split(separator: ":").last ?? "").prefix { $0.isNumber }) ?? 0
                    return
                }
            case .accepts(let host, let port):
                if Self.accepts(host: host, port: port) {
                    self.port = port
                    return
                }
            }
            if !process.isRunning {
                throw Failure(description: "\(name) exited before it listened (status \(process.terminationStatus))", output: output)
            }
            usleep(20_000)
        }
        let printed = output
        stop()
        throw Failure(description: "\(name) did not listen within \(Int(timeout)) s", output: printed)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything the server printed so far (stdout and stderr).
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal`, waits for the exit, and sends SIGKILL if it does not come within `timeout`.
    /// Returns the exit status (-1 when it had to be killed).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 5) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    deinit {
        stop(signal: SIGKILL, timeout: 2)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Whether something accepts TCP connections on host:port now.
    public static func accepts(host: String, port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func shellQuoted(_ word: String) -> String { "'" + word.replacing("'", with: "'\\''") + "'" }
}
