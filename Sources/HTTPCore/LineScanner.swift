import Glibc

/// Finds CRLF-terminated lines in a byte buffer. HTTP/1.1 lines end in CRLF (RFC 9112 §2.2); a bare LF is
/// refused rather than guessed at, because two parsers that disagree about line ends are how requests get
/// smuggled past a proxy.
enum LineScanner {
    /// A line found in the buffer: its content without the line end, where the next line starts, how many
    /// bytes came before the LF (the CR included), and whether the LF lacked its CR.
    struct Line {
        let content: Range<Int>
        let next: Int
        let bytesBeforeLF: Int
        let bareLF: Bool
    }

    /// The line starting at `start`; nil if no LF has arrived yet. Scanning resumes at `scanFrom` so a
    /// line fed one byte at a time is read once, not n times.
    ///
    /// Callers check their size limits on `bytesBeforeLF` (or, while no LF has arrived, on the bytes
    /// pending) before they look at `bareLF`: that way the verdict is the same however the bytes were
    /// split into reads, which a fuzzer found was not the case when the bare LF was judged first.
    static func nextLine(in buffer: [UInt8], start: Int, scanFrom: Int) -> Line? {
        buffer.withUnsafeBufferPointer { nextLine(in: $0, start: start, scanFrom: scanFrom) }
    }

    // Inlined always: called once per line, it is a memchr and a few tests, and the compiler's own choice
    // changed with unrelated code (out of line it cost ~130 instructions more a request, callgrind).
    @inline(__always)
    static func nextLine(in buffer: UnsafeBufferPointer<UInt8>, start: Int, scanFrom: Int) -> Line? {
        let from = max(start, scanFrom)
        guard from < buffer.count, let base = buffer.baseAddress else { return nil }
        // memchr looks at many octets per instruction; a loop over the octets cost ~7 instructions each,
        // and every octet of every head passes here once.
        guard let found = memchr(base + from, Int32(ASCII.lf), buffer.count - from) else { return nil }
        let lf = UnsafeRawPointer(found) - UnsafeRawPointer(base)
        let crlf = lf > start && buffer[lf - 1] == ASCII.cr
        return Line(content: start..<(crlf ? lf - 1 : lf), next: lf + 1, bytesBeforeLF: lf - start, bareLF: !crlf)
    }

    static func bareLF(_ context: String) -> RequestError {
        .badRequest("bare LF at the end of the \(context); HTTP lines end with CRLF (RFC 9112 §2.2)")
    }
}
