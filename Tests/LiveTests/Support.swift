import Foundation
@_exported import ServerProcess
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `httpkit` binary that `swift build` put next to this test bundle.
enum HTTPKitBinary {
    static let path: String = {
        if let override = ProcessInfo.processInfo.environment["HTTPKIT_BIN"] { return override }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" { directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return directory.appendingPathComponent("httpkit").path
    }()

    /// The repository's root, found from this source file.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running `httpkit` server for a test, started on port 0 and stopped by `stop()` or, at the latest,
/// when the last reference goes: no test can leave a server behind. (The library type is shared with
/// `httpkit bench` and `httpkit check`.)
extension ServerProcess {
    /// Starts `httpkit ARGS --port 0` (unless ARGS names a port) and waits for its startup line.
    /// With `shell`, the server starts as `/bin/sh -c "SHELL; exec httpkit ARGS"`, for limits such as
    /// `ulimit -n 40`; the pid is still the server's.
    convenience init(_ arguments: [String], addPort: Bool = true, timeout: Double = 20, shell: String? = nil,
                     environment: [String: String] = [:]) throws {
        do {
            try self.init(executable: HTTPKitBinary.path, arguments: arguments + (addPort ? ["--port", "0"] : []),
                          shell: shell, environment: environment.merging(["NO_COLOR": "1"]) { $1 }, timeout: timeout, name: "test")
        } catch {
            throw TestFailure("\(error): \(error.output)")
        }
    }

    /// A field of /proc/PID/status in kB, such as VmRSS or VmHWM.
    func memoryKB(_ field: String) -> Int? { ProcessStatus.field(field, pid: pid) }
}

/// A raw TCP client with timeouts, for sending exactly the bytes a test wants.
struct RawClient {
    let socket: Socket

    init(port: UInt16, timeout: Double = 10) throws {
        socket = try Socket.connect(host: "127.0.0.1", port: port)
        try socket.setReceiveTimeout(seconds: timeout)
        try socket.setSendTimeout(seconds: timeout)
    }

    func send(_ text: String) throws { try socket.writeAll(Array(text.utf8)) }
    func send(_ bytes: [UInt8]) throws { try socket.writeAll(bytes) }

    /// Reads until the server closes (or the timeout, which throws).
    func readToEnd(limit: Int = 64 << 20) throws -> [UInt8] {
        var all: [UInt8] = []
        while all.count < limit {
            guard let bytes = try socket.read() else { throw TestFailure("read timed out after \(all.count) bytes") }
            if bytes.isEmpty { break }
            all += bytes
        }
        return all
    }

    /// Reads until `count` bytes arrived.
    func read(count: Int) throws -> [UInt8] {
        var all: [UInt8] = []
        while all.count < count {
            guard let bytes = try socket.read(maxBytes: count - all.count) else { throw TestFailure("read timed out") }
            if bytes.isEmpty { throw TestFailure("closed after \(all.count) of \(count) bytes") }
            all += bytes
        }
        return all
    }

    func close() { socket.close() }

    /// Sends `request`, reads the whole response until close, and parses it.
    static func exchange(port: UInt16, _ request: String) throws -> ParsedResponse {
        let client = try RawClient(port: port)
        defer { client.close() }
        try client.send(request)
        return try ParsedResponse(client.readToEnd())
    }
}

/// A response read off the wire, split into its parts for assertions.
struct ParsedResponse {
    let raw: [UInt8]
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    init(_ raw: [UInt8]) throws {
        self.raw = raw
        let marker: [UInt8] = [13, 10, 13, 10]
        guard let end = (0...max(0, raw.count - 4)).first(where: { raw.count >= 4 && Array(raw[$0..<$0 + 4]) == marker }) else {
            throw TestFailure("no end of head in: \(String(decoding: raw.prefix(200), as: UTF8.self))")
        }
        let head = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        status = statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0
        headers = head.dropFirst().map { line in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = Array(raw[(end + 4)...])
    }

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Runs a command with a timeout and returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], timeout: Double = 30, environment: [String: String] = [:])
    throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    for proxy in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"] { env[proxy] = nil }
    process.environment = env
    let out = NSTemporaryDirectory() + "httpkit-run-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: out + ".out", contents: nil)
    _ = FileManager.default.createFile(atPath: out + ".err", contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: out + ".out")
        try? FileManager.default.removeItem(atPath: out + ".err")
    }
    process.standardOutput = FileHandle(forWritingAtPath: out + ".out")
    process.standardError = FileHandle(forWritingAtPath: out + ".err")
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        throw TestFailure("\(executable) \(arguments) timed out after \(timeout) s")
    }
    let stdout = (try? String(contentsOfFile: out + ".out", encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
    return (process.terminationStatus, stdout, stderr)
}

/// `curl` with a timeout, never through a proxy.
func curl(_ arguments: [String], timeout: Double = 20) throws -> (status: Int32, stdout: String, stderr: String) {
    try run("/usr/bin/curl", ["--noproxy", "*", "--max-time", String(Int(timeout))] + arguments, timeout: timeout + 5)
}

func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if access(path, X_OK) == 0 { return path }
    }
    return nil
}

/// A temporary directory, removed at deinit.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "httpkit-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8))
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs a short command with posix_spawn and waitpid, bypassing Foundation's Process (which, for a
/// program that daemonizes like tmux, can miss the exit). The child starts with no signal blocked and
/// default dispositions: a test runner's blocked SIGALRM would otherwise stop `nc -q1` from ever quitting.
/// Returns its exit status and its stdout and stderr, interleaved as a terminal would show them.
@discardableResult
func spawn(_ executable: String, _ arguments: [String], timeout: Double = 10, environment: [String: String]? = nil) throws -> (status: Int32, stdout: String) {
    let output = NSTemporaryDirectory() + "httpkit-spawn-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: output) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t(), all = sigset_t()
    sigemptyset(&empty)
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var merged = ProcessInfo.processInfo.environment
    for proxy in ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"] { merged[proxy] = nil }
    for (key, value) in environment ?? [:] { merged[key] = value }
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard status == 0 else { throw TestFailure("posix_spawn \(executable): \(status)") }
    let deadline = Date().addingTimeInterval(timeout)
    var exitStatus: Int32 = 0
    while true {
        let waited = waitpid(pid, &exitStatus, WNOHANG)
        if waited == pid || (waited < 0 && errno == ECHILD) { break }
        if Date() > deadline {
            kill(pid, SIGKILL)
            throw TestFailure("\(executable) \(arguments) timed out after \(timeout) s")
        }
        usleep(5_000)
    }
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    return ((exitStatus >> 8) & 0xFF, text)
}
