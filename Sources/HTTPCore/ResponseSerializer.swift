/// Turns a response into the bytes of its head (RFC 9112 §4–6):
///
///     HTTP/1.1 200 OK␍␊
///     Date: Sun, 06 Nov 1994 08:49:37 GMT␍␊
///     Content-Type: text/plain; charset=utf-8␍␊
///     Content-Length: 14␍␊
///     Connection: close␍␊
///     ␍␊
///
/// It owns the framing headers (Date, Content-Length, Transfer-Encoding, Connection), so a handler cannot
/// get them wrong, and it decides whether a body goes out at all: never for HEAD, 1xx, 204 or 304.
public struct ResponseSerializer: Sendable {
    public var serverName: String?

    public init(serverName: String? = "httpkit") {
        self.serverName = serverName
    }

    /// The head bytes for `response`, answering a request with `requestMethod`.
    /// - Parameters:
    ///   - keepAlive: whether the connection stays open afterwards (`Connection: close` is sent when not).
    ///   - version: the request's version; an HTTP/1.0 client that keeps the connection gets `Connection: keep-alive`.
    ///   - date: the IMF-fixdate to send, from `HTTPDate`.
    public func head(for response: HTTPResponse, requestMethod: HTTPMethod, version: HTTPVersion = .http1_1,
                     keepAlive: Bool, framing: BodyFraming? = nil, date: String) -> [UInt8] {
        let framing = framing ?? BodyFraming.choose(for: response.body, version: version)
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: response.status.statusLine)
        appendField(&out, "Date", date)
        if let serverName { appendField(&out, "Server", serverName) }
        // A 101 names the protocol it switches to in `Connection: upgrade` and `Upgrade` (RFC 9110 §7.8);
        // every other response's Connection header is the serializer's to write.
        let switching = response.status.code == 101
        if let wire = response.headers.wire, !switching {
            out.append(contentsOf: wire) // a cached response's field lines, made once (HTTPHeaders.prepareWire)
        } else {
            for field in response.headers where !Self.isFramingHeader(field.name)
                || (switching && ASCII.caseInsensitiveEquals(field.name, "Connection")) {
                appendField(&out, field.name, field.value)
            }
        }
        if response.status.allowsBody {
            switch framing {
            case .contentLength(let length): appendField(&out, "Content-Length", String(length))
            case .none: appendField(&out, "Content-Length", "0")
            case .chunked: appendField(&out, "Transfer-Encoding", "chunked")
            case .untilClose: break
            }
        }
        if switching {
            // The connection goes on in the new protocol: no Connection: close.
        } else if !keepAlive || framing == .untilClose {
            appendField(&out, "Connection", "close")
        } else if version == .http1_0 {
            appendField(&out, "Connection", "keep-alive")
        }
        out.append(contentsOf: ASCII.crlf)
        return out
    }

    /// Whether the body bytes follow the head: not for HEAD, and not for statuses that have no body.
    public func sendsBody(_ response: HTTPResponse, requestMethod: HTTPMethod) -> Bool {
        response.sendsBody(answering: requestMethod)
    }

    /// Head and in-memory body in one buffer, for one write. A file body is not included.
    public func serialize(_ response: HTTPResponse, requestMethod: HTTPMethod, version: HTTPVersion = .http1_1,
                          keepAlive: Bool, date: String) -> [UInt8] {
        var out = head(for: response, requestMethod: requestMethod, version: version, keepAlive: keepAlive, date: date)
        if sendsBody(response, requestMethod: requestMethod), case .bytes(let bytes) = response.body {
            out.append(contentsOf: bytes)
        }
        return out
    }

    static func isFramingHeader(_ name: String) -> Bool {
        // Checked once per response header on the hot path: by length first, then the one candidate.
        switch name.utf8.count {
        case 4: return ASCII.caseInsensitiveEquals(name, "Date")
        case 6: return ASCII.caseInsensitiveEquals(name, "Server")
        case 10: return ASCII.caseInsensitiveEquals(name, "Connection")
        case 14: return ASCII.caseInsensitiveEquals(name, "Content-Length")
        case 17: return ASCII.caseInsensitiveEquals(name, "Transfer-Encoding")
        default: return false
        }
    }

    private func appendField(_ out: inout [UInt8], _ name: String, _ value: String) {
        out.appendUTF8(name)
        out.append(ASCII.colon)
        out.append(ASCII.space)
        out.appendUTF8(value)
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }
}

extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes with one copy of its contiguous storage (a native String always has
    /// one), instead of iterating the UTF8View byte by byte: the response head is built from a dozen strings.
    @inlinable
    public mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
