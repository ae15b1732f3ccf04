import HTTPCore

/// The pure parts of the REPL's input: escapes for raw mode and the request a typed head or shorthand
/// becomes. Kept apart from the session (no terminal, no socket) so they are tested on bytes.
enum ReplInput {
    /// Decodes `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` in a raw-mode line; anything else is literal.
    static func decodeEscapes(_ line: String) throws(RequestError) -> [UInt8] {
        let bytes = Array(line.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                out.append(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            switch next {
            case UInt8(ascii: "r"): out.append(ASCII.cr)
            case UInt8(ascii: "n"): out.append(ASCII.lf)
            case UInt8(ascii: "t"): out.append(ASCII.tab)
            case UInt8(ascii: "0"): out.append(0)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "x"):
                guard index + 3 < bytes.count, let high = ASCII.hexValue(bytes[index + 2]), let low = ASCII.hexValue(bytes[index + 3]) else {
                    throw RequestError(.badRequest, "\\x needs two hex digits, as in \\x00 or \\x7f")
                }
                out.append(UInt8(high * 16 + low))
                index += 4
                continue
            default:
                throw RequestError(.badRequest, "unknown escape '\\\(Character(UnicodeScalar(next)))' (use \\r \\n \\t \\0 \\\\ or \\xHH)")
            }
            index += 2
        }
        return out
    }

    /// The methods the shorthands know: `get /path`, `post /path BODY`, ...
    static let shorthandMethods = ["get", "head", "post", "put", "delete", "options", "patch"]

    /// `get /path` → ("GET", "/path", nil); `post /api/echo {"a":1}` → ("POST", "/api/echo", body).
    static func shorthand(_ line: String) -> (method: String, target: String, body: [UInt8]?)? {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, shorthandMethods.contains(String(parts[0])) else { return nil }
        return (parts[0].uppercased(), String(parts[1]), parts.count == 3 ? Array(parts[2].utf8) : nil)
    }

    /// Whether a line starts a typed request: `METHOD SP ...` with an uppercase token method.
    static func startsRequest(_ line: String) -> Bool {
        guard let space = line.firstIndex(of: " ") else { return false }
        let method = line[..<space]
        return !method.isEmpty && method.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || $0 == UInt8(ascii: "-") }
    }

    /// The bytes of a typed request: each line ends in CRLF, Host is added when missing (HTTP/1.1), and an
    /// attached body gets a Content-Length unless the lines already frame it.
    static func buildRequest(lines: [String], host: String, body: [UInt8]?) -> [UInt8] {
        var lines = lines
        let headerNames = lines.dropFirst().compactMap { $0.split(separator: ":", maxSplits: 1).first?.trimmingASCIIWhitespace().lowercased() }
        if !headerNames.contains("host") { lines.insert("Host: \(host)", at: 1) }
        if let body, !headerNames.contains("content-length"), !headerNames.contains("transfer-encoding") {
            lines.append("Content-Length: \(body.count)")
        }
        var out: [UInt8] = []
        for line in lines {
            out.append(contentsOf: line.utf8)
            out.append(contentsOf: ASCII.crlf)
        }
        out.append(contentsOf: ASCII.crlf)
        out.append(contentsOf: body ?? [])
        return out
    }

    /// The request a shorthand stands for, with the headers a plain client sends.
    static func buildShorthand(method: String, target: String, host: String, body: [UInt8]?) -> [UInt8] {
        var lines = ["\(method) \(target) HTTP/1.1", "Host: \(host)", "User-Agent: httpkit-repl"]
        if let body, !body.isEmpty, body.first == UInt8(ascii: "{") || body.first == UInt8(ascii: "[") {
            lines.append("Content-Type: application/json")
        }
        return buildRequest(lines: lines, host: host, body: body ?? (method == "POST" || method == "PUT" ? [] : nil))
    }

    /// The frame `:frame KEY=VALUE …` asks for: `opcode=N|text|binary|close|ping|pong|continuation`,
    /// `fin`, `rsv1`, `rsv2`, `rsv3` and `mask` as 0 or 1, and `payload=` last (the rest of the line, with
    /// the raw-mode escapes). Unset: a final, masked, empty text frame. `key` masks it when mask=1.
    static func frame(_ argument: String, key: [UInt8]) throws(RequestError) -> WebSocketFrame {
        var frame = WebSocketFrame(opcode: .text, maskingKey: key)
        var rest = Substring(argument)
        while let token = rest.split(separator: " ", maxSplits: 1).first {
            if token.hasPrefix("payload=") {
                let start = rest.range(of: "payload=")!.upperBound
                frame.payload = try decodeEscapes(String(rest[start...]))
                break
            }
            rest = rest.drop { $0 == " " }.dropFirst(token.count).drop { $0 == " " }
            let pair = token.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw RequestError(.badRequest, "'\(token)' is not KEY=VALUE (such as opcode=1 fin=0 payload=hi)") }
            let (name, value) = (pair[0].lowercased(), pair[1])
            if name == "opcode" {
                let names: [String: WebSocketOpcode] = ["continuation": .continuation, "text": .text, "binary": .binary,
                                                        "close": .close, "ping": .ping, "pong": .pong]
                guard let opcode = names[value.lowercased()] ?? UInt8(value).flatMap({ $0 < 16 ? WebSocketOpcode(rawValue: $0) : nil }) else {
                    throw RequestError(.badRequest, "opcode=\(value): a number from 0 to 15 or text, binary, close, ping, pong, continuation")
                }
                frame.opcode = opcode
                continue
            }
            guard value == "0" || value == "1" else { throw RequestError(.badRequest, "\(name)=\(value): a bit is 0 or 1") }
            let bit = value == "1"
            switch name {
            case "fin": frame.fin = bit
            case "rsv1": frame.rsv1 = bit
            case "rsv2": frame.rsv2 = bit
            case "rsv3": frame.rsv3 = bit
            case "mask": frame.maskingKey = bit ? key : nil
            default: throw RequestError(.badRequest, "unknown :frame option '\(name)' (opcode fin rsv1 rsv2 rsv3 mask payload)")
            }
        }
        return frame
    }
}
