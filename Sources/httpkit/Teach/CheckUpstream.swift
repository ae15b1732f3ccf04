import ArgumentParser
import Foundation
import HTTPCore
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// The proxy checks' own upstream servers, `a` and `b`, in the check's process: the proxy under test is
/// started in front of them (`{upstreams}` in --exec becomes `127.0.0.1:PORT_A,127.0.0.1:PORT_B`), so the
/// checks see both hops: what the client sent and got, and what arrived at the upstreams.
///
/// Each is a small HTTP/1.1 server, a thread per connection, keep-alive. Every answer says who made it
/// (`X-Upstream: a`), and every request that arrives is recorded in one log shared by the two. They
/// answer the router's paths that the first proxy checks use (`/users/1`, `/echo/TEXT`, `/chunked/N`,
/// `POST /api/echo`, exactly as `httpkit router` does, so those checks also pass in front of it), and:
///
///     GET /headers          200, the request head as it arrived as the body; the answer itself carries
///                           hop-by-hop fields (Connection: X-Backend-Hop, X-Backend-Hop, Keep-Alive)
///     GET /who              200 after 0.1 s, the upstream's name as the body
///     GET /cache/max-age    200 with Cache-Control: max-age=60 (also /cache/authorized)
///     GET /cache/no-store   200 with Cache-Control: no-store
///
/// A check can stop one (its port then refuses connections, and its open connections close) and start
/// it again on the same port.
final class CheckUpstreams: @unchecked Sendable {
    /// One request as an upstream received it.
    struct Arrival: Sendable {
        let upstream: String
        let request: HTTPRequest
        /// Why the upstream's parser refused what arrived (then `request` is only a placeholder).
        var unparseable: String? = nil

        /// `GET /headers`, or what the parser said of bytes it refused.
        var summary: String {
            unparseable.map { "bytes it could not parse (\($0))" } ?? "\(request.method.rawValue) \(request.target)"
        }
    }

    let servers: [CheckUpstream]
    private let lock = NSLock()
    private var log: [Arrival] = []
    /// Told of each arrival (`httpkit check-upstreams` prints them).
    private let onArrival: (@Sendable (Arrival) -> Void)?

    /// `a` and `b`, listening on `ports` (0: a free port each).
    init(ports: [UInt16] = [0, 0], onArrival: (@Sendable (Arrival) -> Void)? = nil) throws {
        self.onArrival = onArrival
        servers = [CheckUpstream(name: "a", port: ports[0]), CheckUpstream(name: "b", port: ports[1])]
        for server in servers { server.upstreams = self }
        do {
            for server in servers { try server.start() }
        } catch {
            stop()
            throw CLIError(message: "check: cannot start the check's upstream servers: \(error)")
        }
    }

    /// `127.0.0.1:PORT_A,127.0.0.1:PORT_B`: what `{upstreams}` becomes.
    var list: String { servers.map(\.address).joined(separator: ",") }
    /// `a 127.0.0.1:PORT_A, b 127.0.0.1:PORT_B`, for the report.
    var named: String { servers.map { "\($0.name) \($0.address)" }.joined(separator: ", ") }

    func record(_ request: HTTPRequest, at upstream: String, unparseable: String? = nil) {
        let arrival = Arrival(upstream: upstream, request: request, unparseable: unparseable)
        lock.lock()
        log.append(arrival)
        lock.unlock()
        onArrival?(arrival)
    }

    /// A place in the log: `arrivals(since:)` gives what arrived after it.
    func mark() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return log.count
    }

    /// The requests that arrived since `mark`, in order; only those for `path` when given.
    func arrivals(since mark: Int, path: String? = nil) -> [Arrival] {
        lock.lock()
        defer { lock.unlock() }
        return log[min(mark, log.count)...].filter { path == nil || $0.request.path == path }
    }

    func stop() {
        for server in servers { server.stop() }
    }

    /// Both running again (on their ports), after a check stopped them.
    func restart() {
        for server in servers where !server.isRunning { try? server.start() }
    }
}

/// One of the check's upstream servers (see `CheckUpstreams`).
final class CheckUpstream: @unchecked Sendable {
    let name: String
    /// 0 until it first listens; then kept, so that a restart listens where the proxy expects it.
    private(set) var port: UInt16
    weak var upstreams: CheckUpstreams?
    private let lock = NSLock()
    private var listener: Socket?
    /// The open connections, shut down by `stop`; each is closed by its own thread.
    private var connections: Set<Int32> = []
    private var acceptEnded: DispatchSemaphore?

