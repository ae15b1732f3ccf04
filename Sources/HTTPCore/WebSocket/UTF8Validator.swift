/// Checks UTF-8 as it arrives, fragment by fragment (RFC 3629), so a text message with an invalid byte is
/// refused at that byte (RFC 6455 §8.1: close 1007), not after the whole message has been buffered.
/// A code point split between two fragments is fine; a message that ends in the middle of one is not.
public struct UTF8Validator: Sendable {
    /// Continuation bytes still expected for the current code point.
    private var needed = 0
    /// The allowed range of the next byte (narrower after E0, ED, F0 and F4: no overlongs, surrogates or
    /// code points past U+10FFFF).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Feeds bytes; false as soon as they cannot be UTF-8.
    public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        for byte in bytes {
            if needed == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: needed = 1
                case 0xE0: needed = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE, 0xEF: needed = 2
                case 0xED: needed = 2; upper = 0x9F
                case 0xF0: needed = 3; lower = 0x90
                case 0xF1...0xF3: needed = 3
                case 0xF4: needed = 3; upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= lower && byte <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                needed -= 1
            }
        }
        return true
    }

    /// True when the bytes so far end on a code point boundary (the message may end here).
    public var isComplete: Bool { needed == 0 }

    public static func isValid<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isComplete
    }
}
