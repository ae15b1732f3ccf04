/// Bytes received and not yet consumed by a frame parser (HTTP/2, WebSocket): appended at the end,
/// consumed from the front. Consuming only moves `start`; the consumed front is dropped now and then (once
/// everything is consumed, or when it passes 64 KB), so a frame costs no copy of what follows it.
struct ReceiveBuffer: Sendable {
    /// The storage; the unconsumed bytes are `bytes[start...]`.
    private(set) var bytes: [UInt8] = []
    private(set) var start = 0

    mutating func append<Bytes: Sequence<UInt8>>(_ new: Bytes) {
        if start > 0 && (start == bytes.count || start > 64 * 1024) {
            bytes.removeSubrange(0..<start)
            start = 0
        }
        bytes.append(contentsOf: new)
    }

    /// Bytes received but not yet consumed.
    var count: Int { bytes.count - start }

    /// Everything before `end` (an index into `bytes`) has been parsed.
    mutating func consume(upTo end: Int) { start = end }
}
