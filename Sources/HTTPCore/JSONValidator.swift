/// Checks that bytes are one JSON value (RFC 8259), and says where and why when they are not, so
/// `POST /api/echo` can answer 400 with a useful reason. It validates; it builds nothing.
public enum JSONValidator {
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let offset: Int
        public let message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    public static func validate(_ bytes: [UInt8], maxDepth: Int = 256) throws(Invalid) {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.fail("unexpected data after the JSON value") }
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0

        func fail(_ message: String) -> Invalid { Invalid(offset: index, message: message) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func value(depth: Int) throws(Invalid) {
            guard depth < maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
            guard let byte = current else { throw fail("unexpected end of input") }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth)
            case UInt8(ascii: "["): try array(depth: depth)
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw fail("unexpected character '\(Character(UnicodeScalar(byte)))'")
            }
        }

        mutating func literal(_ word: String) throws(Invalid) {
            for expected in word.utf8 {
                guard current == expected else { throw fail("expected '\(word)'") }
                index += 1
            }
        }

        mutating func object(depth: Int) throws(Invalid) {
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "}") { index += 1; return }
            while true {
                guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                index += 1
                skipWhitespace()
                try value(depth: depth + 1)
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; skipWhitespace(); continue }
                if current == UInt8(ascii: "}") { index += 1; return }
                throw fail("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws(Invalid) {
            index += 1
            skipWhitespace()
            if current == UInt8(ascii: "]") { index += 1; return }
            while true {
                try value(depth: depth + 1)
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; skipWhitespace(); continue }
                if current == UInt8(ascii: "]") { index += 1; return }
                throw fail("expected ',' or ']' in an array")
            }
        }

        mutating func string() throws(Invalid) {
            index += 1
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard let escape = current else { throw fail("unterminated escape") }
                    if escape == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            index += 1
                            guard let digit = current, ASCII.hexValue(digit) != nil else { throw fail("invalid \\u escape") }
                        }
                    } else if !Array("\"\\/bfnrt".utf8).contains(escape) {
                        throw fail("invalid escape '\\\(Character(UnicodeScalar(escape)))'")
                    }
                    index += 1
                case 0..<0x20:
                    throw fail("control character in a string")
                default:
                    index += 1
                }
            }
            throw fail("unterminated string")
        }

        mutating func number() throws(Invalid) {
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, ASCII.isDigit(first) else { throw fail("expected a digit") }
            index += 1
            if first != UInt8(ascii: "0") { while let byte = current, ASCII.isDigit(byte) { index += 1 } }
            if current == UInt8(ascii: ".") {
                index += 1
                guard let byte = current, ASCII.isDigit(byte) else { throw fail("expected a digit after '.'") }
                while let byte = current, ASCII.isDigit(byte) { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let byte = current, ASCII.isDigit(byte) else { throw fail("expected a digit in the exponent") }
                while let byte = current, ASCII.isDigit(byte) { index += 1 }
            }
        }
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
