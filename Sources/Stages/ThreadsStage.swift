// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 5 · threads — one thread per connection, with a bound                                  │
// │                                                                                            │
// │ Changed since fork: a thread instead of a process. Threads share the descriptor table and  │
// │ memory, so there is nothing to close twice and no zombie to reap, and one costs a stack    │
// │ (512 KB here) instead of a process. But an unbounded number of threads is an unbounded     │
// │ amount of memory and scheduling: --max-threads N is a semaphore that makes the accept loop │
// │ wait while N connections are being served (0 removes the bound, to see what it costs).     │
// │ The request handling is exactly static's: StaticFileHandler through BlockingExchange.       │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// Serves the document root with a thread per connection, at most `maxThreads` at once.
public struct ThreadsStage: Sendable {
    public let configuration: ServerConfiguration
    let files: StaticFileHandler

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        var configuration = configuration
        configuration.root = root
        self.configuration = configuration
        self.files = StaticFileHandler(root: root, maxAge: configuration.cacheMaxAge)
    }

    public func run() throws(SystemError) {
        Processes.raiseOpenFileLimit()
        let listener = try Listener.open("threads", configuration)
        let bounded = configuration.maxThreads > 0
        let permits = CountingSemaphore(permits: bounded ? configuration.maxThreads : 0)
        let active = AtomicCounter()
        let configuration = self.configuration, files = self.files

        while !StopSignal.isRequested {
            // With N threads busy, wait here: new connections queue in the kernel's listen backlog
            // instead of each costing a thread.
            if bounded && !permits.wait() { break }
            guard let client = Listener.acceptNext(listener) else {
                if bounded { permits.signal() }
                continue
            }
            active.add(1)
            do {
                try Threads.spawnDetached {
                    try? BlockingExchange.serveOne(client, configuration: configuration, respond: files.respond)
                    client.close()
                    active.add(-1)
                    if bounded { permits.signal() }
                }
            } catch {
                Console.error("\(error); answering 503")
                try? BlockingExchange.send(.text(.serviceUnavailable, "503 Service Unavailable: no thread available\n"),
                                           to: client)
                client.close()
                active.add(-1)
                if bounded { permits.signal() }
            }
        }
        listener.close()
        // Give connections in flight a moment to finish before the process (and its threads) ends.
        let deadline = Processes.monotonicSeconds() + 2
        while active.current > 0 && Processes.monotonicSeconds() < deadline { Processes.sleep(milliseconds: 10) }
    }
}
