import HTTPCore
import Sockets
import Glibc

/// What to send and how hard.
struct LoadSettings: Sendable {
    var host: String
    var port: UInt16
    var path: String
    /// Stop after this many requests (when `duration` is nil).
    var requests: Int = 1000
    /// Or run for this many seconds.
    var duration: Double?
    var concurrency: Int = 10
    var keepAlive = true
    /// A request that takes longer than this counts as an error.
    var timeout: Double = 10
    /// Extra connections that send a request head one byte every 100 ms and never finish it.
    var slowClients = 0

    var requestBytes: [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: httpkit-bench\r\n"
        if !keepAlive { text += "Connection: close\r\n" }
        return Array((text + "\r\n").utf8)
    }
}

/// What a run measured.
struct LoadResult: Sendable {
    var completed = 0
    var non2xx = 0
    var errors: [String: Int] = [:]
    var latenciesMs: [Double] = []
    var elapsed = 0.0
    var connectionsOpened = 0

    var errorCount: Int { errors.values.reduce(0, +) }
    var requestsPerSecond: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }

    /// The latency below which `fraction` of the requests completed, in ms.
    func percentile(_ fraction: Double) -> Double {
        guard !latenciesMs.isEmpty else { return 0 }
        let sorted = latenciesMs.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction + 0.5))]
    }

    var maxLatency: Double { latenciesMs.max() ?? 0 }
}

/// A load generator on the same machinery as the event-loop server, seen from the other side: one
/// thread, nonblocking sockets, a poller, and a small state machine per connection.
final class LoadGenerator {
    private final class Slot {
        enum State { case idle, connecting, sending(Int), receiving }
        var socket: Socket?
        var state = State.idle
        var parser = ResponseParser()
        var startedAt = 0.0
    }

    private let settings: LoadSettings
    private let request: [UInt8]
    private let poller: any Poller
    private var slots: [Slot] = []
    private var slotByFD: [Int32: Slot] = [:]
    private var slowSockets: [Socket] = []
    private var slowProgress: [Int32: Int] = [:]
    private var result = LoadResult()
    private var issued = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var issuingEnds = Double.infinity
    private var began = 0.0

    init(_ settings: LoadSettings) throws(SystemError) {
        self.settings = settings
        self.request = settings.requestBytes
        self.poller = try EpollPoller()
    }

    /// Runs the load. `tick` is called about every 100 ms with the result so far (for progress lines and
    /// for sampling the server's memory).
    func run(tick: (LoadResult, Double) -> Void = { _, _ in }) -> LoadResult {
        Processes.raiseOpenFileLimit()
        began = Processes.monotonicSeconds()
        if let duration = settings.duration { issuingEnds = began + duration }
        for _ in 0..<settings.slowClients { openSlowClient() }
        slots = (0..<settings.concurrency).map { _ in Slot() }
        for slot in slots { startRequest(on: slot, now: began) }

        var events: [ReadinessEvent] = []
        var lastTick = began, lastSlowByte = began
        while !StopSignal.isRequested {
            let now = Processes.monotonicSeconds()
            if isFinished(now: now) { break }
            try? poller.wait(timeoutMilliseconds: 20, into: &events)
            let after = Processes.monotonicSeconds()
            for event in events {
                guard let slot = slotByFD[event.fd] else { continue }
                handle(event, on: slot, now: after)
            }
            if after - lastSlowByte >= 0.1 {
                trickleSlowClients()
                expireSlowRequests(now: after)
                lastSlowByte = after
            }
            if after - lastTick >= 0.1 {
                result.elapsed = after - began
                tick(result, after - began)
                lastTick = after
            }
        }
        let end = Processes.monotonicSeconds()
        result.elapsed = (settings.duration.map { min($0, end - began) } ?? (end - began))
        for slot in slots { close(slot) }
        for socket in slowSockets { socket.close() }
        return result
    }

    private func isFinished(now: Double) -> Bool {
        if settings.duration != nil { return now >= issuingEnds }
        return result.completed + result.errorCount >= settings.requests
    }

    private var mayIssue: Bool {
        settings.duration != nil ? Processes.monotonicSeconds() < issuingEnds : issued < settings.requests
    }

    // MARK: - One request on one slot

    private func startRequest(on slot: Slot, now: Double) {
        guard mayIssue else {
            close(slot)
            return
        }
        issued += 1
        slot.startedAt = now
        slot.parser = ResponseParser()
        if let socket = slot.socket {
            slot.state = .sending(0)
            send(slot, socket: socket, now: now)
            return
        }
        do {
            let socket = try Socket.connectNonBlocking(host: settings.host, port: settings.port)
            result.connectionsOpened += 1
            slot.socket = socket
            slot.state = .connecting
            slotByFD[socket.fd] = slot
            try poller.add(socket.fd, .write)
        } catch {
            fail(slot, "\(error.call): \(error.errnoName)", now: now)
        }
    }

