/// Serves the files under a document root: the handler every stage from `static` on shares, so the stages
/// differ only in how they handle connections.
///
/// GET and HEAD only (405 with `Allow` otherwise); `index.html` for a directory; 301 to the slash-terminated
/// URL for a directory named without one; the root's `404.html` as the not-found page; the query string is
/// ignored for the lookup.
public struct StaticFileHandler: Sendable {
    public let root: DocumentRoot
    public static let allowedMethods = "GET, HEAD"

    public init(root: DocumentRoot) {
        self.root = root
    }

    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard request.method.isGetOrHead else {
            var response = HTTPResponse.text(.methodNotAllowed,
                                             "405 Method Not Allowed: \(request.method) is not served here; use GET or HEAD\n")
            response.headers.set("Allow", Self.allowedMethods)
            return response
        }
        let resolution: DocumentRoot.Resolution
        do {
            resolution = try root.resolve(request.path)
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
            if let size = DocumentRoot.regularFileSize(index) { return fileResponse(path: index, size: size) }
            return notFound(request)
        case .notFound:
            return notFound(request)
        case .forbidden(let reason):
            return .text(.forbidden, "403 Forbidden: \(reason)\n")
        }
    }

    func fileResponse(path: String, size: Int) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": MIMEType.forPath(path)],
                     body: .file(path: path, length: size))
    }

    /// The root's `404.html` if it has one, otherwise a plain-text explanation.
    func notFound(_ request: HTTPRequest) -> HTTPResponse {
        let page = root.path + "/404.html"
        if let size = DocumentRoot.regularFileSize(page) {
            return HTTPResponse(status: .notFound, headers: ["Content-Type": "text/html; charset=utf-8"],
                                body: .file(path: page, length: size))
        }
        return .text(.notFound, "404 Not Found: nothing at \(request.path)\n")
    }
}
