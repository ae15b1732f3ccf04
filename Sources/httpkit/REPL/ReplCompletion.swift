import Foundation

/// What the REPL's tab key offers. Words (commands, methods, header names) by prefix, one spelling each;
/// paths only from the server's site: the links and Locations seen in its responses, and the files under
/// `--root` when the REPL is told it. Never the local disk: `get /h<Tab>` is about the server's /hello.txt,
/// not this machine's /home.
enum ReplCompletion {
    /// The site's paths known so far (guarded by being used from the REPL's one thread).
    nonisolated(unsafe) static var paths: Set<String> = []

    /// The candidates for `prefix`. A prefix that starts with `/` is a path: the site's paths that start
    /// with it. Otherwise the words that start with it, ignoring case, one per spelling: where `get` and
    /// `GET` both match, the one whose case matches what was typed (`ge` → `get`, `GE` → `GET`), so that
    /// libedit has one candidate to complete rather than two with nothing in common.
    static func candidates(_ prefix: String, words: [String], paths: Set<String>) -> [String] {
        if prefix.hasPrefix("/") { return paths.filter { $0.hasPrefix(prefix) }.sorted() }
        var chosen: [String: String] = [:]
        var order: [String] = []
        for word in words where word.lowercased().hasPrefix(prefix.lowercased()) {
            let key = word.lowercased()
            if let existing = chosen[key] {
                if word.hasPrefix(prefix) && !existing.hasPrefix(prefix) { chosen[key] = word }
            } else {
                chosen[key] = word
                order.append(key)
            }
        }
        return order.map { chosen[$0]! }
    }

    /// Same-site paths a response names: its Location header, and href, src and action attributes in its
    /// body. Relative links are resolved against `requestPath`; other sites' links and fragments are left out.
    static func paths(inResponse bytes: [UInt8], requestPath: String = "/") -> Set<String> {
        let text = String(decoding: bytes, as: UTF8.self)
        var found: Set<String> = []
        let directory = requestPath.hasSuffix("/") ? requestPath : String(requestPath[...(requestPath.lastIndex(of: "/") ?? requestPath.startIndex)])
        func add(_ link: Substring) {
            let link = String(link.prefix { $0 != "#" && $0 != "?" })
            guard !link.isEmpty, !link.hasPrefix("//"), !link.contains(":") || link.hasPrefix("/") else { return }
            found.insert(link.hasPrefix("/") ? link : directory + link)
        }
        for match in text.matches(of: #/(?i)(?:href|src|action)\s*=\s*["']([^"']+)["']/#) { add(match.1) }
        for match in text.matches(of: #/(?im)^Location:[ \t]*(?:https?://[^/\s]+)?(/[^\s]*)/#) { add(match.1) }
        return found
    }

    /// Every file and folder under `root`, as the paths a server serving it would answer (folders end in /).
    static func paths(underRoot root: String) -> Set<String> {
        var found: Set<String> = ["/"]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return found }
        while let relative = enumerator.nextObject() as? String, found.count < 10_000 {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory) else { continue } // gone meanwhile
            found.insert("/" + relative + (isDirectory.boolValue ? "/" : ""))
        }
        return found
    }
}
