// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 4 · fork — one process per connection                                                  │
// │                                                                                            │
// │ Changed since static: the accept loop no longer serves the connection itself. It forks,    │
// │ and the child serves it while the parent goes straight back to accept(). Four pitfalls,    │
// │ each handled below and explained in lessons/04-fork.md:                                    │
// │   1. duplicate descriptors — after fork both processes hold the connection and the         │
// │      listener: the parent closes the connection, the child closes the listener;            │
// │   2. zombies — an exited child stays in the process table until waited for: a SIGCHLD      │
// │      handler reaps them with waitpid(-1, WNOHANG) in a loop;                               │
// │   3. EINTR — that SIGCHLD interrupts accept(), which must be retried, not treated as fatal; │
// │   4. buffered output — stdio buffers are flushed before fork, or the child prints them too. │
// │ The request handling is exactly static's: StaticFileHandler through BlockingExchange.       │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// Serves the document root with a forked child process per connection.
public struct ForkStage: Sendable {
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
        let listener = try Listener.open("fork", configuration)
        Processes.installChildReaper()                   // pitfall 2: no zombies
        let serverPID = Processes.currentPID
        while !StopSignal.isRequested {
            // pitfall 3: a child's exit interrupts accept() with EINTR; syscall() retries it (unless we
            // are stopping, when acceptNext returns nil and the loop condition ends the loop).
            guard let client = Listener.acceptNext(listener) else { continue }
            let pid: Int32
            do {
                pid = try Processes.fork()               // pitfall 4: fork() flushes stdio first
            } catch {
                // Out of processes (EAGAIN): say so to this client instead of leaving it hanging.
                Console.error("\(error); answering 503")
                try? BlockingExchange.send(.text(.serviceUnavailable, "503 Service Unavailable: the server cannot fork right now\n"),
                                           to: client)
                client.close()
                continue
            }
            if pid == 0 {
                // The child: it only serves this one connection.
                listener.close()                         // pitfall 1: the child does not accept
                Processes.exitWithParent()               // if the server dies, so does its child
                if Processes.parentPID != serverPID { Processes.exitChild(0) } // it died before we asked
                try? BlockingExchange.serveOne(client, configuration: configuration, respond: files.respond)
                client.close()
                Processes.exitChild(0)
            }
            client.close()                               // pitfall 1: the parent does not serve
        }
        // Returning ends the parent; every child gets SIGTERM from exitWithParent and ends too.
        listener.close()
    }
}
