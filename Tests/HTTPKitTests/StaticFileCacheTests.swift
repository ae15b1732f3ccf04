import Foundation
import Testing
import HTTPCore
import Sockets
@testable import Stages

@Suite("the static file cache: a hot path costs no resolution, a changed file is noticed after `validity`")
struct StaticFileCacheTests {
    /// A document root in a fresh temporary directory, removed at the end.
    private final class Root {
        let path = NSTemporaryDirectory() + "httpkit-file-cache-\(UUID().uuidString)"
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        func write(_ name: String, _ text: String) { _ = FileManager.default.createFile(atPath: path + "/" + name, contents: Data(text.utf8)) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    private func body(_ cache: StaticFileCache, _ target: String) -> String {
        let response = cache.representation(for: HTTPRequest(method: .get, target: target))
        guard response.status.code == 200, case .bytes(let bytes) = response.body else { return "status \(response.status.code)" }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("paths asked in turn and again each get their own file (the last path found is asked first)")
    func pathsInTurn() throws {
        let root = Root()
        root.write("a.txt", "first")
        root.write("b.txt", "second")
        let cache = StaticFileCache(StaticFileHandler(root: try DocumentRoot(root.path, fileSystem: SystemFileSystem())), validity: 60)
        for target in ["/a.txt", "/a.txt", "/b.txt", "/a.txt", "/b.txt", "/b.txt", "/missing.txt", "/a.txt"] {
            let expected = ["/a.txt": "first", "/b.txt": "second"][target] ?? "status 404"
            #expect(body(cache, target) == expected, "\(target)")
        }
    }

    @Test("within `validity` the remembered answer is served; after it, the file as it is now")
    func validity() throws {
        let root = Root()
        root.write("a.txt", "old")
        let trusting = StaticFileCache(StaticFileHandler(root: try DocumentRoot(root.path, fileSystem: SystemFileSystem())), validity: 60)
        let checking = StaticFileCache(StaticFileHandler(root: try DocumentRoot(root.path, fileSystem: SystemFileSystem())), validity: 0)
        #expect(body(trusting, "/a.txt") == "old" && body(trusting, "/a.txt") == "old")
        #expect(body(checking, "/a.txt") == "old" && body(checking, "/a.txt") == "old")
        root.write("a.txt", "new!")
        #expect(body(trusting, "/a.txt") == "old", "trusted for 60 s")
        #expect(body(checking, "/a.txt") == "new!", "resolved again: the last path's entry is no fresher than the dictionary's")
        #expect(body(checking, "/a.txt") == "new!")
    }
}
