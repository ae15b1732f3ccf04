import ArgumentParser
import Foundation
import HTTPCore
import Sockets
import Stages

/// `httpkit doctor`: is this machine ready for the lessons?
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the environment: Swift, libedit and zlib, the port, the site folder, the terminal, the tools.",
        discussion: "Examples:\n  httpkit doctor\n  httpkit doctor --port 9000"
    )

    @Option(parsing: .unconditional, help: "The port the stages will use (0 to 65535).", transform: PortArgument.parse)
    var port: UInt16 = 8080

    func run() throws {
        var problems = 0
        func report(_ ok: Bool, _ text: String, fix: String? = nil, required: Bool = true) {
            let mark = ok ? "✔" : required ? "✘" : "!"
            print("  \(mark) \(text)" + (ok || fix == nil ? "" : " — \(fix!)"))
            if !ok && required { problems += 1 }
        }
        print("httpkit doctor")
        report(true, "built with Swift \(Self.compilerVersion)")
        let swift = Self.shell("swift --version 2>/dev/null | head -1")
        report(!swift.isEmpty, swift.isEmpty ? "no swift on the PATH" : "on the PATH: \(swift)",
               fix: "install Swift 6 from swift.org to build the stages yourself", required: false)
        report(true, "zlib \(Gzip.zlibVersionString) linked (gzip)")
        report(true, "libedit linked (\(LineEditor.libraryVersion); the REPL's line editing)")

        // The port.
        if let socket = try? Socket.listen(host: "127.0.0.1", port: port) {
            socket.close()
            report(true, "port \(port) on 127.0.0.1 is free")
        } else {
            let holder = PortOwner.describe(port: port) ?? "another program"
            report(false, "port \(port) is in use by \(holder)", fix: "stop it, or run the stages with --port \(port == 8080 ? 8081 : port + 1)")
        }

        // The site and the lessons.
        if let site = BundledSite.locate(), let root = try? DocumentRoot(site, fileSystem: SystemFileSystem()) {
            report(true, "the bundled site is readable: \(root.path)")
        } else {
            report(false, "the bundled www/ folder was not found", fix: "run httpkit from the repository, or pass --root DIR to the stages")
        }
        report(LessonLibrary.directory() != nil, "the lessons are here: \(LessonLibrary.directory() ?? "not found")",
               fix: "run httpkit from the repository to read the lessons in the terminal", required: false)

        // The terminal.
        let environment = ProcessInfo.processInfo.environment
        let tty = isatty(1) != 0
        let utf8 = [environment["LC_ALL"], environment["LC_CTYPE"], environment["LANG"]].compactMap { $0 }.first?.uppercased().contains("UTF-8") ?? false
        report(true, "terminal: \(tty ? "a TTY, \(TerminalSize.columns()) columns, TERM=\(environment["TERM"] ?? "unset")" : "not a TTY (output is plain)")"
               + (environment["NO_COLOR"] != nil ? ", NO_COLOR set (no colour)" : ""))
        report(utf8, "UTF-8 locale: wire dumps draw CR and LF as ␍ ␊", fix: "set LANG=C.UTF-8, or use --ascii with httpkit dump and repl", required: false)

        // The tools the lessons use.
        for tool in ["curl", "nc", "python3", "wrk"] {
            let found = Self.shell("command -v \(tool)")
            report(!found.isEmpty, found.isEmpty ? "\(tool) not found" : "\(tool): \(found)", fix: "apt-get install \(tool == "nc" ? "netcat-openbsd" : tool)", required: false)
        }
        print(problems == 0 ? "Ready. Start with: httpkit learn" : "\(problems) problem\(problems == 1 ? "" : "s") to fix first.")
        if problems > 0 { throw ExitCode.failure }
    }

    static var compilerVersion: String {
        #if compiler(>=6.3)
        return "6.3 or later"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    static func shell(_ command: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Foundation.Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Who listens on a port: /proc/net/tcp{,6} gives the socket's inode, /proc/PID/fd finds its process.
enum PortOwner {
    static func describe(port: UInt16) -> String? {
        guard let owner = find(port: port) else { return nil }
        guard let pid = owner else { return "a process this user cannot see" }
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?
            .replacingOccurrences(of: "\0", with: " ").trimmingCharacters(in: .whitespaces) ?? "?"
        return "pid \(pid) (\(command))"
    }

    /// The pid of the process listening on `port`, when this user can see it.
    static func pid(port: UInt16) -> Int32? { find(port: port) ?? nil }

    /// nil: nothing listens; .some(nil): something does, in a process this user cannot see.
    private static func find(port: UInt16) -> Int32?? {
        let hexPort = String(format: "%04X", port)
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[1].hasSuffix(":" + hexPort), fields[3] == "0A" else { continue } // 0A = LISTEN
                inodes.insert(String(fields[9]))
            }
        }
        guard !inodes.isEmpty else { return nil }
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(pid) != nil {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                      link.hasPrefix("socket:["), inodes.contains(String(link.dropFirst(8).dropLast())) else { continue }
                return .some(Int32(pid))
            }
        }
        return .some(nil)
    }
}
