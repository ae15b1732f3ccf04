import HTTPCore
import Sockets

/// Runs `workers` event loops, each on its own thread with its own listening socket bound to the same
/// port with SO_REUSEPORT: the kernel spreads new connections across them, so the server uses every
/// core without the loops sharing anything but the handler.
enum Workers {
    static func run(_ stage: String, _ configuration: ServerConfiguration,
                    makeLoop: @escaping @Sendable (_ listener: Socket, _ wake: FileDescriptor) throws(SystemError) -> any ServingLoop) throws(SystemError) {
        Processes.raiseOpenFileLimit()
        Processes.keepFreedMemory() // no page faults for the same buffers request after request
        let count = max(1, configuration.workers)
        let first = try Listener.open(stage, configuration, reusePort: count > 1, announce: false)
        var shared = configuration
        shared.port = try first.localAddress().port
        var listeners = [first]
        for _ in 1..<count {
            listeners.append(try Listener.open(stage, shared, reusePort: true, announce: false))
        }
        // TCP_DEFER_ACCEPT (lesson 07): a loop is woken for a new connection once its request is there.
        if configuration.deferAcceptSeconds > 0 {
            for listener in listeners { try listener.setDeferAccept(seconds: Int32(configuration.deferAcceptSeconds)) }
        }
        let wake = try makeStopWakePipe()
        var line = Listener.startupLine(stage, host: configuration.host, port: shared.port, root: configuration.root,
                                        tls: configuration.tls != nil)
        if count > 1 { line += " with \(count) workers" }
        Console.out(line)
        let finished = AtomicCounter()
        for listener in listeners.dropFirst() {
            try Threads.spawnDetached(stackSize: 1 << 20) {
                do {
                    try makeLoop(listener, wake).run()
                } catch {
                    Console.error("worker: \(error)")
                }
                finished.add(1)
            }
        }
        try makeLoop(first, wake).run()
        // Let the other loops finish their requests in flight (each drains for up to 5 s).
        let deadline = Processes.monotonicSeconds() + 6
        while finished.current < count - 1 && Processes.monotonicSeconds() < deadline { Processes.sleep(milliseconds: 5) }
    }
}
