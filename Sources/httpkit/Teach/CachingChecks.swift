import Foundation
import HTTPCore
import Sockets
import Stages

/// Checks for validators, conditional requests and ranges (RFC 9110 §8.8, §13, §14) on one small file of
/// the bundled www/: a plain GET first learns its ETag, Last-Modified and bytes, then each check sends
/// the request a cache or a download manager would send and compares the answer with what the RFC asks.
/// They run last in their stage's list, so that a server with an earlier mistake fails that check first.
extension CheckCatalog {
    /// The file the checks ask for: small, text, and in every stage's www/.
    static let cachedPath = "/hello.txt"

    /// What a plain GET of `cachedPath` returned.
    struct CachedFile {
        let etag: String?
        let lastModified: String?
        let body: [UInt8]
    }

    static func caching(_ stage: StageName) -> [Check] {
        [
            Check(stage: stage, name: "sends ETag and Last-Modified with a file (RFC 9110 §8.8)") { target in
                let (response, raw) = exchange(target, get(cachedPath))
                let etag = response?.headers["ETag"], lastModified = response?.headers["Last-Modified"]
                var missing: [String] = []
                if etag.flatMap({ EntityTag(parsing: Substring($0)) }) == nil { missing.append(etag.map { "ETag \($0) is not \"opaque\" or W/\"opaque\"" } ?? "no ETag") }
                if lastModified.flatMap(HTTPDate.parse) == nil { missing.append(lastModified.map { "Last-Modified '\($0)' is not an HTTP date" } ?? "no Last-Modified") }
                guard response?.status == 200, missing.isEmpty else {
                    return .fail(expected: "200 with ETag: \"…\" and Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT (IMF-fixdate)", got: raw,
                                 note: response == nil ? nil : missing.joined(separator: "; "), reproduce: "curl -i \(target.base)\(cachedPath)")
                }
                return .pass
            },
            Check(stage: stage, name: "answers If-None-Match with the file's ETag with 304, no body and the ETag (RFC 9110 §13.1.2)") { target in
                withCachedFile(target) { file in
                    guard let etag = file.etag else { return missingValidator("ETag", target) }
                    let reproduce = "curl -i -H \(shellQuoted("If-None-Match: \(etag)")) \(target.base)\(cachedPath)"
                    let (response, raw) = exchange(target, get(cachedPath, "If-None-Match: \(etag)\r\n"))
                    return notModified(response, raw, etag: etag, reproduce: reproduce,
                                       expected: "304 Not Modified with ETag: \(etag) and nothing after the head")
                }
            },
            Check(stage: stage, name: "answers If-Modified-Since with the file's Last-Modified with 304 (RFC 9110 §13.1.3)") { target in
                withCachedFile(target) { file in
                    guard let lastModified = file.lastModified else { return missingValidator("Last-Modified", target) }
                    let reproduce = "curl -i -H \(shellQuoted("If-Modified-Since: \(lastModified)")) \(target.base)\(cachedPath)"
                    let (response, raw) = exchange(target, get(cachedPath, "If-Modified-Since: \(lastModified)\r\n"))
                    return notModified(response, raw, etag: nil, reproduce: reproduce,
                                       expected: "304 Not Modified (the file has not changed since \(lastModified)) and nothing after the head")
                }
            },
            Check(stage: stage, name: "answers Range: bytes=0-9 with 206, Content-Range: bytes 0-9/LENGTH and 10 bytes (RFC 9110 §14.2)") { target in
                withCachedFile(target) { file in
                    let length = file.body.count
                    let (response, raw) = exchange(target, get(cachedPath, "Range: bytes=0-9\r\n"))
                    let contentRange = response?.headers["Content-Range"]
                    guard response?.status == 206, contentRange == "bytes 0-9/\(length)", response?.body == Array(file.body.prefix(10)) else {
                        let but: String?
                        if let response {
                            but = response.status != 206 ? "status \(response.status)"
                                : contentRange != "bytes 0-9/\(length)" ? "Content-Range: \(contentRange ?? "(none)")"
                                : "the body is \(WireAnalysis.bytesText(response.body.count)), not the file's first 10"
                        } else {
                            but = nil
                        }
                        return .fail(expected: "206 Partial Content, Content-Range: bytes 0-9/\(length), and the file's first 10 bytes", got: raw,
                                     note: but, reproduce: "curl -i -r 0-9 \(target.base)\(cachedPath)")
                    }
                    return .pass
                }
            },
            Check(stage: stage, name: "answers Range: bytes=LENGTH- with 416 and Content-Range: bytes */LENGTH (RFC 9110 §15.5.17)") { target in
                withCachedFile(target) { file in
                    let length = file.body.count
                    let (response, raw) = exchange(target, get(cachedPath, "Range: bytes=\(length)-\r\n"))
                    guard response?.status == 416, response?.headers["Content-Range"] == "bytes */\(length)" else {
                        let but: String? = response.map { "status \($0.status), Content-Range: \($0.headers["Content-Range"] ?? "(none)")" }
                        return .fail(expected: "416 Range Not Satisfiable with Content-Range: bytes */\(length) (byte \(length) is past the end of the file)",
                                     got: raw, note: but, reproduce: "curl -i -r \(length)- \(target.base)\(cachedPath)")
                    }
                    return .pass
                }
            },
            Check(stage: stage, name: "answers Range with a stale If-Range with 200 and the whole file (RFC 9110 §13.1.5)") { target in
                withCachedFile(target) { file in
                    let stale = "\"httpkit-check-stale\""
                    let (response, raw) = exchange(target, get(cachedPath, "Range: bytes=0-9\r\nIf-Range: \(stale)\r\n"))
                    guard response?.status == 200, response?.body == file.body else {
                        let but: String? = response.map { "status \($0.status), \(WireAnalysis.bytesText($0.body.count)) of \(file.body.count)" }
                        return .fail(expected: "200 OK with the whole \(WireAnalysis.bytesText(file.body.count)): the client's part is of an older version",
                                     got: raw, note: but, reproduce: "curl -i -r 0-9 -H \(shellQuoted("If-Range: \(stale)")) \(target.base)\(cachedPath)")
                    }
                    return .pass
                }
            },
        ]
    }

