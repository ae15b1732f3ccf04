/// Conditional requests (RFC 9110 §13) and range requests (§14) applied to a complete `200 OK` that
/// carries validators: the answer may become 304, 412, 206 or 416. Pure: headers and a body in, a
/// response out; the static-file handler and the router's middleware both call it.
///
/// The order is §13.2.2's: If-Match (or If-Unmodified-Since) first — a failed precondition is 412;
/// then If-None-Match (or If-Modified-Since) — a match is 304 for GET and HEAD; then Range, honoured
/// only for GET and only while If-Range still names this representation.
public enum ConditionalResponse {
    public static func apply(to response: consuming HTTPResponse, for request: HTTPRequest) -> HTTPResponse {
        // Most requests carry none of these headers: one pass over the names, nothing parsed.
        guard response.status.code == 200, request.headers.contains(where: { mayCondition($0.name) }) else {
            return consume response // moved out: a plain `return` copied it (its strings and arrays retained)
        }
        let etag = response.headers["ETag"].flatMap { EntityTag(parsing: Substring($0)) }
        let lastModified = response.headers["Last-Modified"].flatMap(HTTPDate.parse)

        // 1–2. Preconditions that protect a change: the representation must still be the one the client saw.
        if let condition = EntityTag.condition(request.headers.values("If-Match")) {
            let matches: Bool
            switch condition {
            case .any: matches = true // the representation exists
            case .tags(let tags): matches = etag.map { current in tags.contains { $0.strongMatches(current) } } ?? false
            case .malformed: matches = false
            }
            if !matches { return preconditionFailed(response, "If-Match does not name the current representation") }
        } else if let since = request.headers["If-Unmodified-Since"].flatMap(HTTPDate.parse), let lastModified, lastModified > since {
            return preconditionFailed(response, "the file changed after If-Unmodified-Since")
        }

        // 3–4. Validation of a cached copy: if the client's copy is current, say so without the body.
        if let condition = EntityTag.condition(request.headers.values("If-None-Match")) {
            let matches: Bool
            switch condition {
            case .any: matches = true
            case .tags(let tags): matches = etag.map { current in tags.contains { $0.weakMatches(current) } } ?? false
            case .malformed: matches = false
            }
            if matches {
                return request.method.isGetOrHead ? notModified(response)
                    : preconditionFailed(response, "If-None-Match names the current representation")
            }
        } else if request.method.isGetOrHead, let since = request.headers["If-Modified-Since"].flatMap(HTTPDate.parse),
                  since <= HTTPDate.currentSeconds(), let lastModified, lastModified <= since {
            // §13.1.3: If-Modified-Since is ignored when If-None-Match is present (handled by the else). A date
            // later than the server's clock is not one it sent (a client clock or a guess): ignored, as
            // Apache does, so a file changed "in the past" of that date is not wrongly called unmodified.
            return notModified(response)
        }

        // 5. Range: GET only (§14.2), on a response that says it takes ranges (`Accept-Ranges: bytes`: the
        // static files, not a JSON answer or a gzip variant) and whose length is known.
        guard request.method == .get, let range = request.headers["Range"],
              response.headers.contains("Accept-Ranges", token: "bytes"), let length = response.body.length else { return response }
        if let ifRange = request.headers["If-Range"]?.trimmingASCIIWhitespace() {
            // §13.1.5: an entity tag must match strongly; a date must equal Last-Modified exactly.
            let current: Bool
            if let tag = EntityTag(parsing: Substring(ifRange)) {
                current = etag.map { tag.strongMatches($0) } ?? false
            } else if let date = HTTPDate.parse(ifRange) {
                current = lastModified == date
            } else {
                current = false
            }
            if !current { return response } // the client's part is stale: the whole new representation
        }
        switch ByteRanges.decide(range, length: length) {
        case .whole:
            return response
        case .unsatisfiable:
            var refused = HTTPResponse.text(HTTPStatus(code: 416),
                "416 Range Not Satisfiable: \(RequestError.quote(range)) asks for nothing inside the \(length) bytes\n")
            refused.headers.set("Content-Range", "bytes */\(length)")
            copyValidators(from: response, to: &refused)
            return refused
        case .partial(let ranges):
            var partial = copy response
            partial.status = HTTPStatus(code: 206)
            if ranges.count == 1, let only = ranges.first {
                partial.headers.set("Content-Range", "bytes \(only.offset)-\(only.offset + only.length - 1)/\(length)")
                partial.body = slice(response.body, offset: only.offset, length: only.length)
                return partial
            }
            // Several ranges: multipart/byteranges (§14.6), each part with its own Content-Range.
            let boundary = "httpkit-" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
            let type = response.headers["Content-Type"]
            var parts: [ResponseBody] = []
            for range in ranges {
                var head = "\r\n--\(boundary)\r\n"
                if let type { head += "Content-Type: \(type)\r\n" }
                head += "Content-Range: bytes \(range.offset)-\(range.offset + range.length - 1)/\(length)\r\n\r\n"
                parts.append(.bytes(Array(head.utf8)))
                parts.append(slice(response.body, offset: range.offset, length: range.length))
            }
            parts.append(.bytes(Array("\r\n--\(boundary)--\r\n".utf8)))
            partial.headers.set("Content-Type", "multipart/byteranges; boundary=\(boundary)")
            partial.body = .parts(parts)
            return partial
        }
    }

    /// `If-…` or `Range`, by name.
    static func mayCondition(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        switch first | 0x20 {
        case UInt8(ascii: "i"): return name.utf8.count > 3 && ASCII.caseInsensitiveEquals(String(name.prefix(3)), "if-")
        case UInt8(ascii: "r"): return ASCII.caseInsensitiveEquals(name, "range")
        default: return false
        }
    }

    /// `length` bytes of `body` from `offset` (the body's own offset included for a file).
    static func slice(_ body: ResponseBody, offset: Int, length: Int) -> ResponseBody {
        switch body {
        case .file(let path, let start, _): return .file(path: path, offset: start + offset, length: length)
        case .bytes(let bytes): return .bytes(Array(bytes[offset..<(offset + length)]))
        default: return body
        }
    }

    /// 304 (§15.4.5): no body, and of the metadata only what a cache needs to update its stored copy.
    static func notModified(_ response: HTTPResponse) -> HTTPResponse {
        var answer = HTTPResponse(status: .notModified)
        for name in ["ETag", "Last-Modified", "Cache-Control", "Expires", "Vary", "Content-Location"] {
            for value in response.headers.values(name) { answer.headers.add(name, value) }
        }
        return answer
    }

    static func preconditionFailed(_ response: HTTPResponse, _ reason: String) -> HTTPResponse {
        var answer = HTTPResponse.text(HTTPStatus(code: 412), "412 Precondition Failed: \(reason)\n")
        copyValidators(from: response, to: &answer)
        return answer
    }

    static func copyValidators(from response: HTTPResponse, to answer: inout HTTPResponse) {
        for name in ["ETag", "Last-Modified"] {
            if let value = response.headers[name] { answer.headers.set(name, value) }
        }
    }
}
