/// Finds CRLF-terminated lines in a byte buffer. HTTP/1.1 lines end in CRLF (RFC 9112 §2.2); a bare LF is
/// refused rather than guessed at, because two parsers that disagree about line ends are how requests get
/// smuggled past a proxy.
enum LineScanner {
    /// The line starting at `start`, without its CRLF, and the index just past the LF; nil if no LF has
    /// arrived yet. Scanning resumes at `scanFrom` so a line fed one byte at a time is read once, not n times.
    static func nextLine(in buffer: [UInt8], start: Int, scanFrom: Int,
                         context: @autoclosure () -> String) throws(RequestError) -> (line: Range<Int>, next: Int)? {
        let from = max(start, scanFrom)
        guard from < buffer.count else { return nil }
        let lfIndex: Int? = buffer.withUnsafeBufferPointer { all in
            let tail = UnsafeBufferPointer(rebasing: all[from...])
            return tail.firstIndex(of: ASCII.lf).map { $0 + from }
        }
        guard let lf = lfIndex else { return nil }
        guard lf > start, buffer[lf - 1] == ASCII.cr else {
            throw .badRequest("bare LF at the end of the \(context()); HTTP lines end with CRLF (RFC 9112 §2.2)")
        }
        return (start..<(lf - 1), lf + 1)
    }
}
