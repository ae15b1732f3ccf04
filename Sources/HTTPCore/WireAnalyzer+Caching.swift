import Glibc

/// Validators, conditional requests and ranges in the wire analysis (RFC 9110 §8.8, §13, §14, §15.3.7).
/// Each caching header gets detail rows saying what it means, decoded:
///
///     ETag: "674d1b2f.0-30-3f2e"                strong entity tag, opaque 674d1b2f.0-30-3f2e
///     If-Modified-Since: Sun, 06 Nov 1994 …    = 1994-11-06 08:49:37 UTC (IMF-fixdate) → 304 if not changed since
///     Range: bytes=0-0,-1                      0-0: offsets 0 to 0, 1 byte / -1: the last 1 byte
///     Content-Range: bytes 0-99/1000           first byte 0, last 99, complete length 1000 → 100 bytes here
///     Cache-Control: max-age=60, public        one row per directive
///
/// A 206, 304, 412 or 416 status line says what the status means, and a `multipart/byteranges` body
/// (§14.6) is split into its parts: each boundary, each part's headers (Content-Range decoded), its data
/// and the closing boundary. Warnings: a date that is not an HTTP date (or an obsolete format, or the
/// wrong weekday), a malformed tag or range, a weak tag where only strong comparison is done, a part whose
/// size disagrees with its Content-Range, a 206 or 416 without the Content-Range it needs.
extension WireAnalyzer {
    // MARK: Header fields

    /// Adds what a caching or range header says to its element: detail rows and warnings. Other fields
    /// are left alone.
    static func annotateCaching(_ element: inout WireElement, name: String, value: String, kind: WireMessage.Kind) {
        let (details, warnings): ([String], [String])
        switch name.lowercased() {
        case "etag": (details, warnings) = entityTag(value)
        case "last-modified": (details, warnings) = date(value, then: nil)
        case "if-modified-since": (details, warnings) = date(value, then: "304 if not changed since (GET, HEAD; ignored with If-None-Match)")
        case "if-unmodified-since": (details, warnings) = date(value, then: "412 if changed since (ignored with If-Match)")
        case "if-none-match": (details, warnings) = condition(value, then: "304 if one matches (weak comparison)", strongOnly: false)
        case "if-match": (details, warnings) = condition(value, then: "412 unless one matches (strong comparison)", strongOnly: true)
        case "if-range": (details, warnings) = ifRange(value)
        case "range": (details, warnings) = ranges(value)
        case "content-range": (details, warnings) = contentRangeNotes(value)
        case "accept-ranges": (details, warnings) = acceptRanges(value)
        case "cache-control": (details, warnings) = cacheControl(value, request: kind == .request)
        default: return
        }
        element.details += details
        element.warnings += warnings
    }

    static func entityTag(_ value: String) -> ([String], [String]) {
        guard let tag = EntityTag(parsing: Substring(value)) else {
            return ([], ["not an entity tag: expected \"opaque\" or W/\"opaque\" (RFC 9110 §8.8.3)"])
        }
        return ([describe(tag)], [])
    }

    static func describe(_ tag: EntityTag) -> String {
        let opaque = tag.opaque.isEmpty ? "(empty)" : tag.opaque
        return tag.isWeak ? "weak entity tag (W/: equivalent, not byte-for-byte), opaque \(opaque)" : "strong entity tag, opaque \(opaque)"
    }

    /// An HTTP date shown as parsed, with the format it was sent in and what the field asks for.
    static func date(_ value: String, then meaning: String?) -> ([String], [String]) {
        guard let seconds = HTTPDate.parse(value) else {
            return ([], ["'\(value)' is not an HTTP date (expected IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT); a recipient ignores it"])
        }
        let words = value.split(separator: " ")
        var warnings: [String] = []
        let format: String
        switch words.count {
        case 6:
            format = "IMF-fixdate"
            if let weekday = weekday(seconds), words[0].dropLast() != weekday {
                warnings.append("\(words[0].dropLast()) is not that date's weekday: \(weekday)")
            }
        case 4: format = "obsolete RFC 850 format"
        default: format = "obsolete asctime format"
        }
        if words.count != 6 { warnings.append("\(format): a sender must send IMF-fixdate (RFC 9110 §5.6.7)") }
        return (["= \(isoDate(seconds)) (\(format))" + (meaning.map { " → " + $0 } ?? "")], warnings)
    }

