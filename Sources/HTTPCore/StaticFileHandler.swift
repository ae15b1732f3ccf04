/// Serves the files under a document root: the handler every stage from `static` on shares, so the stages
/// differ only in how they handle connections.
///
/// GET and HEAD only (405 with `Allow` otherwise); `index.html` for a directory; 301 to the slash-terminated
/// URL for a directory named without one; the root's `404.html` as the not-found page; the query string is
/// ignored for the lookup.
///
/// Every file goes out with validators and caching metadata, as nginx and h2o send them: `ETag`,
/// `Last-Modified`, `Accept-Ranges: bytes` and `Cache-Control: max-age`. `respond` then applies the
/// request's conditions and range (304, 412, 206, 416); `representation` is the unconditional 200, for
/// a cache that stores it and applies the conditions per request.
public struct StaticFileHandler: Sendable {
    public let root: DocumentRoot
    /// Seconds a client may reuse a file without asking again (`Cache-Control: max-age`); nil sends none.
    public let maxAge: Int?
    public static let allowedMethods = "GET, HEAD"

    public init(root: DocumentRoot, maxAge: Int? = 60) {
        self.root = root
        self.maxAge = maxAge
    }

    /// The answer to `request`, conditions and ranges applied.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        ConditionalResponse.apply(to: representation(for: request), for: request)
    }

    /// The complete answer for `request`'s path, ignoring conditional and Range headers.
    public func representation(for request: HTTPRequest) -> HTTPResponse {
        guard request.method.isGetOrHead else {
            var response = HTTPResponse.text(.methodNotAllowed,
                                             "405 Method Not Allowed: \(request.method) is not served here; use GET or HEAD\n")
            response.headers.set("Allow", Self.allowedMethods)
            return response
        }
        let resolution: DocumentRoot.Resolution
        do {
            resolution = root.resolve(try request.normalizedPath().segments)
        } catch {
            return .error(error)
        }
        switch resolution {
        case .file(let path, let size):
            // `/index.html/` names a directory that does not exist; serving the file there would make
            // its relative links resolve under /index.html/.
            if request.path.hasSuffix("/") { return notFound(request) }
            return fileResponse(path: path, size: size)
        case .directory(let directory):
            guard request.path.hasSuffix("/") else {
                // A relative link in /docs/index.html must resolve against /docs/, not /.
                var location = request.path + "/"
                if let query = request.query { location += "?" + query }
                var response = HTTPResponse.text(.movedPermanently, "301 Moved Permanently: see \(location)\n")
                response.headers.set("Location", location)
                return response
            }
            let index = directory + "/index.html"
            if let size = root.regularFileSize(index) { return fileResponse(path: index, size: size) }
            return notFound(request)
        case .notFound:
            return notFound(request)
        case .forbidden(let reason):
            return .text(.forbidden, "403 Forbidden: \(reason)\n")
        }
    }

    func fileResponse(path: String, size: Int) -> HTTPResponse {
        var response = HTTPResponse(status: .ok, headers: ["Content-Type": MIMEType.forPath(path)],
                                    body: .file(path: path, length: size))
        guard let identity = root.identity(path) else { return response }
        response.body = .file(path: path, length: identity.size) // the size and the ETag from one stat
        response.headers.set("Last-Modified", HTTPDate.format(identity.modifiedSeconds))
        response.headers.set("ETag", Self.entityTag(identity).description)
        response.headers.set("Accept-Ranges", "bytes")
        if let maxAge { response.headers.set("Cache-Control", "max-age=\(maxAge)") }
        return response
    }

    /// A strong ETag from the modification time (to the nanosecond), the size and the inode, in hex:
    /// `"674d1b2f.1a2b3c4d-1a0-3f2e"`. nginx uses mtime and size; the inode adds a file replaced by
    /// a rename within the same instant, and the nanoseconds an edit within the same second. Nothing
    /// is read from the file, so the tag costs one stat.
    public static func entityTag(_ identity: DocumentRoot.FileIdentity) -> EntityTag {
        let modified = String(identity.modifiedSeconds, radix: 16) + "." + String(identity.modifiedNanoseconds, radix: 16)
        let size = String(identity.size, radix: 16)
        let inode = String(identity.inode, radix: 16)
        return EntityTag("\(modified)-\(size)-\(inode)")
    }

    /// The root's `404.html` if it has one, otherwise a plain-text explanation.
    func notFound(_ request: HTTPRequest) -> HTTPResponse {
        let page = root.path + "/404.html"
        if let size = root.regularFileSize(page) {
            return HTTPResponse(status: .notFound, headers: ["Content-Type": "text/html; charset=utf-8"],
                                body: .file(path: page, length: size))
        }
        return .text(.notFound, "404 Not Found: nothing at \(request.path)\n")
    }
}
