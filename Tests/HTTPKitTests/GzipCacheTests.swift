import Testing
import HTTPCore
@testable import Stages

@Suite("gzip: each version of a static file is compressed once")
struct GzipCacheTests {
    @Test("a key is compressed once; later lookups are hits")
    func once() {
        let cache = GzipCache()
        var made = 0
        for _ in 0..<3 {
            let bytes = cache.compressed("k") { made += 1; return [1, 2, 3] }
            #expect(bytes == [1, 2, 3])
        }
        #expect(made == 1)
        #expect(cache.statistics.hits == 2 && cache.statistics.misses == 1)
    }

    @Test("the budget holds: the oldest entries go first, and one entry over a quarter of it is not kept")
    func budget() {
        let cache = GzipCache(budget: 100)
        _ = cache.compressed("a") { Array(repeating: 0, count: 20) }
        _ = cache.compressed("b") { Array(repeating: 0, count: 20) }
        _ = cache.compressed("c") { Array(repeating: 0, count: 20) }
        _ = cache.compressed("d") { Array(repeating: 0, count: 20) }
        _ = cache.compressed("e") { Array(repeating: 0, count: 25) }
        #expect(cache.statistics.bytes <= 100 && cache.statistics.entries == 4, "a went to make room for e")
        _ = cache.compressed("huge") { Array(repeating: 0, count: 60) }
        #expect(cache.statistics.entries == 4, "not kept: it would flush the others")
    }

