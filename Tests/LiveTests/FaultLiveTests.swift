import Foundation
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The server's CPU seconds (user + system) so far, from /proc/PID/stat.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    return (Double(fields[11]) ?? 0) / 100 + (Double(fields[12]) ?? 0) / 100
}

@Suite("faults: descriptors, disks and signals", .serialized)
struct FaultLiveTests {
    @Test("out of descriptors: no exit, no spinning, and serving again once they free up", .timeLimit(.minutes(1)),
          arguments: ["eventloop", "keepalive", "threads"])
    func outOfDescriptors(_ stage: String) throws {
        let server = try ServerProcess([stage, "--header-timeout", "30"], shell: "ulimit -n 40")
        defer { server.stop() }
        var clients: [Socket] = []
        defer { clients.forEach { $0.close() } }
        for _ in 0..<80 { clients.append(try Socket.connect(host: "127.0.0.1", port: server.port)) }
        usleep(500_000)
        let before = cpuSeconds(server.pid)
        sleep(1)
        let spent = cpuSeconds(server.pid) - before
        #expect(spent < 0.3, "\(stage) used \(spent) s of CPU in 1 s while out of descriptors: spinning?")
        #expect(server.process.isRunning)
        #expect(server.output.contains("EMFILE"), "\(server.output)")
        clients.forEach { $0.close() }
        clients = []
        usleep(300_000)
        let response = try RawClient.exchange(port: server.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(response.status == 200)
    }

    @Test(.timeLimit(.minutes(1))) func uploadThatCannotBeWrittenIs507AndLeavesNothing() throws {
        let directory = TemporaryDirectory()
        // ulimit -f (512-byte blocks in sh): writes past 20 KB fail with EFBIG, as on a full disk.
        let server = try ServerProcess(["router", "--directory", directory.path, "--access-log", "off"], shell: "ulimit -f 40")
        defer { server.stop() }
        let body = String(repeating: "u", count: 60_000)
        let response = try RawClient.exchange(port: server.port, "POST /files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n" + body)
        #expect(response.status == 507, "\(response.status) \(response.text)")
        #expect(response.text.contains("Insufficient Storage"))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(left.isEmpty, "left behind: \(left)")
        let small = try RawClient.exchange(port: server.port, "POST /files/small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsmall")
        #expect(small.status == 201)
    }

    @Test(.timeLimit(.minutes(1))) func sigtermDuringAnUploadLetsItFinish() throws {
        let directory = TemporaryDirectory()
        let server = try ServerProcess(["router", "--directory", directory.path, "--access-log", "off"])
        defer { server.stop() }
        // Idle between requests: it was served once. (A connection that has sent nothing yet is not the loop's:
        // with TCP_DEFER_ACCEPT the kernel holds it until its first bytes, and it goes with the listener.)
        let idle = try RawClient(port: server.port)
        defer { idle.close() }
        try idle.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try readResponses(idle, count: 1).first?.status == 200)
        let uploader = try RawClient(port: server.port)
        defer { uploader.close() }
        let half = String(repeating: "a", count: 50_000)
        try uploader.send("POST /files/during-stop.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + half)
        usleep(200_000)
        kill(server.pid, SIGTERM)
        usleep(300_000)
        #expect(server.process.isRunning, "the server waits for the upload in flight")
        #expect(try idle.readToEnd().isEmpty, "an idle connection is closed at once")
        try uploader.send(half)
        let response = try ParsedResponse(uploader.readToEnd())
        #expect(response.status == 201)
        #expect(response.header("Connection") == "close")
        #expect(FileManager.default.contents(atPath: directory.path + "/during-stop.bin")?.count == 100_000)
        let deadline = Date().addingTimeInterval(3)
        while server.process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!server.process.isRunning)
        #expect(server.process.terminationStatus == 0)
        #expect(throws: (any Error).self) { _ = try RawClient(port: server.port) }
    }

    @Test(.timeLimit(.minutes(1))) func sigtermWithAStuckClientEndsWithinTheDeadline() throws {
        let server = try ServerProcess(["keepalive", "--header-timeout", "60"])
        defer { server.stop() }
        let stuck = try RawClient(port: server.port)
        defer { stuck.close() }
        try stuck.send("GET /hello.txt HTTP/1.1\r\nHo") // mid-request, never finished
        usleep(200_000)
        let started = Date()
        #expect(server.stop(signal: SIGTERM, timeout: 10) == 0)
        let took = Date().timeIntervalSince(started)
        #expect(took < 7, "stopping took \(took) s")
    }
}

@Suite("slowloris")
struct SlowlorisLiveTests {
    @Test("1,000 connections sending a header byte every second", .timeLimit(.minutes(2)), arguments: ["eventloop", "keepalive"])
    func slowloris(_ stage: String) throws {
        let server = try ServerProcess([stage, "--header-timeout", "3"])
        defer { server.stop() }
        Processes.raiseOpenFileLimit()
        var slow: [Socket] = []
        defer { slow.forEach { $0.close() } }
        for _ in 0..<1000 {
            let socket = try Socket.connect(host: "127.0.0.1", port: server.port)
            try socket.setNonBlocking()
            slow.append(socket)
        }
        let head = Array("GET /hello.txt HTTP/1.1\r\nHost: slow\r\nX-Slow: ".utf8)
        var closedByServer = Set<Int32>()
        var worst = 0.0
        for second in 0..<6 {
            for socket in slow where !closedByServer.contains(socket.fd) {
                let byte = second < head.count ? head[second] : UInt8(ascii: "z")
                let sent = [byte].withUnsafeBytes { try? socket.write($0) }
                var probe = [UInt8](repeating: 0, count: 512)
                let got = recv(socket.fd, &probe, probe.count, Int32(MSG_DONTWAIT))
                if sent == nil || got >= 0 { closedByServer.insert(socket.fd) } // answered 408 or closed
            }
            let started = Date()
            let response = try RawClient.exchange(port: server.port, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 200)
            worst = max(worst, Date().timeIntervalSince(started) * 1000)
            usleep(1_000_000)
        }
        #expect(worst < 200, "a normal request took \(worst) ms among 1,000 slow clients")
        #expect(closedByServer.count == 1000, "only \(closedByServer.count) of 1,000 slow clients were closed by the header timeout")
        print("slowloris vs \(stage): normal requests within \(Int(worst)) ms; \(closedByServer.count) slow clients closed")
    }
}