    private func handle(_ event: ReadinessEvent, on slot: Slot, now: Double) {
        guard let socket = slot.socket else { return }
        switch slot.state {
        case .connecting:
            let code = socket.pendingError
            guard code == 0 else {
                fail(slot, "connect: \(SystemError("connect", errno: code).errnoName)", now: now)
                return
            }
            slot.state = .sending(0)
            send(slot, socket: socket, now: now)
        case .sending:
            send(slot, socket: socket, now: now)
        case .receiving:
            receive(slot, socket: socket, now: now)
        case .idle:
            break
        }
    }

    private func send(_ slot: Slot, socket: Socket, now: Double) {
        guard case .sending(var offset) = slot.state else { return }
        do {
            while offset < request.count {
                let written = try request.withUnsafeBytes { all in
                    Result { () throws(SystemError) in try socket.write(UnsafeRawBufferPointer(rebasing: all[offset...])) }
                }.get()
                guard case .done(let count) = written else {
                    slot.state = .sending(offset)
                    try poller.modify(socket.fd, .write)
                    return
                }
                offset += count
            }
            slot.state = .receiving
            try poller.modify(socket.fd, .read)
        } catch {
            fail(slot, "write: \(error.errnoName)", now: now)
        }
    }

    private func receive(_ slot: Slot, socket: Socket, now: Double) {
        let outcome: IOResult<Int>
        do {
            outcome = try readBuffer.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in try socket.read(into: buffer) }
            }.get()
        } catch {
            fail(slot, "read: \(error.errnoName)", now: now)
            return
        }
        do {
            switch outcome {
            case .wouldBlock:
                return
            case .done(0):
                if let response = try slot.parser.finish() {
                    complete(slot, response, closed: true, now: now)
                } else {
                    fail(slot, "closed before the response", now: now)
                }
            case .done(let count):
                slot.parser.append(readBuffer[0..<count])
                while let response = try slot.parser.next() {
                    if (100...199).contains(response.status) { continue }
                    complete(slot, response, closed: false, now: now)
                    return
                }
            }
        } catch {
            fail(slot, "malformed response", now: now)
        }
    }

    private func complete(_ slot: Slot, _ response: ParsedResponse, closed: Bool, now: Double) {
        result.completed += 1
        result.latenciesMs.append((now - slot.startedAt) * 1000)
        if !(200...399).contains(response.status) { result.non2xx += 1 }
        if closed || !settings.keepAlive || !response.keepsConnection {
            close(slot)
        }
        startRequest(on: slot, now: now)
    }

    private func fail(_ slot: Slot, _ reason: String, now: Double) {
        result.errors[reason, default: 0] += 1
        close(slot)
        startRequest(on: slot, now: now)
    }

    private func close(_ slot: Slot) {
        guard let socket = slot.socket else { return }
        poller.remove(socket.fd)
        slotByFD[socket.fd] = nil
        socket.close()
        slot.socket = nil
        slot.state = .idle
    }

    private func expireSlowRequests(now: Double) {
        for slot in slots where slot.socket != nil && now - slot.startedAt > settings.timeout {
            fail(slot, "timeout (\(Int(settings.timeout)) s)", now: now)
        }
    }

    // MARK: - Slow clients

    private static let slowHead = Array("GET / HTTP/1.1\r\nHost: slow\r\nX-Slow: ".utf8)

    private func openSlowClient() {
        guard let socket = try? Socket.connect(host: settings.host, port: settings.port) else { return }
        try? socket.setNonBlocking()
        slowSockets.append(socket)
        slowProgress[socket.fd] = 0
    }

    /// Each slow client sends one more byte of a head it never finishes; one the server closed is replaced.
    private func trickleSlowClients() {
        for (index, socket) in slowSockets.enumerated() {
            let position = slowProgress[socket.fd] ?? 0
            let byte = position < Self.slowHead.count ? Self.slowHead[position] : UInt8(ascii: "z")
            let alive: Bool = [byte].withUnsafeBytes { bytes in
                (try? socket.write(bytes)) != nil
            }
            var probe: UInt8 = 0
            let peeked = recv(socket.fd, &probe, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if !alive || peeked >= 0 {
                // Closed (or answered with 408): reconnect, as a real slowloris attack would.
                socket.close()
                slowProgress[socket.fd] = nil
                if let replacement = try? Socket.connect(host: settings.host, port: settings.port) {
                    try? replacement.setNonBlocking()
                    slowSockets[index] = replacement
                    slowProgress[replacement.fd] = 0
                }
            } else {
                slowProgress[socket.fd] = position + 1
            }
        }
    }
}