    @Test("the middleware: a strong ETag is a version; a new ETag, a weak one or none is compressed again")
    func middleware() throws {
        let cache = GzipCache()
        let gzip = GzipEncoding(cache: cache)
        let text = Array(String(repeating: "hello, gzip ", count: 100).utf8)
        func answer(etag: String?) -> HTTPResponse {
            var request = HTTPRequest(method: .get, target: "/page.txt")
            request.headers.add("Accept-Encoding", "gzip")
            return gzip(RoutedRequest(request)) { _ in
                var response = HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: .bytes(text))
                if let etag { response.headers.add("ETag", etag) }
                return response
            }
        }
        let first = answer(etag: "\"v1\"")
        let second = answer(etag: "\"v1\"")
        #expect(first.headers["Content-Encoding"] == "gzip" && first.body == second.body)
        #expect(cache.statistics.hits == 1 && cache.statistics.misses == 1)
        _ = answer(etag: "\"v2\"")
        _ = answer(etag: "W/\"v2\"")
        _ = answer(etag: nil)
        #expect(cache.statistics.hits == 1 && cache.statistics.misses == 2, "only v2 was looked up")
        #expect(try Gzip.decompress(Array(bodyBytes(first))) == text)
    }

    @Test("Vary on a cached response's ready-made lines: made once per header set, never mixed up between sets")
    func varyMemo() throws {
        let memo = VaryMemo()
        func cached(_ type: String, _ extra: [(String, String)] = []) -> HTTPHeaders {
            var headers: HTTPHeaders = ["Content-Type": type, "ETag": "\"\(type)\""]
            for (name, value) in extra { headers.add(name, value) }
            headers.prepareWire()
            return headers
        }
        let css = cached("text/css"), html = cached("text/html")
        let first = try #require(memo.variedIfCompressible(css)), again = try #require(memo.variedIfCompressible(css))
        let other = try #require(memo.variedIfCompressible(html))
        #expect(first.fields.map(\.name) == ["Content-Type", "ETag", "Vary"] && first == again)
        #expect(first.wireIdentity == again.wireIdentity, "the second answer is the remembered one, not a new copy")
        #expect(other["Content-Type"] == "text/html" && other["Vary"] == "Accept-Encoding")
        #expect(String(decoding: other.wire ?? [], as: UTF8.self)
                == "Content-Type: text/html\r\nETag: \"text/html\"\r\nVary: Accept-Encoding\r\n")
        // The same fields without ready-made lines, and a set changed after it was cached, are decided afresh.
        let plain = memo.variedIfCompressible(["Content-Type": "text/css"])
        #expect(plain?.values("Vary") == ["Accept-Encoding"] && plain?.wire == nil)
        var changed = css
        changed.add("X-Extra", "1")
        #expect(memo.variedIfCompressible(changed)?.fields.map(\.name) == ["Content-Type", "ETag", "X-Extra", "Vary"])
        #expect(css.fields.count == 2, "the cached value itself is never changed")
        // Headers gzip must leave alone: nil, the first time and when remembered.
        let png = cached("image/png"), encoded = cached("text/plain", [("Content-Encoding", "br")])
        for _ in 0..<2 {
            #expect(memo.variedIfCompressible(png) == nil, "a type that is compressed already")
            #expect(memo.variedIfCompressible(encoded) == nil, "an answer that is encoded already")
            #expect(memo.variedIfCompressible(css)?["Vary"] == "Accept-Encoding")
        }
    }

    @Test("octets that grow under gzip are sent as they are, with Vary; /echo/ is gzipped at every size")
    func incompressible() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<1024).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let gzip = GzipEncoding(everySizeUnder: ["/echo/"])
        func answer(_ target: String, _ body: [UInt8]) -> HTTPResponse {
            var request = HTTPRequest(method: .get, target: target)
            request.headers.add("Accept-Encoding", "gzip")
            return gzip(RoutedRequest(request)) { _ in
                HTTPResponse(status: .ok, headers: ["Content-Type": "application/octet-stream", "ETag": "\"n1\""], body: .bytes(body))
            }
        }
        let random = answer("/1k.bin", noise)
        #expect(random.headers["Content-Encoding"] == nil && random.headers["Vary"] == "Accept-Encoding")
        #expect(bodyBytes(random) == noise && random.headers["ETag"] == "\"n1\"")
        let echo = answer("/echo/abc", Array("abc".utf8)) // 23 octets gzipped: more than 3, gzipped all the same
        #expect(echo.headers["Content-Encoding"] == "gzip")
        #expect(try Gzip.decompress(bodyBytes(echo)) == Array("abc".utf8))
    }

    /// `everySizeUnder` rules most targets out by their first segment's length before comparing octets; that
    /// must decide exactly what "the target starts with the prefix" decides. A 13-byte answer is looked at by
    /// gzip (and marked `Vary`) only under a prefix.
    @Test("a small answer is gzip's only under an everySizeUnder prefix, whatever the first segment's length says")
    func everySizePrefixes() {
        let long = String(repeating: "a", count: 70)
        let prefixSets = [["/echo/"], ["/echo"], ["/"], ["echo"], ["/e?x/"], ["/\(long)/"], ["/echo/", "/raw"]]
        let targets = ["/echo/abc", "/echo/", "/echo", "/echoes", "/echo?x", "/echo/../x", "/%65cho/abc", "/hello.txt",
                       "/", "/e", "/e?x/y", "/rawdata", "/raw/x", "/\(long)/x", "/\(long)", "/\(long)a/x",
                       "http://h/echo/abc", "*"]
        for prefixes in prefixSets {
            let gzip = GzipEncoding(everySizeUnder: prefixes)
            for target in targets {
                var request = HTTPRequest(method: .get, target: target)
                request.headers.add("Accept-Encoding", "gzip")
                let answer = gzip(RoutedRequest(request)) { _ in
                    HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: .bytes(Array("hello, world!".utf8)))
                }
                let expected = prefixes.contains { target.hasPrefix($0) }
                #expect((answer.headers["Vary"] != nil) == expected, "\(prefixes) \(target)")
                #expect((answer.headers["Content-Encoding"] == "gzip") == expected, "\(prefixes) \(target)")
            }
        }
    }

    private func bodyBytes(_ response: HTTPResponse) -> [UInt8] {
        if case .bytes(let bytes) = response.body { return bytes }
        return []
    }
}
