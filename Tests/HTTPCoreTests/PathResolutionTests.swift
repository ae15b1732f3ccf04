import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPCore
import Stages

@Suite("URL paths are normalised safely")
struct URLPathTests {
    @Test("hostile paths are refused with 400", arguments: [
        "/..", "/../etc/passwd", "/a/../../etc/passwd", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc%2Fpasswd",
        "/..%2fetc/passwd", "/a/%2e%2e/%2e%2e/x", "/.%2e/x", "/%00", "/index.html%00.png", "/a\\..\\b",
        "/%5c..%5cetc", "/%zz", "/%2", "/%", "/%c0%ae%c0%ae/x", "etc/passwd",
    ])
    func refused(_ path: String) {
        #expect(throws: RequestError.self, "\(path)") { try URLPath.normalize(path) }
    }

    @Test("paths that stay inside the root", arguments: [
        ("/", [String](), true), ("/index.html", ["index.html"], false), ("/a/b/", ["a", "b"], true),
        ("/a/./b", ["a", "b"], false), ("/a/../b", ["b"], false), ("//a//b", ["a", "b"], false),
        ("/a%20b.txt", ["a b.txt"], false), ("/a%2fb", ["a", "b"], false), ("/docs/..", [], true),
        ("/caf%C3%A9", ["café"], false), ("/a/b/%2e%2e/c", ["a", "c"], false),
    ])
    func normalised(_ path: String, _ segments: [String], _ trailingSlash: Bool) throws {
        let result = try URLPath.normalize(path)
        #expect(result.segments == segments)
        #expect(result.trailingSlash == trailingSlash)
    }

