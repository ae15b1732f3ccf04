/// One stored response: what the client gets, when it was stored and for how long it is fresh.
public struct CachedResponse: Sendable, Hashable {
    public var status: HTTPStatus
    /// The header fields as the client gets them (hop-by-hop fields already removed).
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Seconds (wall clock) when it was stored or last revalidated, and its age then (the upstream's `Age`).
    public var storedAt: Double
    public var initialAge: Double
    public var lifetime: Double
    /// The request's values of the fields the response's `Vary` names: a variant matches only the same values.
    public var variantKey: [String]

    public init(status: HTTPStatus, headers: HTTPHeaders, body: [UInt8], storedAt: Double, lifetime: Double, variantKey: [String]) {
        self.status = status
        self.headers = headers
        self.body = body
        self.storedAt = storedAt
        self.initialAge = headers["Age"].flatMap { CachePolicy.deltaSeconds($0) } ?? 0
        self.lifetime = lifetime
        self.variantKey = variantKey
    }

    /// Its current age (RFC 9111 §4.2.3, without the clock-skew corrections an origin-side cache can skip).
    public func age(at now: Double) -> Double { initialAge + max(0, now - storedAt) }
    public func isFresh(at now: Double) -> Bool { age(at: now) < lifetime }

    /// The response to send from the store, with `Age` set (§5.1).
    public func response(at now: Double) -> HTTPResponse {
        var headers = self.headers
        headers.set("Age", String(Int(min(age(at: now), 2_147_483_648)))) // both terms are finite and ≥ 0
        return HTTPResponse(status: status, headers: headers, body: .bytes(body))
    }

    var cost: Int { body.count + headers.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } + 64 }
}

/// The proxy's response store: keyed by URL and `Vary`, bounded in bytes, least recently used evicted
/// first. A value type with no clock and no I/O: the caller passes `now`, the tests pass any time they like.
public struct ResponseCache: Sendable {
    public enum Lookup: Sendable, Hashable {
        case fresh(CachedResponse)
        /// Stored but stale (or the client asked to revalidate): ask the upstream with these validators.
        case stale(CachedResponse)
        case miss
    }

    public let capacityBytes: Int
    /// The largest single response kept: an eighth of the capacity, so one response cannot empty the cache.
    public var maxEntryBytes: Int { capacityBytes / 8 }
    public private(set) var usedBytes = 0
    /// Variants per primary key, and a use counter for least-recently-used order.
    private var entries: [String: [(response: CachedResponse, lastUse: Int)]] = [:]
    private var clock = 0

    public init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
    }

    public var count: Int { entries.values.reduce(0) { $0 + $1.count } }

    /// The request's values of `varyNames`, in order (an absent field is its own value).
    public static func variantKey(_ request: HTTPRequest, varyingOn names: [String]) -> [String] {
        names.map { name in request.headers.values(name).joined(separator: ", ").lowercased() + (request.headers.contains(name) ? "" : "\u{0}") }
    }

    public mutating func lookup(_ request: HTTPRequest, now: Double) -> Lookup {
        let key = CachePolicy.key(for: request)
        guard let variants = entries[key] else { return .miss }
        for (index, variant) in variants.enumerated() {
            let vary = variant.response.headers.listElements("Vary")
            guard Self.variantKey(request, varyingOn: vary) == variant.response.variantKey else { continue }
            clock += 1
            entries[key]?[index].lastUse = clock
            let response = variant.response
            if response.isFresh(at: now) && !CachePolicy.clientWantsRevalidation(request) { return .fresh(response) }
            return .stale(response)
        }
        return .miss
    }

    /// Keeps `response` (the answer to `request`) when the policy allows and it fits; evicts the least
    /// recently used responses to make room. Returns whether it was stored.
    @discardableResult
    public mutating func store(_ request: HTTPRequest, status: HTTPStatus, headers: HTTPHeaders, body: [UInt8], now: Double) -> Bool {
        guard CachePolicy.appliesTo(request), let lifetime = CachePolicy.freshnessLifetime(status: status.code, headers: headers) else { return false }
        let vary = headers.listElements("Vary")
        let entry = CachedResponse(status: status, headers: headers, body: body, storedAt: now, lifetime: lifetime,
                                   variantKey: Self.variantKey(request, varyingOn: vary))
        guard entry.cost <= maxEntryBytes else { return false }
        let key = CachePolicy.key(for: request)
        remove(key, variantKey: entry.variantKey)
        while usedBytes + entry.cost > capacityBytes, evictLeastRecentlyUsed() {}
        clock += 1
        entries[key, default: []].append((entry, clock))
        usedBytes += entry.cost
        return true
    }

    /// After `304 Not Modified` (§4.3.4): the stored copy is fresh again, with the 304's header fields.
    public mutating func refresh(_ request: HTTPRequest, with notModified: HTTPHeaders, now: Double) -> CachedResponse? {
        guard case .stale(var stored) = lookup(request, now: .infinity) else { return nil }
        for field in notModified.fields where !["content-length", "content-type", "vary"].contains(field.name.lowercased()) {
            stored.headers.set(field.name, field.value)
        }
        stored.storedAt = now
        stored.initialAge = notModified["Age"].flatMap { CachePolicy.deltaSeconds($0) } ?? 0
        stored.lifetime = CachePolicy.freshnessLifetime(status: stored.status.code, headers: stored.headers) ?? 0
        let key = CachePolicy.key(for: request)
        remove(key, variantKey: stored.variantKey)
        clock += 1
        entries[key, default: []].append((stored, clock))
        usedBytes += stored.cost
        return stored
    }

    private mutating func remove(_ key: String, variantKey: [String]) {
        guard let index = entries[key]?.firstIndex(where: { $0.response.variantKey == variantKey }) else { return }
        usedBytes -= entries[key]![index].response.cost
        entries[key]!.remove(at: index)
        if entries[key]!.isEmpty { entries[key] = nil }
    }

    /// O(n) over the entries: fine for a teaching cache of a few thousand responses.
    private mutating func evictLeastRecentlyUsed() -> Bool {
        var oldest: (key: String, index: Int, use: Int)?
        for (key, variants) in entries {
            for (index, variant) in variants.enumerated() where oldest == nil || variant.lastUse < oldest!.use {
                oldest = (key, index, variant.lastUse)
            }
        }
        guard let oldest else { return false }
        usedBytes -= entries[oldest.key]![oldest.index].response.cost
        entries[oldest.key]!.remove(at: oldest.index)
        if entries[oldest.key]!.isEmpty { entries[oldest.key] = nil }
        return true
    }
}