    /// Runs `body` with what a plain GET of the file returned; a failure if it did not return 200.
    static func withCachedFile(_ target: CheckTarget, _ body: (CachedFile) -> CheckOutcome) -> CheckOutcome {
        let (response, raw) = exchange(target, get(cachedPath))
        guard let response, response.status == 200 else {
            return .fail(expected: "200 for GET \(cachedPath), to learn its validators and length", got: raw, note: nil,
                         reproduce: "curl -i \(target.base)\(cachedPath)")
        }
        return body(CachedFile(etag: response.headers["ETag"], lastModified: response.headers["Last-Modified"], body: response.body))
    }

    static func missingValidator(_ name: String, _ target: CheckTarget) -> CheckOutcome {
        .fail(expected: "\(name) on GET \(cachedPath), for a client to send back", got: Reception(), note: "the 200 has no \(name)",
              reproduce: "curl -i \(target.base)\(cachedPath)")
    }

    /// A 304 with nothing after its head (and the same ETag, when one is given).
    static func notModified(_ response: ParsedResponse?, _ got: Reception, etag: String?,
                            reproduce: String, expected: String) -> CheckOutcome {
        guard let response else { return .fail(expected: expected, got: got, note: nil, reproduce: reproduce) }
        let raw = got.bytes
        let headEnd = raw.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound ?? raw.count
        let but: String?
        if response.status != 304 {
            but = "status \(response.status)"
        } else if raw.count > headEnd {
            but = "\(WireAnalysis.bytesText(raw.count - headEnd)) after the head: a 304 has no body (RFC 9110 §15.4.5)"
        } else if let etag, response.headers["ETag"] != etag {
            but = "ETag: \(response.headers["ETag"] ?? "(none)"): a 304 repeats the ETag the 200 would have sent"
        } else {
            but = nil
        }
        guard let but else { return .pass }
        return .fail(expected: expected, got: got, note: but, reproduce: reproduce)
    }

    /// `text` in single quotes for a shell (an ETag holds double quotes).
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacing("'", with: "'\\''") + "'"
    }
}