    @Test("isNormal: true exactly when the path is its own normal form", arguments: [
        ("/", true), ("/index.html", true), ("/a/b/", true), ("/...", true), ("/a/.../b", true), ("/.well-known/x", true),
        ("/a/./b", false), ("/a/../b", false), ("//a", false), ("/a//", false), ("/.", false), ("/..", false),
        ("/a/.", false), ("/a/..", false), ("/a%20b", false), ("/caf\u{e9}", false), ("/a\\b", false), ("a", false), ("", false),
    ])
    func isNormal(_ path: String, _ expected: Bool) {
        #expect(URLPath.isNormal(path) == expected, "\(path)")
        if expected { #expect((try? URLPath.normalize(path).path) == path) }
    }

    @Test("A request's path and hasNormalPath, found when its target is set, agree with looking again", arguments: [
        ("/", "/", true), ("/a/b?x=1", "/a/b", true), ("/a/../b?x", "/a/../b", false), ("/a#frag", "/a", true),
        ("/a/.?q", "/a/.", false), ("/%41?b", "/%41", false), ("/a?b/../c", "/a", true), ("/x/..#y", "/x/..", false),
        ("/caf\u{e9}?", "/caf\u{e9}", false), ("http://h/p/q?r", "/p/q", true), ("http://h", "/", true), ("*", "*", false),
        // A URL in an origin-form target's query is query, not an authority.
        ("/x?u=http://h/admin/a", "/x", true), ("/index.html?ref=http://example.com", "/index.html", true),
    ])
    func requestShape(_ target: String, _ path: String, _ normal: Bool) {
        var request = HTTPRequest(method: .get, target: "/elsewhere/")
        request.target = target // set after init too: the shape follows the target
        #expect(request.path == path)
        #expect(request.hasNormalPath == normal && URLPath.isNormal(request.path) == normal)
        if normal { #expect((try? request.normalizedPath().path) == path) }
    }

    @Test("A normal origin-form path's first segment length, found with the target's shape", arguments: [
        ("/", 0), ("/a", 1), ("/abc/", 3), ("/users/1", 5), ("/abc?x/y", 3), ("/abc#x/y", 3), ("/a/b/c?d", 1),
        ("/a/../b", nil), ("//a", nil), ("/%61", nil), ("http://h/p/q", nil), ("*", nil),
("/x?u=http://h/admin/a", 1), ("/index.html?ref=http://example.com", 10),
        ("/" + String(repeating: "a", count: 65_534) + "/b", 65_534), ("/" + String(repeating: "a", count: 70_000), nil),
    ] as [(String, Int?)])
    func firstSegmentLength(_ target: String, _ expected: Int?) {
        #expect(HTTPRequest(method: .get, target: target).normalPathFirstSegmentLength == expected, "\(target)")
    }
}

/// A temporary document root with a secret next to it and a symlink that points at the secret.
final class TemporaryRoot {
    let base: String
    let root: String

    init() {
        var template = Array("/tmp/httpkit-root-XXXXXX".utf8CString)
        base = String(cString: mkdtemp(&template))
        root = base + "/www"
        mkdir(root, 0o755)
        mkdir(root + "/docs", 0o755)
        write(root + "/index.html", "<h1>home</h1>")
        write(root + "/docs/index.html", "<h1>docs</h1>")
        write(base + "/secret.txt", "secret")
        symlink(base + "/secret.txt", root + "/leak.txt")
        symlink(base, root + "/escape")
        symlink(root + "/index.html", root + "/alias.html")
        mkfifo(root + "/pipe", 0o644)
    }

    func write(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    deinit {
        for path in ["/www/leak.txt", "/www/escape", "/www/alias.html", "/www/pipe", "/www/index.html",
                     "/www/docs/index.html", "/secret.txt"] { unlink(base + path) }
        rmdir(root + "/docs")
        rmdir(root)
        rmdir(base)
    }
}

@Suite("DocumentRoot never resolves outside the root")
struct DocumentRootTests {
    @Test func resolution() throws {
        let temporary = TemporaryRoot()
        let root = try DocumentRoot(temporary.root, fileSystem: SystemFileSystem())
        #expect(try root.resolve("/index.html") == .file(path: root.path + "/index.html", size: 13))
        #expect(try root.resolve("/docs") == .directory(path: root.path + "/docs"))
        #expect(try root.resolve("/missing.html") == .notFound)
        #expect(try root.resolve("/alias.html") == .file(path: root.path + "/index.html", size: 13))
        guard case .forbidden = try root.resolve("/leak.txt") else { Issue.record("symlink to a file outside"); return }
        guard case .forbidden = try root.resolve("/escape/secret.txt") else { Issue.record("symlinked directory outside"); return }
        guard case .forbidden = try root.resolve("/pipe") else { Issue.record("a FIFO is not a regular file"); return }
        #expect(throws: RequestError.self) { try root.resolve("/../secret.txt") }
        #expect(throws: RequestError.self) { try root.resolve("/%2e%2e/secret.txt") }
    }

    /// A file system made of a table: what `DocumentRoot` decides follows from the answers alone.
    struct TableFileSystem: FileSystem {
        var files: [String: FileStatus]
        var links: [String: String] = [:]
        var unreadable: Set<String> = []
        func status(_ path: String) -> FileStatus? { files[canonicalPath(path) ?? path] }
        func canonicalPath(_ path: String) -> String? { links[path] ?? (files[path] == nil ? nil : path) }
        func isReadable(_ path: String, search: Bool) -> Bool { !unreadable.contains(path) }
    }

    @Test("without a disk: the decisions come from stat, realpath and access as the FileSystem answers them")
    func tableFileSystem() throws {
        let fs = TableFileSystem(
            files: ["/site": FileStatus(kind: .directory, size: 0), "/site/a.txt": FileStatus(kind: .regular, size: 5),
                    "/site/locked.txt": FileStatus(kind: .regular, size: 1), "/etc/passwd": FileStatus(kind: .regular, size: 9),
                    "/site/dev": FileStatus(kind: .other, size: 0)],
            links: ["/site/out": "/etc/passwd"], unreadable: ["/site/locked.txt"])
        let root = try DocumentRoot("/site", fileSystem: fs)
        #expect(try root.resolve("/a.txt") == .file(path: "/site/a.txt", size: 5))
        #expect(try root.resolve("/b.txt") == .notFound)
        #expect(try root.resolve("/out") == .forbidden(reason: "the path leads outside the document root (through a symlink)"))
        #expect(try root.resolve("/locked.txt") == .forbidden(reason: "the file is not readable"))
        #expect(try root.resolve("/dev") == .forbidden(reason: "not a regular file"))
        #expect(throws: DocumentRoot.Missing.self) { try DocumentRoot("/site/a.txt", fileSystem: fs) }
    }

    @Test func missingRoot() {
        #expect(throws: DocumentRoot.Missing.self) { try DocumentRoot("/definitely/not/here", fileSystem: SystemFileSystem()) }
    }

    @Test func staticHandler() throws {
        let temporary = TemporaryRoot()
        let handler = StaticFileHandler(root: try DocumentRoot(temporary.root, fileSystem: SystemFileSystem()))
        let ok = handler.respond(to: get("/"))
        #expect(ok.status.code == 200)
        #expect(ok.headers["Content-Type"] == "text/html; charset=utf-8")
        let redirect = handler.respond(to: get("/docs?x=1"))
        #expect(redirect.status.code == 301)
        #expect(redirect.headers["Location"] == "/docs/?x=1")
        #expect(handler.respond(to: get("/docs/")).status.code == 200)
        #expect(handler.respond(to: get("/index.html?cache=no")).status.code == 200)
        #expect(handler.respond(to: get("/nope")).status.code == 404)
        #expect(handler.respond(to: get("/leak.txt")).status.code == 403)
        #expect(handler.respond(to: get("/../secret.txt")).status.code == 400)
        let post = handler.respond(to: HTTPRequest(method: "POST", target: "/", headers: ["Host": "x"]))
        #expect(post.status.code == 405)
        #expect(post.headers["Allow"] == "GET, HEAD")
    }
}