    init(name: String, port: UInt16 = 0) {
        self.name = name
        self.port = port
    }

    var address: String { "127.0.0.1:\(port)" }
    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return listener != nil
    }

    func start() throws {
        let socket = try Socket.listen(host: "127.0.0.1", port: port, backlog: 128)
        port = try socket.localAddress().port
        let ended = DispatchSemaphore(value: 0)
        lock.lock()
        listener = socket
        acceptEnded = ended
        lock.unlock()
        try Threads.spawnDetached { [self] in
            while true {
                let client: Socket?
                do {
                    client = try socket.accept()
                } catch {
                    break // shut down by stop()
                }
                guard let client else { continue }
                lock.lock()
                let stopped = listener?.fd != socket.fd
                if !stopped { connections.insert(client.fd) }
                lock.unlock()
                if stopped {
                    client.close()
                    break
                }
                do {
                    try Threads.spawnDetached { [self] in
                        serve(client)
                        lock.lock()
                        connections.remove(client.fd)
                        lock.unlock()
                        client.close()
                    }
                } catch {
                    lock.lock()
                    connections.remove(client.fd)
                    lock.unlock()
                    client.close()
                }
            }
            socket.close()
            ended.signal()
        }
    }

    /// Stops listening and shuts every open connection: the port refuses, a pooled connection reads EOF.
    func stop() {
        lock.lock()
        guard let socket = listener else {
            lock.unlock()
            return
        }
        listener = nil
        _ = Glibc.shutdown(socket.fd, Int32(SHUT_RDWR)) // wakes the thread blocked in accept()
        for fd in connections { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        let ended = acceptEnded
        lock.unlock()
        _ = ended?.wait(timeout: .now() + 2)
    }

    // MARK: - One connection

    private func serve(_ client: Socket) {
        try? client.setReceiveTimeout(seconds: 30)
        try? client.setSendTimeout(seconds: 10)
        try? client.setNoDelay()
        var parser = RequestParser()
        while true {
            do {
                while let request = try parser.next() {
                    upstreams?.record(request, at: name)
                    let (bytes, keepOpen) = answer(request)
                    try client.writeAll(bytes)
                    if !keepOpen { return }
                }
            } catch let error as RequestError {
                upstreams?.record(HTTPRequest(method: .get, target: "*"), at: name, unparseable: "\(error)")
                let body = Array("400 Bad Request: the check's upstream \(name) could not parse what arrived: \(error)\n".utf8)
                try? client.writeAll(Self.head(status: "400 Bad Request", fields: [("X-Upstream", name), ("Content-Type", "text/plain"),
                                                                                    ("Content-Length", String(body.count)), ("Connection", "close")]) + body)
                return
            } catch {
                return
            }
            guard let bytes = try? client.read(), !bytes.isEmpty else { return }
            parser.append(bytes)
        }
    }

    /// The answer's bytes, and whether the connection stays open after it.
    private func answer(_ request: HTTPRequest) -> ([UInt8], Bool) {
        let keepOpen = request.wantsKeepAlive
        var fields: [(String, String)] = [("X-Upstream", name), ("Date", HTTPDate.now())]
        var status = "200 OK"
        var body: [UInt8] = []
        let path = request.path
        let segments = path.split(separator: "/").map(String.init)
        switch (request.method.rawValue, segments.first ?? "", segments.count) {
        case ("GET", "users", 2):
            let id = segments[1]
            let json = "{\"id\": \(JSONValidator.quote(id)), \"name\": \(JSONValidator.quote(id == "1" ? "Ada Lovelace" : "User \(id)"))}\n"
            fields.append(("Content-Type", "application/json"))
            body = Array(json.utf8)
        case ("GET", "echo", 2):
            fields.append(("Content-Type", "text/plain"))
            body = Array((segments[1].removingPercentEncoding ?? segments[1]).utf8)
        case ("GET", "chunked", 2):
            let count = min(Int(segments[1]) ?? 0, 10_000)
            fields.append(("Content-Type", "text/plain; charset=utf-8"))
            fields.append(("Transfer-Encoding", "chunked"))
            if !keepOpen { fields.append(("Connection", "close")) }
            var out = Self.head(status: status, fields: fields)
            for line in 0..<count { out += ChunkedEncoder.chunk(Array("line \(line + 1) of \(count)\n".utf8)) }
            out += ChunkedEncoder.lastChunk
            return (out, keepOpen)
        case ("POST", "api", 2) where segments[1] == "echo":
            do {
                try JSONValidator.validate(request.body)
                fields.append(("Content-Type", "application/json"))
                body = request.body
            } catch {
                status = "400 Bad Request"
                fields.append(("Content-Type", "text/plain; charset=utf-8"))
                body = Array("400 Bad Request: \(error)\n".utf8)
            }
        case ("GET", "headers", 1):
            // The head as it arrived, and hop-by-hop fields of this upstream's own that must stop at the proxy.
            fields.append(("Content-Type", "text/plain"))
            fields.append(("Connection", keepOpen ? "X-Backend-Hop" : "close, X-Backend-Hop"))
            fields.append(("X-Backend-Hop", "1"))
            fields.append(("Keep-Alive", CheckUpstream.keepAliveValue))
            body = Array(Self.headText(request).utf8)
            fields.append(("Content-Length", String(body.count)))
            return (Self.head(status: status, fields: fields) + body, keepOpen)
        case ("GET", "who", 1):
            usleep(100_000) // long enough for the next requests to find this upstream busy
            fields.append(("Content-Type", "text/plain"))
            body = Array("\(name)\n".utf8)
        case ("GET", "cache", 2) where ["max-age", "no-store", "authorized"].contains(segments[1]):
            let count = upstreams?.arrivals(since: 0, path: path).count ?? 0
            fields.append(("Content-Type", "text/plain"))
            fields.append(("Cache-Control", segments[1] == "no-store" ? "no-store" : "max-age=60"))
            body = Array("answer \(count) from upstream \(name)\n".utf8)
        default:
            status = "404 Not Found"
            fields.append(("Content-Type", "text/plain"))
            body = Array("404 Not Found: the check's upstream \(name) has no \(request.method.rawValue) \(path)\n".utf8)
        }
        fields.append(("Content-Length", String(body.count)))
        if !keepOpen { fields.append(("Connection", "close")) }
        return (Self.head(status: status, fields: fields) + body, keepOpen)
    }

    static let keepAliveValue = "timeout=17, max=99"

    static func head(status: String, fields: [(String, String)]) -> [UInt8] {
        var text = "HTTP/1.1 \(status)\r\n"
        for (name, value) in fields { text += "\(name): \(value)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    /// The request's head as it arrived (the parser keeps each field's name and value, in order).
    static func headText(_ request: HTTPRequest) -> String {
        var text = "\(request.method.rawValue) \(request.target) HTTP/\(request.version.major).\(request.version.minor)\r\n"
        for field in request.headers { text += "\(field.name): \(field.value)\r\n" }
        return text + "\r\n"
    }
}

/// `httpkit check-upstreams [PORT_A PORT_B]`: the proxy checks' two upstream servers on fixed ports, printing
/// each request as it arrives, so a failed proxy check can be reproduced by hand (the report's "start it"
/// line starts them beside the learner's proxy). Not in the usage list: the checks start their own.
struct CheckUpstreamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-upstreams",
        abstract: "The proxy checks' two upstream servers, a and b, printing what arrives at them.",
        discussion: """
        Example:
          httpkit check-upstreams & python3 proxy.py 9000 127.0.0.1:8081,127.0.0.1:8082
          curl -v -H 'Connection: X-Hop, close' -H 'X-Hop: 1' http://127.0.0.1:9000/headers
        """,
        shouldDisplay: false
    )

    @Argument(help: ArgumentHelp("The ports of a and b.", valueName: "port"))
    var ports: [UInt16] = [8081, 8082]

    func validate() throws {
        guard ports.count == 2 else { throw ValidationError("give two ports, a's and b's (default: 8081 8082)") }
    }

    func run() throws {
        StopSignal.install()
        let upstreams = try CheckUpstreams(ports: ports) { arrival in
            if arrival.unparseable != nil {
                print("upstream \(arrival.upstream) received \(arrival.summary), and answered 400")
                fflush(nil)
                return
            }
            let head = CheckUpstream.headText(arrival.request).split(separator: "\r\n").map { "  " + $0 }.joined(separator: "\n")
            print("upstream \(arrival.upstream) received:\n\(head)")
            fflush(nil)
        }
        defer { upstreams.stop() }
        print("the check's upstreams: \(upstreams.named) (Ctrl-C stops them)")
        fflush(nil)
        while !StopSignal.isRequested { usleep(100_000) }
    }
}
