import CEditLine
import Foundation
import HTTPCore
import Sockets

/// Where the REPL's lines come from: libedit on a terminal (line editing, history kept across runs, tab
/// completion), or plain lines from a pipe or a script file (no prompt, no colour, same output).
protocol LineSource: AnyObject {
    var isInteractive: Bool { get }
    /// The next line without its newline; nil at the end of input (Ctrl-D). `.interrupted` after Ctrl-C.
    func readLine(prompt: String) -> LineResult
    func close()
}

enum LineResult {
    case line(String)
    case interrupted
    case end
}

/// Lines from a file or a pipe.
final class PlainLines: LineSource {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var finished = false
    let isInteractive = false

    init(_ handle: FileHandle) { self.handle = handle }

    func readLine(prompt: String) -> LineResult {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0D { line.removeLast() }
                return .line(String(decoding: line, as: UTF8.self))
            }
            if finished {
                if buffer.isEmpty { return .end }
                defer { buffer.removeAll() }
                return .line(String(decoding: buffer, as: UTF8.self))
            }
            let data = handle.availableData
            if data.isEmpty { finished = true } else { buffer += data }
        }
    }

    func close() {}
}

/// libedit's readline: arrow keys, Ctrl-R, history in ~/.httpkit_history (or $HTTPKIT_HISTORY), and
/// tab completion of REPL commands, methods, common header names and the server's paths (ReplCompletion).
final class EditLineSource: LineSource {
    let isInteractive = true
    private let historyPath: String

    /// Words the tab key completes, in the order offered.
    nonisolated(unsafe) static var words: [String] = []
    nonisolated(unsafe) private static var matches: [String] = []

    init(commands: [String]) {
        historyPath = ProcessInfo.processInfo.environment["HTTPKIT_HISTORY"]
            ?? (ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.httpkit_history" } ?? ".httpkit_history")
        EditLineSource.words = commands
            + ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
            + ReplInput.shorthandMethods
            + ["Host:", "Accept:", "Accept-Encoding:", "Authorization:", "Connection:", "Content-Length:", "Content-Type:",
               "Cookie:", "Expect:", "If-None-Match:", "Origin:", "Range:", "Transfer-Encoding:", "User-Agent:", "HTTP/1.1", "HTTP/1.0"]
        httpkit_rl_set_readline_name(strdup("httpkit"))
        httpkit_rl_set_completion(EditLineSource.complete)
        httpkit_rl_set_completion_append_character(0x20)
        using_history()
        read_history(historyPath)
    }

    func readLine(prompt: String) -> LineResult {
        _ = Interrupts.take()
        guard let pointer = readline(prompt) else {
            return Interrupts.take() ? .interrupted : .end
        }
        defer { free(pointer) }
        if Interrupts.take() { return .interrupted }
        let line = String(cString: pointer)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(line)
            append_history(1, historyPath)
        }
        return .line(line)
    }

    func close() {
        write_history(historyPath)
    }

    /// libedit asks for completions of `text`: ReplCompletion's candidates, and never the disk's file names.
    private static let complete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, _, _ in
        let prefix = text.map { String(cString: $0) } ?? ""
        httpkit_rl_set_attempted_completion_over(1)
        matches = ReplCompletion.candidates(prefix, words: words, paths: ReplCompletion.paths)
        guard !matches.isEmpty else { return nil }
        return rl_completion_matches(text, generate)
    }

    private static let generate: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
        let index = Int(state)
        guard index < matches.count else { return nil }
        return strdup(matches[index])
    }
}
