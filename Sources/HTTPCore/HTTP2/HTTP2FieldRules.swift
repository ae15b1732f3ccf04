/// RFC 9113 §8.2.1's rules for the octets of a field, as fast tests: the request machine checks every field a
/// client sends with them, and the HPACK decoder checks a field once when it enters the dynamic table, so the
/// same field sent again as an index (what clients do from their second request on) is not looked at again.
/// Only a test's answer is fast: the message that names the wrong octet is worked out when there is one.
public enum HTTP2FieldRules {
    /// Both name and value keep the rules (and the name is not empty).
    public static func wellFormed(name: Span<UInt8>, value: Span<UInt8>) -> Bool {
        name.count > 0 && validName(name) && validValue(value)
    }

    /// §8.2.1: "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or 0x7f-0xff".
    public static func forbiddenInName(_ octet: UInt8) -> Bool {
        // Two unsigned comparisons: below 0x21 and from 0x7f up wrap around to 0x5e and above.
        octet &- 0x21 >= 0x5E || octet &- 0x41 < 26
    }

    /// Every octet of `name` allowed: the tests of all octets or-ed together, one branch at the end.
    public static func validName(_ name: Span<UInt8>) -> Bool {
        name.withUnsafeBufferPointer { octets in
            var forbidden: UInt8 = 0
            for octet in octets { forbidden |= (forbiddenInName(octet) ? 1 : 0) }
            return forbidden == 0
        }
    }

    /// §8.2.1: a field value MUST NOT contain NUL, LF or CR. Eight octets at a time: a word has a zero octet
    /// exactly when `(w - 0x01…01) & ~w & 0x80…80` is not zero, and xor with 0x0a…0a or 0x0d…0d turns LF or
    /// CR into zero (the classic test from "Bit Twiddling Hacks"); the last few octets one by one.
    public static func validValue(_ value: Span<UInt8>) -> Bool {
        value.withUnsafeBytes { octets in
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            func hasZero(_ word: UInt64) -> Bool { (word &- ones) & ~word & highs != 0 }
            var index = 0
            while index + 8 <= octets.count {
                let word = octets.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if hasZero(word) || hasZero(word ^ (ones &* 0x0A)) || hasZero(word ^ (ones &* 0x0D)) { return false }
                index += 8
            }
            while index < octets.count {
                let octet = octets[index]
                if octet == 0 || octet == 0x0A || octet == 0x0D { return false }
                index += 1
            }
            return true
        }
    }
}
