/// The loop's connections, found by descriptor: an array indexed by the descriptor's number, as nginx and
/// h2o keep theirs. The kernel hands out the lowest free number, so the numbers in use stay dense and the
/// array stays about as long as the most connections open at once.
///
/// A `Dictionary` did the same job, but every readiness event hashed the descriptor and probed the table:
/// with 400 busy connections `perf` put the loop's own code (`EventLoop.run`, where the lookup was inlined)
/// at six times its share with 100, the table's cache lines being cold by the time a socket came round again.
typealias ConnectionTable = DescriptorTable<Connection>

/// Objects found by the descriptor they own (the loop's client connections; the proxy's upstream
/// connections, which sit in the same poller): an array indexed by the descriptor's number.
struct DescriptorTable<Value: AnyObject> {
    private var slots: [Value?] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(fd: Int32) -> Value? {
        get {
            let index = Int(fd)
            return index >= 0 && index < slots.count ? slots[index] : nil
        }
        set {
            let index = Int(fd)
            guard index >= 0 else { return }
            if index >= slots.count {
                guard newValue != nil else { return }
                // Grown by doubling, like any array: a loop that once held 10,000 connections keeps the room.
                slots.append(contentsOf: repeatElement(nil, count: max(index + 1, slots.count * 2) - slots.count))
            }
            switch (slots[index] != nil, newValue != nil) {
            case (false, true): count += 1
            case (true, false): count -= 1
            default: break
            }
            slots[index] = newValue
        }
    }

    /// Forgets every value (keeping the room).
    mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Every value, in descriptor order (the loop closes some while it walks them: a copy).
    var values: [Value] { slots.compactMap { $0 } }
}
