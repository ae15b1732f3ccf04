import Foundation
import HTTPCore
import Stages

/// The checks of the concurrency stages (fork, threads, eventloop). Each model must keep serving while
/// other clients are slow, and each must be the model it claims: an iterative server with a socket timeout
/// survives a silent client, but not one that trickles a byte every 100 ms (each byte restarts the
/// timeout); a thread per connection answers everything, but is not an event loop. What the server runs as
/// is read from /proc while connections are open, when it runs here.
extension CheckCatalog {
    /// The one-line way to serve side by side that the stage teaches.
    static func stageHint(_ stage: StageName) -> String {
        switch stage {
        case .fork: return "fork() a child per accepted connection"
        case .threads: return "start a thread per accepted connection"
        default: return "wait on every socket at once with poll or epoll, and read from whichever is ready"
        }
    }

    static func concurrency(_ stage: StageName) -> [Check] {
        var checks = [silentClient(stage), tricklingClient(stage), simultaneous(stage), unreadResponse(stage)]
        switch stage {
        case .fork: checks.append(processPerConnection())
        case .threads: checks.append(threadPerConnection())
        case .eventloop: checks += [moreThanSelectHolds(), fewThreads()]
        default: break
        }
        return checks
    }

    static func silentClient(_ stage: StageName) -> Check {
        Check(stage: stage, name: "a client that sends nothing does not block the others", step: "Serve clients side by side",
              sends: ["GET /hello.txt HT", get("/hello.txt")], how: "the first on a connection that then stays silent; the second on another, 100 ms later",
              expects: "200 to the second within 1 s, or later if the first is still waiting untouched",
              hint: stageHint(stage)) { target, _ in
            let reproduce = "nc \(target.ncAddress) &   # then, in another terminal: curl -v \(target.base)/hello.txt"
            do {
                let idle = try CheckClient.connect(target)
                defer { idle.close() }
                idle.send("GET /hello.txt HT") // and nothing more
                usleep(100_000)
                let started = Date()
                let (response, raw) = exchange(target, get("/hello.txt"))
                let elapsed = Date().timeIntervalSince(started)
                // A server that serves one connection at a time answers the second only after it gave up on
                // the first (its socket timeout: a 408 or a close the first can read now). A slow answer while
                // the first is still untouched is a busy machine (a full test suite on two cores), not a block.
                let firstWasGivenUp = idle.hasArrived()
                guard response?.status == 200, elapsed < 1 || !firstWasGivenUp else {
                    return .fail(expected: "200 within 1 s while another client is mid-request", got: raw,
                                 note: "blocked behind a client that sent half a request and went quiet"
                                    + (response == nil ? "" : " (the answer took \(Int(elapsed * 1000)) ms: its socket timeout?)")
                                    + ": one connection at a time", reproduce: reproduce)
                }
                return .pass
            } catch {
                return .fail(expected: "two connections at once", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
        }
    }

    /// A client that sends its request a byte every 100 ms: a read timeout never fires, so only a server that
    /// serves connections side by side answers someone else meanwhile.
    static func tricklingClient(_ stage: StageName) -> Check {
        Check(stage: stage, name: "a client that trickles a byte every 100 ms does not block the others", step: "Serve clients side by side",
              sends: [get("/hello.txt"), get("/hello.txt")], how: "the first a byte every 100 ms; the second whole, on another connection, after 3 of those bytes",
              expects: "200 to the second within 1.5 s",
              hint: "a socket timeout does not save a server that reads one client at a time: each byte restarts it. " + stageHint(stage)) { target, _ in
            let reproduce = "httpkit bench \(target.base)/hello.txt -c 1 --slow 1 --duration 2   # one slow client beside the requests"
            let slowRequest = Array(get("/hello.txt").utf8)
            do {
                let slow = try CheckClient.connect(target)
                defer { slow.close() }
                var sent = 0
                func trickle() {
                    if sent < slowRequest.count, slow.send([slowRequest[sent]]) { sent += 1 }
                }
                for _ in 0..<3 {
                    trickle()
                    usleep(100_000)
                }
                let other = try CheckClient.connect(target)
                defer { other.close() }
                other.send(get("/hello.txt"))
                // Wait up to 1.5 s for the other client's answer, trickling all the while.
                var waited = 0
                while waited < 15 && !other.hasArrived() {
                    trickle()
                    usleep(100_000)
                    waited += 1
                }
                let response = other.hasArrived() ? other.responses(1).first : nil
                if waited == 15 && response == nil { other.gaveUp(after: 1.5) }
                guard response?.status == 200 else {
                    return .fail(expected: "200 within 1.5 s while another client sends its request a byte every 100 ms", got: other.reception,
                                 note: response == nil
                                    ? "nothing while the slow client had sent \(sent) bytes: the server was reading from it. A socket timeout "
                                        + "does not help (each byte restarts it); serve connections side by side"
                                    : nil,
                                 reproduce: reproduce)
                }
                return .pass
            } catch {
                return .fail(expected: "two connections at once", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
        }
    }

    /// A client that asks for a large file and never reads: the server's writes to it stop (the socket
    /// buffers fill), and only a server that does not wait on that write answers anyone else.
    static func unreadResponse(_ stage: StageName) -> Check {
        Check(stage: stage, name: "a client that never reads a large response does not block the others", step: "Serve clients side by side",
              sends: [get(CheckSite.largePath), get("/hello.txt")],
              how: "the first on a connection that never reads the 32 MiB answer; the second on another, 300 ms later",
              expects: "200 to the second within 2 s",
              hint: "a write to a client that does not read blocks once the socket buffers are full: "
                + (stage == .eventloop ? "make sockets nonblocking, keep what is left to send, and wait for writability (POLLOUT) with the others"
                    : stageHint(stage) + ", so that only that client's process or thread waits")) { target, sends in
            guard target.largeFile != nil else {
                return .skipped("needs the check's own site with a large file: put {root} where your server takes its folder in --exec")
            }
            let reproduce = "curl -s --limit-rate 1 -o /dev/null \(target.base)\(CheckSite.largePath) &   # then: curl -v \(target.base)/hello.txt"
            do {
                let stuck = try CheckClient.connect(target)
                defer { stuck.close() }
                stuck.send(sends[0])
                usleep(300_000)
                let other = try CheckClient.connect(target, timeout: 2)
                defer { other.close() }
                other.send(sends[1])
                let response = other.responses(1).first
                guard response?.status == 200 else {
                    return .fail(expected: "200 within 2 s while another client leaves a large response unread", got: other.reception,
                                 note: response == nil ? "blocked writing to a client that does not read: the server waits in write() (send) until that "
                                    + "client reads, and serves no one meanwhile" : nil, reproduce: reproduce)
                }
                return .pass
            } catch {
                return .fail(expected: "two connections at once", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
        }
    }

    static func simultaneous(_ stage: StageName) -> Check {
        Check(stage: stage, name: "answers 100 simultaneous connections", step: "Serve clients side by side",
              sends: [get("/hello.txt")], how: "on 100 connections opened first, then sent on each",
              expects: "100 responses of 200",
              hint: "use a listen() backlog of 128 or more, and do not cap the connections below 100") { target, _ in
            let reproduce = "httpkit bench \(target.base)/hello.txt -n 100 -c 100"
            do {
                var clients: [CheckClient] = []
                defer { clients.forEach { $0.close() } }
                for _ in 0..<100 { clients.append(try CheckClient.connect(target)) }
                for client in clients { client.send(get("/hello.txt")) }
                var answered = 0
                var unanswered: Reception?
                for client in clients {
                    if let response = client.responses(1).first, response.status == 200 { answered += 1 } else { unanswered = client.reception }
                }
                if answered == 100 { return .pass }
                return .fail(expected: "100 responses of 200", got: unanswered ?? Reception(), note: "\(answered) of 100 answered", reproduce: reproduce)
            } catch {
                return .fail(expected: "100 connections", got: Reception(failure: error), note: nil, reproduce: reproduce)
            }
        }
    }

    /// A shell command that prints the pid listening on the target's (shown) port: the checked one is gone.
    static func pidCommand(_ target: CheckTarget) -> String {
        "ss -ltnpH 'sport = :\(target.shownPort ?? target.port)' | grep -o 'pid=[0-9]*' | cut -d= -f2"
    }

    /// Opens `count` connections that each send half a request, runs `inspect` on the server while they
    /// wait, then closes them.
    static func whileHolding(_ count: Int, _ target: CheckTarget, _ inspect: (Int32) -> CheckOutcome) -> CheckOutcome {
        guard let pid = target.pid else {
            return .skipped("the server's process is not on this machine (use --exec, or a server listening here)")
        }
        var clients: [CheckClient] = []
        defer { clients.forEach { $0.close() } }
        do {
            for _ in 0..<count {
                let client = try CheckClient.connect(target)
                client.send("GET /hello.txt HT")
                clients.append(client)
            }
        } catch {
            return .fail(expected: "\(count) connections at once", got: Reception(failure: error), note: nil, reproduce: "ls /proc/$(\(pidCommand(target)))/task")
        }
        usleep(300_000) // time for the server to accept them and start a process or thread each
        return inspect(pid)
    }

    static func processPerConnection() -> Check {
        Check(stage: .fork, name: "serves each connection in a process of its own (read from /proc)", step: "A process per connection",
              sends: ["GET /hello.txt HT"], how: "on 5 connections that then stay silent, while /proc/PID is read",
              expects: "at least 5 child processes of the server",
              hint: "fork() after accept(): the child serves the connection and exits; the parent closes its copy of the socket and reaps children on SIGCHLD",
              isModelCheck: true) { target in
            whileHolding(5, target) { pid in
                let children = ProcessTree.descendants(of: pid).count
                if children >= 5 { return .pass }
                let threads = ProcessTree.threads(of: pid)
                return .fail(expected: "at least 5 child processes of pid \(pid) while 5 clients are connected", got: Reception(),
                             note: "\(children) child process\(children == 1 ? "" : "es") and \(threads) thread\(threads == 1 ? "" : "s"): "
                                + (threads > 5 ? "threads, not processes — fork() after accept() and let the child serve" : "no fork() per connection"),
                             reproduce: "ps --ppid $(\(pidCommand(target))) -o pid,args   # while a few 'nc \(target.ncAddress)' are connected")
            }
        }
    }

    static func threadPerConnection() -> Check {
        Check(stage: .threads, name: "serves each connection on a thread of its own (read from /proc)", step: "A thread per connection",
              sends: ["GET /hello.txt HT"], how: "on 5 connections that then stay silent, while /proc/PID/task is read",
              expects: "at least 6 threads in the server: one accepting, one per client",
              hint: "start a thread per accepted connection (Python: threading.Thread; C: pthread_create), bounded by a semaphore",
              isModelCheck: true) { target in
            whileHolding(5, target) { pid in
                let threads = ProcessTree.threads(of: pid)
                if threads >= 6 { return .pass }
                let children = ProcessTree.descendants(of: pid).count
                return .fail(expected: "at least 6 threads in pid \(pid) (one accepting, one per client) while 5 clients are connected", got: Reception(),
                             note: "\(threads) thread\(threads == 1 ? "" : "s") and \(children) child process\(children == 1 ? "" : "es"): "
                                + (children >= 5 ? "processes, not threads — start a thread per accepted connection" : "no thread per connection"),
                             reproduce: "ls /proc/$(\(pidCommand(target)))/task   # while a few 'nc \(target.ncAddress)' are connected")
            }
        }
    }

    static func fewThreads() -> Check {
        Check(stage: .eventloop, name: "serves 20 waiting connections from one thread, without a process or thread each (read from /proc)",
              step: "One thread for every connection", sends: ["GET /hello.txt HT"], how: "on 20 connections that then stay silent, while /proc/PID is read",
              expects: "8 threads at most and no child processes",
              hint: "make every socket nonblocking and wait on all of them at once (poll, epoll; Python: selectors), keeping each connection's bytes in a buffer",
              isModelCheck: true) { target in
            whileHolding(20, target) { pid in
                let threads = ProcessTree.threads(of: pid), children = ProcessTree.descendants(of: pid).count
                // A few threads are allowed (a worker per core, a runtime's helpers); one per connection is not.
                if threads <= 8 && children == 0 { return .pass }
                return .fail(expected: "one event loop (a few threads at most, no child processes) for 20 waiting connections", got: Reception(),
                             note: "\(threads) threads and \(children) child processes: "
                                + (children > 0 ? "a process per connection is the fork stage" : "a thread per connection is the threads stage")
                                + "; an event loop waits on every socket at once with poll/epoll and serves whichever is ready",
                             reproduce: "ls /proc/$(\(pidCommand(target)))/task | wc -l   # while 20 'nc \(target.ncAddress)' are connected")
            }
        }
    }

    /// select() cannot watch a descriptor above 1023 (FD_SETSIZE): 1,100 idle connections push the next one past it.
    static func moreThanSelectHolds() -> Check {
        Check(stage: .eventloop, name: "answers while 1,100 idle connections are open (more than select() can watch)", step: "One thread for every connection",
              sends: [get("/hello.txt")], how: "after 1,100 connections that send nothing are opened", expects: "200",
              hint: "select() watches descriptors below 1024 only: use poll or epoll, and raise the open-file limit (ulimit -n, setrlimit) to the hard limit") { target, _ in
            let reproduce = "python3 -c 'import socket; s = [socket.create_connection((\"\(target.host)\", \(target.shownPort ?? target.port))) for _ in range(1100)]; "
                + "input()' &  curl -v \(target.base)/hello.txt"
            var idle: [CheckClient] = []
            defer { idle.forEach { $0.close() } }
            do {
                for _ in 0..<1100 { idle.append(try CheckClient.connect(target)) }
            } catch {
                return .fail(expected: "1,100 connections at once", got: Reception(failure: error),
                             note: "connection \(idle.count + 1) failed: is the server's open-file limit (ulimit -n) below 1,100?", reproduce: reproduce)
            }
            let (response, got) = exchange(target, get("/hello.txt"))
            guard response?.status == 200 else {
                return .fail(expected: "200 for one more client while 1,100 others are connected and silent", got: got,
                             note: "select() watches descriptors 0 to 1023 only: use poll or epoll, and raise the open-file limit (or: the server still serves one connection at a time)", reproduce: reproduce)
            }
            return .pass
        }
    }
}

/// A server's processes and threads, from /proc: what it runs as under load.
enum ProcessTree {
    /// The number of threads of `pid` (its /proc/PID/task entries).
    static func threads(of pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).count
    }

    /// Every process whose parent chain leads to `pid`.
    static func descendants(of pid: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(name), let parent = parentPID(of: child) else { continue }
            parents[child] = parent
        }
        var found: Set<Int32> = [pid]
        var grew = true
        while grew {
            grew = false
            for (child, parent) in parents where found.contains(parent) && !found.contains(child) {
                found.insert(child)
                grew = true
            }
        }
        found.remove(pid)
        return Array(found)
    }

    /// The fourth field of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
    static func parentPID(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}