    /// `If-Match` / `If-None-Match`: `*` or a list of tags, and what the server does with them.
    static func condition(_ value: String, then meaning: String, strongOnly: Bool) -> ([String], [String]) {
        switch EntityTag.condition([value]) {
        case .any?:
            return (["* (any current representation) → \(meaning)"], [])
        case .tags(let tags)?:
            let list = tags.map { "\($0) (\($0.isWeak ? "weak" : "strong"))" }.joined(separator: ", ")
            let warnings = strongOnly && tags.contains(where: \.isWeak)
                ? ["a weak tag never matches here: If-Match compares strongly (RFC 9110 §13.1.1)"] : []
            return (["\(tags.count == 1 ? "tag" : "\(tags.count) tags") \(list) → \(meaning)"], warnings)
        case .malformed?, nil:
            return ([], ["not * or a list of entity tags (\"…\" or W/\"…\", comma-separated) (RFC 9110 §13.1.1)"])
        }
    }

    /// `If-Range`: an entity tag or a date; the range only while it still names the current representation.
    static func ifRange(_ value: String) -> ([String], [String]) {
        if let tag = EntityTag(parsing: Substring(value)) {
            let warnings = tag.isWeak ? ["a weak tag never matches in If-Range (strong comparison, RFC 9110 §13.1.5)"] : []
            return (["tag \(tag) → the range if it is the current ETag (strong comparison), else 200 with the whole file"], warnings)
        }
        if let seconds = HTTPDate.parse(value) {
            return (["date = \(isoDate(seconds)) → the range if Last-Modified is exactly this, else 200 with the whole file"], [])
        }
        return ([], ["neither an entity tag nor an HTTP date: the server sends 200 with the whole file"])
    }

    /// `Range: bytes=…`: each range listed, each malformed one warned about.
    static func ranges(_ value: String) -> ([String], [String]) {
        let trimmed = value.trimmingASCIIWhitespace()
        guard let equals = trimmed.firstIndex(of: "=") else {
            return ([], ["not unit=ranges: expected bytes=first-last (RFC 9110 §14.1.2)"])
        }
        let unit = String(trimmed[..<equals])
        guard ASCII.caseInsensitiveEquals(unit, "bytes") else {
            return ([], ["unit '\(unit)' is not bytes: a server ignores the Range and sends 200"])
        }
        let items = trimmed[trimmed.index(after: equals)...].split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        var details: [String] = [], warnings: [String] = []
        for item in items {
            guard let specs = ByteRanges.parse("bytes=" + item), specs.count == 1, let spec = specs.first else {
                let parts = item.split(separator: "-", omittingEmptySubsequences: false)
                let backwards = parts.count == 2 && Int(parts[0]).flatMap { first in Int(parts[1]).map { $0 < first } } == true
                warnings.append("'\(item)' is not a byte range (\(backwards ? "last before first" : "first-last, first- or -count")): the whole Range is ignored → 200")
                continue
            }
            switch spec {
            case .fromTo(let first, let last?): details.append("\(item): offsets \(first) to \(last), \(WireAnalysis.bytesText(last - first + 1))")
            case .fromTo(let first, nil): details.append("\(item): from offset \(first) to the end")
            case .suffix(let count): details.append("\(item): the last \(WireAnalysis.bytesText(count))")
            }
        }
        if items.isEmpty { warnings.append("no ranges after 'bytes='") }
        if items.count > 1 && warnings.isEmpty { details.insert("\(items.count) ranges → a 206 answers with a multipart/byteranges body", at: 0) }
        return (details, warnings)
    }

    /// `Content-Range` of a 206 (or of a part), or `bytes */length` of a 416 (RFC 9110 §14.4).
    struct ContentRange: Equatable {
        /// nil for `bytes */length`: no requested range was satisfiable.
        var range: ClosedRange<Int>?
        /// The complete length; nil when the server sent `*` (unknown).
        var total: Int?
    }

    /// nil when `value` is not `bytes first-last/length`, `bytes first-last/*` or `bytes */length`.
    static func contentRange(_ value: String) -> ContentRange? {
        let trimmed = value.trimmingASCIIWhitespace()
        guard trimmed.count > 6, ASCII.caseInsensitiveEquals(String(trimmed.prefix(6)), "bytes ") else { return nil }
        let halves = trimmed.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else { return nil }
        func number(_ text: Substring) -> Int? {
            !text.isEmpty && text.count <= 18 && text.utf8.allSatisfy(ASCII.isDigit) ? Int(text) : nil
        }
        let total: Int?
        if halves[1] == "*" { total = nil } else if let length = number(halves[1]) { total = length } else { return nil }
        if halves[0] == "*" { return total.map { ContentRange(range: nil, total: $0) } }
        let ends = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let first = number(ends[0]), let last = number(ends[1]), last >= first else { return nil }
        return ContentRange(range: first...last, total: total)
    }

