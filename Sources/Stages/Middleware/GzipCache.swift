import Sockets

/// Static files compressed once, not on every hit (the idea of nginx's `gzip_static`, kept in memory).
///
/// A key names one version of one file range: the path, the range, and the file's validator (its ETag,
/// made of inode, size and modification time). A changed file has a new ETag, so a stale entry is never
/// found again; it simply ages out. Bounded by total bytes: when a new entry would pass the budget, the
/// oldest entries go first. Shared by the event loops of a stage (`--workers N`), hence the lock; it is
/// taken only on the gzip path, for files, once per response.
public final class GzipCache: Sendable {
    private struct State {
        var entries: [String: [UInt8]] = [:]
        /// Keys oldest first, for eviction.
        var order: [String] = []
        var bytes = 0
        var hits = 0
        var misses = 0
    }

    private let state = Locked(State())
    /// The most compressed bytes held at once.
    public let budget: Int

    public init(budget: Int = 32 << 20) {
        self.budget = budget
    }

    /// The key of one version of a file range; nil without a validator (then the version is unknown and
    /// nothing is cached).
    static func key(path: String, offset: Int, length: Int, validator: String?) -> String? {
        validator.map { "\(path)\u{0}\(offset)\u{0}\(length)\u{0}\($0)" }
    }

    /// The compressed bytes for `key`, made by `compress` on a miss and kept when they fit the budget.
    func compressed(_ key: String, _ compress: () -> [UInt8]?) -> [UInt8]? {
        if let hit = state.withLock({ state -> [UInt8]? in
            let hit = state.entries[key]
            if hit != nil { state.hits += 1 } else { state.misses += 1 }
            return hit
        }) {
            return hit
        }
        guard let made = compress() else { return nil }
        guard made.count <= budget / 4 else { return made } // one huge file must not flush the rest
        state.withLock { state in
            guard state.entries[key] == nil else { return } // another loop made it meanwhile
            while state.bytes + made.count > budget, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                state.bytes -= state.entries.removeValue(forKey: oldest)?.count ?? 0
            }
            state.entries[key] = made
            state.order.append(key)
            state.bytes += made.count
        }
        return made
    }

    /// Hits, misses and bytes held: for tests and metrics.
    public var statistics: (hits: Int, misses: Int, bytes: Int, entries: Int) {
        state.withLock { ($0.hits, $0.misses, $0.bytes, $0.entries.count) }
    }
}
