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
        // Compared on the string's bytes, case-insensitively, without copies: it runs for every response the
        // gzip middleware sees. The essence is the type/subtype before any `;` parameters, trimmed.
        contentType.withUTF8Octets(isAlreadyCompressed(bytes:))
    }

    private static func isAlreadyCompressed(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let parameters = bytes.firstIndex(of: ASCII.semicolon) ?? bytes.count
        let essence = ASCII.trimmingWhitespace(UnsafeBufferPointer(rebasing: bytes[..<parameters]))
        guard !essence.isEmpty else { return false }
        // The first letter picks the few names to compare (text/… and application/… are the usual answers).
        switch ASCII.lowercased(essence[0]) {
        case UInt8(ascii: "i"):
            return ASCII.startsIgnoringCase(essence, "image/") && !ASCII.equalsIgnoringCase(essence, "image/svg+xml")
        case UInt8(ascii: "v"): return ASCII.startsIgnoringCase(essence, "video/")
        case UInt8(ascii: "a"):
            return ASCII.startsIgnoringCase(essence, "audio/")
                || ASCII.equalsIgnoringCase(essence, "application/zip") || ASCII.equalsIgnoringCase(essence, "application/gzip")
                || ASCII.equalsIgnoringCase(essence, "application/pdf")
        case UInt8(ascii: "f"): return ASCII.equalsIgnoringCase(essence, "font/woff") || ASCII.equalsIgnoringCase(essence, "font/woff2")
        default: return false
        }
    }
}