    static func contentRangeNotes(_ value: String) -> ([String], [String]) {
        guard let decoded = contentRange(value) else {
            return ([], ["not 'bytes first-last/length' or 'bytes */length' (RFC 9110 §14.4)"])
        }
        guard let range = decoded.range else {
            return (["unsatisfiable: no requested range is inside the \(WireAnalysis.bytesText(decoded.total ?? 0)) (the answer of a 416)"], [])
        }
        let length = decoded.total.map(String.init) ?? "unknown (*)"
        var warnings: [String] = []
        if let total = decoded.total, range.upperBound >= total {
            warnings.append("last byte \(range.upperBound) is past the end of a \(total)-byte representation")
        }
        return (["first byte \(range.lowerBound), last \(range.upperBound), complete length \(length) → \(WireAnalysis.bytesText(range.count)) here"], warnings)
    }

    static func acceptRanges(_ value: String) -> ([String], [String]) {
        switch value.lowercased() {
        case "bytes": return (["the server takes Range: bytes=… requests (206 Partial Content)"], [])
        case "none": return (["the server takes no range requests"], [])
        default: return (["'\(value)': a range unit other than bytes"], [])
        }
    }

    /// One row per directive (RFC 9111 §5.2), in the sense it has in a request or in a response.
    static func cacheControl(_ value: String, request: Bool) -> ([String], [String]) {
        var details: [String] = [], warnings: [String] = []
        for directive in EntityTag.splitList(value) {
            let pair = directive.split(separator: "=", maxSplits: 1).map { String($0).trimmingASCIIWhitespace() }
            let name = pair[0].lowercased()
            let argument = pair.count > 1 ? pair[1] : nil
            let seconds = argument.flatMap { $0.utf8.allSatisfy(ASCII.isDigit) && $0.count <= 18 ? Int($0) : nil }
            let meaning: String
            switch name {
            case "max-age": meaning = request ? "the client accepts a stored copy at most \(duration(seconds)) old"
                                              : "fresh for \(duration(seconds)): reused without asking until then"
            case "s-maxage": meaning = "shared caches: fresh for \(duration(seconds))"
            case "no-cache": meaning = request ? "the client wants an answer from the server, not a stored copy"
                                               : "stored, but revalidated (a conditional request) before every reuse"
            case "no-store": meaning = "nothing of this exchange may be stored"
            case "public": meaning = "any cache may store it, shared ones too"
            case "private": meaning = "only the user's own cache may store it"
            case "must-revalidate": meaning = "once stale, never reused without revalidating"
            case "proxy-revalidate": meaning = "shared caches: once stale, never reused without revalidating"
            case "immutable": meaning = "never changes: no revalidation while fresh (RFC 8246)"
            case "no-transform": meaning = "no intermediary may transform it (no recompression)"
            case "stale-while-revalidate": meaning = "may be reused stale for \(duration(seconds)) while revalidating (RFC 5861)"
            case "stale-if-error": meaning = "may be reused stale for \(duration(seconds)) when the server fails (RFC 5861)"
            case "max-stale": meaning = "the client accepts a stale copy" + (argument == nil ? "" : ", up to \(duration(seconds)) stale")
            case "min-fresh": meaning = "the client wants a copy fresh for at least \(duration(seconds)) more"
            case "only-if-cached": meaning = "a stored copy or 504, never the server"
            default: meaning = "not a standard directive: caches ignore it"
            }
            details.append("\(directive): \(meaning)")
            let needsSeconds: Set = ["max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "min-fresh"]
            if (needsSeconds.contains(name) || (name == "max-stale" && argument != nil)) && seconds == nil {
                warnings.append("\(name) needs a number of seconds, got '\(argument ?? "")'")
            }
        }
        if details.isEmpty { warnings.append("no directives") }
        return (details, warnings)
    }

    // MARK: Status

    /// What a 206, 304, 412 or 416 means, on its status line, and the Content-Range each needs.
    static func annotateCaching(status: Int, headers: HTTPHeaders, startLine: inout WireElement, endOfHeaders: inout WireElement) {
        let multipart = byterangesBoundary(headers["Content-Type"]) != nil
        let contentRange = headers["Content-Range"].flatMap(contentRange)
        switch status {
        case 206:
            startLine.details.append("only the requested bytes: " + (multipart ? "several ranges, one part each (multipart/byteranges)" : "the range in Content-Range"))
            if multipart && headers.contains("Content-Range") {
                endOfHeaders.warnings.append("a multipart/byteranges response must not have Content-Range in its header; each part has its own (RFC 9110 §15.3.7.2)")
            } else if !multipart && contentRange?.range == nil {
                endOfHeaders.warnings.append("a 206 needs Content-Range: bytes first-last/length, or a multipart/byteranges body (RFC 9110 §15.3.7)")
            }
            let length = headers["Content-Length"].flatMap { Int($0) }
            if !multipart, let range = contentRange?.range, let length, length != range.count {
                endOfHeaders.warnings.append("Content-Range says \(WireAnalysis.bytesText(range.count)), Content-Length \(length)")
            }
        case 304:
            startLine.details.append("the client's stored copy is still current: no body follows, only updated metadata (RFC 9110 §15.4.5)")
        case 412:
            startLine.details.append("If-Match or If-Unmodified-Since did not hold: nothing was done (RFC 9110 §15.5.13)")
        case 416:
            startLine.details.append("no requested range lies inside the representation (RFC 9110 §15.5.17)")
            if contentRange.map({ $0.range == nil && $0.total != nil }) != true {
                endOfHeaders.warnings.append("a 416 should say the length: Content-Range: bytes */LENGTH")
            }
        default:
            break
        }
    }

    // MARK: multipart/byteranges

    /// The boundary of a `multipart/byteranges` Content-Type; "" when the parameter is missing, nil for
    /// any other type.
    static func byterangesBoundary(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let parameters = contentType.split(separator: ";").map { $0.trimmingASCIIWhitespace() }
        guard let type = parameters.first, ASCII.caseInsensitiveEquals(type, "multipart/byteranges") else { return nil }
        for parameter in parameters.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, ASCII.caseInsensitiveEquals(pair[0].trimmingASCIIWhitespace(), "boundary") else { continue }
            var value = pair[1].trimmingASCIIWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return ""
    }

    /// Body bytes: a `multipart/byteranges` body split into its parts, any other as `bodyElements` shows it.
    func bodyElements(_ range: Range<Int>, gzipped: Bool, headers: HTTPHeaders) -> [WireElement] {
        guard !gzipped, !range.isEmpty, let boundary = Self.byterangesBoundary(headers["Content-Type"]) else {
            return bodyElements(range, gzipped: gzipped)
        }
        guard !boundary.isEmpty else {
            var elements = bodyElements(range, gzipped: false)
            elements[0].warnings.append("multipart/byteranges without a boundary parameter: the parts cannot be told apart")
            return elements
        }
        return byterangesElements(range, boundary: boundary)
    }

    /// RFC 9110 §14.6 and RFC 2046 §5.1.1: `--boundary` lines (the CRLF before one belongs to it), each
    /// part's header fields and data, and `--boundary--` at the end.
    func byterangesElements(_ body: Range<Int>, boundary: String) -> [WireElement] {
        let delimiter = Array("--\(boundary)".utf8)
        let end = body.upperBound
        guard let first = bytes[body].firstRange(of: delimiter)?.lowerBound else {
            var elements = bodyElements(body, gzipped: false)
            elements[0].warnings.append("no '--\(boundary)' in the body: the parts cannot be found")
            return elements
        }
        var elements: [WireElement] = []
        var offset = body.lowerBound
        let firstStart = first - 2 >= offset && bytes[first - 2] == ASCII.cr && bytes[first - 1] == ASCII.lf ? first - 2 : first
        if firstStart > offset {
            elements.append(WireElement(range: offset..<firstStart, note: "preamble (\(WireAnalysis.bytesText(firstStart - offset))), ignored",
                                        role: .body, isBody: true, bodyDescription: "preamble"))
        }
        offset = firstStart
        var part = 0
        while offset < end {
            // `offset` is at a delimiter, with or without the CRLF before it.
            let markStart = bytes[offset] == ASCII.cr ? offset + 2 : offset
            let afterMark = markStart + delimiter.count
            if afterMark + 2 <= end, bytes[afterMark] == UInt8(ascii: "-"), bytes[afterMark + 1] == UInt8(ascii: "-") {
                var closeEnd = afterMark + 2
                if closeEnd + 2 <= end, bytes[closeEnd] == ASCII.cr, bytes[closeEnd + 1] == ASCII.lf { closeEnd += 2 }
                elements.append(WireElement(range: offset..<closeEnd, note: "closing boundary: end of the \(part) part\(part == 1 ? "" : "s")", role: .boundary))
                if closeEnd < end {
                    elements.append(WireElement(range: closeEnd..<end, note: "epilogue (\(WireAnalysis.bytesText(end - closeEnd))), ignored",
                                                role: .body, isBody: true, bodyDescription: "epilogue"))
                }
                return elements
            }
            guard let mark = boundedLine(at: markStart, end: end) else {
                var cut = WireElement(range: offset..<end, note: "boundary?", role: .boundary)
                cut.warnings.append("no line end after the boundary: the body is cut off")
                elements.append(cut)
                return elements
            }
            part += 1
            var markElement = WireElement(range: offset..<mark.next, note: "part \(part) boundary  --\(boundary)", role: .boundary)
            if mark.bareLF { markElement.warnings.append("bare LF (expected CRLF)") }
            elements.append(markElement)
            offset = mark.next

            // The part's header fields, up to an empty line.
            var contentRange: ContentRange?
            var headersEnded = false
            while let field = boundedLine(at: offset, end: end) {
                if field.content.isEmpty {
                    var blank = WireElement(range: offset..<field.next, note: "part \(part) end of headers", role: .boundary)
                    if field.bareLF { blank.warnings.append("bare LF (expected CRLF)") }
                    elements.append(blank)
                    offset = field.next
                    headersEnded = true
                    break
                }
                let line = text(field.content)
                let name = String(line.prefix { $0 != ":" }).trimmingASCIIWhitespace()
                let value = String(line.drop { $0 != ":" }.dropFirst()).trimmingASCIIWhitespace()
                var element = WireElement(range: offset..<field.next, note: "part \(part) header  \(name)", role: .header)
                Self.annotateCaching(&element, name: name, value: value, kind: .response)
                if ASCII.caseInsensitiveEquals(name, "Content-Range") { contentRange = Self.contentRange(value) }
                if field.bareLF { element.warnings.append("bare LF (expected CRLF)") }
                elements.append(element)
                offset = field.next
            }
            guard headersEnded else {
                if offset < end {
                    var rest = WireElement(range: offset..<end, note: "part \(part) header?", role: .header)
                    rest.warnings.append("no empty line: the part's header section is cut off")
                    elements.append(rest)
                } else {
                    elements[elements.count - 1].warnings.append("no empty line: the part's header section is cut off")
                }
                return elements
            }

            // The data, up to the CRLF of the next delimiter.
            let next = bytes[offset..<end].firstRange(of: ASCII.crlf + delimiter)?.lowerBound
            let dataEnd = next ?? end
            var data = WireElement(range: offset..<dataEnd, note: "part \(part) data (\(WireAnalysis.bytesText(dataEnd - offset)))",
                                   role: .body, isBody: true, bodyDescription: "part \(part) data")
            if let range = contentRange?.range {
                if range.count != dataEnd - offset {
                    data.warnings.append("Content-Range \(range.lowerBound)-\(range.upperBound) says \(WireAnalysis.bytesText(range.count)), the part has \(dataEnd - offset)")
                }
            } else {
                data.warnings.append("a part without a valid Content-Range: bytes first-last/length (RFC 9110 §14.6)")
            }
            if next == nil { data.warnings.append("no closing '--\(boundary)--': the body is cut off") }
            elements.append(data)
            offset = dataEnd
        }
        return elements
    }

    /// A line that ends before `end` (a part's lines must not run past its body).
    func boundedLine(at start: Int, end: Int) -> (content: Range<Int>, next: Int, bareLF: Bool)? {
        guard start < end, let found = line(at: start), found.next <= end else { return nil }
        return found
    }

    // MARK: Formatting

    /// `1994-11-06 08:49:37 UTC`: a parsed date, unambiguous to read.
    static func isoDate(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }

    static func weekday(_ seconds: Int) -> String? {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        return ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][Int(parts.tm_wday)]
    }

    /// `60 s (1 min)`; `? s` when the argument was not a number.
    static func duration(_ seconds: Int?) -> String {
        guard let seconds else { return "? s" }
        for (unit, name) in [(86_400, "d"), (3_600, "h"), (60, "min")] where seconds >= unit && seconds % unit == 0 {
            return "\(seconds) s (\(seconds / unit) \(name))"
        }
        return "\(seconds) s"
    }
}
