import Testing
import HTTPCore

/// The proxy cache's rules (RFC 9111) and its LRU store, with the clock as an argument.
@Suite("proxy cache: what may be stored, for how long, keyed by URL and Vary, LRU in bytes")
struct ResponseCacheTests {
    static func get(_ target: String, _ headers: HTTPHeaders = [:]) -> HTTPRequest {
        var all: HTTPHeaders = ["Host": "shop"]
        for field in headers { all.add(field) }
        return HTTPRequest(method: .get, target: target, headers: all)
    }

    @Test func freshnessComesFromSMaxAgeMaxAgeOrExpires() {
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Cache-Control": "public, max-age=60"]) == 60)
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Cache-Control": "max-age=60, s-maxage=5"]) == 5)
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Date": "Sun, 06 Nov 1994 08:49:37 GMT",
                                                                      "Expires": "Sun, 06 Nov 1994 08:50:37 GMT"]) == 60)
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Expires": "0"]) == 0) // invalid: already expired
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Cache-Control": "no-cache, max-age=60"]) == 0)
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: [:]) == nil) // no heuristics
    }

    @Test func privateNoStoreVaryStarCookiesAndOddStatusesAreNeverStored() {
        for headers: HTTPHeaders in [["Cache-Control": "private, max-age=60"], ["Cache-Control": "no-store, max-age=60"],
                                     ["Cache-Control": "max-age=60", "Vary": "*"], ["Cache-Control": "max-age=60", "Set-Cookie": "a=1"]] {
            #expect(CachePolicy.freshnessLifetime(status: 200, headers: headers) == nil, "\(headers)")
        }
        #expect(CachePolicy.freshnessLifetime(status: 500, headers: ["Cache-Control": "max-age=60"]) == nil)
        #expect(CachePolicy.freshnessLifetime(status: 206, headers: ["Cache-Control": "max-age=60"]) == nil)
    }

    @Test func authorisedAndNonGetRequestsBypassTheCache() {
        #expect(CachePolicy.appliesTo(Self.get("/a")))
        #expect(!CachePolicy.appliesTo(Self.get("/a", ["Authorization": "Basic eDp5"])))
        #expect(!CachePolicy.appliesTo(Self.get("/a", ["Cache-Control": "no-store"])))
        #expect(!CachePolicy.appliesTo(HTTPRequest(method: .post, target: "/a", headers: ["Host": "shop"])))
        var cache = ResponseCache(capacityBytes: 1 << 20)
        let stored = cache.store(Self.get("/a", ["Authorization": "Basic eDp5"]), status: .ok, headers: ["Cache-Control": "max-age=60"], body: [1], now: 0)
        #expect(!stored)
    }

    @Test func aStoredResponseIsFreshThenStaleAndCarriesItsAge() {
        var cache = ResponseCache(capacityBytes: 1 << 20)
        let before = cache.lookup(Self.get("/a"), now: 100)
        #expect(before == .miss)
        let stored = cache.store(Self.get("/a"), status: .ok, headers: ["Cache-Control": "max-age=10", "ETag": "\"v1\""], body: Array("hi".utf8), now: 100)
        #expect(stored)
        guard case .fresh(let stored) = cache.lookup(Self.get("/a"), now: 104) else { Issue.record("not fresh"); return }
        #expect(stored.response(at: 104).headers["Age"] == "4")
        #expect(stored.response(at: 104).body == .bytes(Array("hi".utf8)))
        guard case .stale(let stale) = cache.lookup(Self.get("/a"), now: 111) else { Issue.record("not stale"); return }
        #expect(CachePolicy.validators(for: stale.headers)["If-None-Match"] == "\"v1\"")
        // A client's no-cache asks for revalidation even of a fresh copy.
        guard case .stale = cache.lookup(Self.get("/a", ["Cache-Control": "no-cache"]), now: 101) else { Issue.record("served"); return }
        // 304 Not Modified makes it fresh again from then on.
        let refreshed = cache.refresh(Self.get("/a"), with: ["Cache-Control": "max-age=20"], now: 111)
        #expect(refreshed?.lifetime == 20)
        guard case .fresh = cache.lookup(Self.get("/a"), now: 130) else { Issue.record("not refreshed"); return }
    }

    @Test("Age and max-age are delta-seconds: a sign, a fraction, nan or 1e30 is ignored, never a crash (§1.2.2)")
    func hostileAgesAndLifetimes() {
        for text in ["-1e30", "nan", "inf", "+5", "1.5", "", " ", "0x10", "1e3"] {
            #expect(CachePolicy.deltaSeconds(text) == nil, "\(text)")
        }
        #expect(CachePolicy.deltaSeconds("42") == 42)
        #expect(CachePolicy.deltaSeconds("99999999999999999999999") == 2_147_483_648, "past 2^31: 2^31")
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Cache-Control": "max-age=-5"]) == nil)
        var cache = ResponseCache(capacityBytes: 1 << 20)
        for age in ["-1e30", "nan", "inf", "99999999999999999999999"] {
            cache.store(Self.get("/\(age)"), status: .ok, headers: ["Cache-Control": "max-age=60", "Age": age], body: [1], now: 100)
            if case .fresh(let stored) = cache.lookup(Self.get("/\(age)"), now: 101) {
                #expect(stored.response(at: 101).headers["Age"].flatMap { Int($0) } != nil, "a finite Age for \(age)")
            }
        }
        // A qualified private or no-cache is the safe plain directive for a shared cache.
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Cache-Control": "private=\"Set-Cookie\", max-age=60"]) == nil)
        #expect(CachePolicy.freshnessLifetime(status: 200, headers: ["Cache-Control": "no-cache=\"Set-Cookie\", max-age=60"]) == 0)
    }

    @Test func variantsAreKeyedByTheFieldsVaryNames() {
        var cache = ResponseCache(capacityBytes: 1 << 20)
        let gzip = Self.get("/p", ["Accept-Encoding": "gzip"]), plain = Self.get("/p")
        cache.store(gzip, status: .ok, headers: ["Cache-Control": "max-age=60", "Vary": "Accept-Encoding"], body: Array("zipped".utf8), now: 0)
        let plainBefore = cache.lookup(plain, now: 1)
        #expect(plainBefore == .miss)
        cache.store(plain, status: .ok, headers: ["Cache-Control": "max-age=60", "Vary": "Accept-Encoding"], body: Array("plain".utf8), now: 0)
        guard case .fresh(let a) = cache.lookup(gzip, now: 1), case .fresh(let b) = cache.lookup(plain, now: 1) else { Issue.record("missing variant"); return }
        #expect(a.body == Array("zipped".utf8) && b.body == Array("plain".utf8))
        #expect(cache.count == 2)
    }

    @Test func theLeastRecentlyUsedGoFirstAndTheBytesStayBounded() {
        var cache = ResponseCache(capacityBytes: 8 * 1024)
        let body = [UInt8](repeating: 0x61, count: 800)
        for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"] {
            cache.store(Self.get("/" + name), status: .ok, headers: ["Cache-Control": "max-age=60"], body: body, now: 0)
            _ = cache.lookup(Self.get("/a"), now: 0) // keep /a in use
        }
        #expect(cache.usedBytes <= 8 * 1024)
        let a = cache.lookup(Self.get("/a"), now: 1), b = cache.lookup(Self.get("/b"), now: 1)
        #expect(a != .miss)
        #expect(b == .miss) // the oldest unused one went first
        let big = cache.store(Self.get("/big"), status: .ok, headers: ["Cache-Control": "max-age=60"], body: [UInt8](repeating: 0, count: 2000), now: 0)
        #expect(!big)
    }
}
