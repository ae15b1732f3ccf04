/// Content types for the common web file extensions; `application/octet-stream` for anything else.
public enum MIMEType {
    public static let fallback = "application/octet-stream"

    static let byExtension: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "json": "application/json", "xml": "application/xml",
        "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
        "gif": "image/gif", "webp": "image/webp", "ico": "image/x-icon", "avif": "image/avif",
        "wasm": "application/wasm", "woff": "font/woff", "woff2": "font/woff2",
        "pdf": "application/pdf", "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg",
        "wav": "audio/wav", "ogg": "audio/ogg", "oga": "audio/ogg", "ogv": "video/ogg", "m4a": "audio/mp4",
        "zip": "application/zip", "gz": "application/gzip",
    ]

    /// The content type for a file name or path, by its extension (case-insensitive).
    public static func forPath(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return fallback }
        let ext = name[name.index(after: dot)...].lowercased()
        return byExtension[ext] ?? fallback
    }

    /// Types that are compressed already, so gzip would only cost CPU.
    public static func isAlreadyCompressed(_ contentType: String) -> Bool {
        // Compared on bytes, case-insensitively, without lowercasing copies: it runs for every response
        // the gzip middleware sees.
        var essence = Substring(contentType)
        if let semicolon = essence.utf8.firstIndex(of: UInt8(ascii: ";")) { essence = essence[..<semicolon] }
        let type = essence.utf8.drop(while: ASCII.isWhitespace)
        func starts(with prefix: String) -> Bool {
            type.count >= prefix.utf8.count && zip(type, prefix.utf8).allSatisfy { ASCII.lowercased($0) == $1 }
        }
        func isExactly(_ name: String) -> Bool {
            var trimmed = type[...]
            while let last = trimmed.last, ASCII.isWhitespace(last) { trimmed = trimmed.dropLast() }
            return trimmed.count == name.utf8.count && starts(with: name)
        }
        return starts(with: "image/") && !isExactly("image/svg+xml")
            || starts(with: "video/") || starts(with: "audio/")
            || ["application/zip", "application/gzip", "font/woff", "font/woff2", "application/pdf"].contains(where: isExactly)
    }
}
