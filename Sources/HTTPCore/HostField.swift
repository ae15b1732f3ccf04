/// The grammar of a `Host` field value (RFC 9110 §7.2): `Host = uri-host [ ":" port ]`, where uri-host and
/// port come from RFC 3986 §3.2.2 and §3.2.3:
///
///     host       = IP-literal / IPv4address / reg-name
///     IP-literal = "[" ( IPv6address / IPvFuture ) "]"
///     reg-name   = *( unreserved / pct-encoded / sub-delims )
///     port       = *DIGIT
///
/// A reg-name may be empty and so may a port: `Host:` and `Host: example.com:` are valid, `Host:
/// example.com:abc` is not. An IPv4 address is also a valid reg-name, so it needs no rule of its own.
/// Port numbers are not range-checked: the grammar has none, and httpkit does not route by port.
enum HostField {
    /// What is wrong with `value`, or nil if it is a valid Host.
    static func problem(_ value: some Collection<UInt8>) -> String? {
        // Nearly every Host is a name or an IPv4 address with an optional port, letters, digits, '.', '-'
        // and one ':' then digits: checked in one pass without a copy (this runs for every request).
        // On contiguous bytes when it can (a String's UTF-8 is): walking String.UTF8View costs ~5× more per byte.
        if value.withContiguousStorageIfAvailable({ isPlainNameAndPort($0) }) ?? isPlainNameAndPort(value) { return nil }
        let bytes = Array(value)
        var hostEnd = bytes.startIndex
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return "the IP literal has no closing ']'" }
            let literal = bytes[1..<close]
            guard isIPv6(literal) || isIPvFuture(literal) else { return "the IP literal is not an IPv6 address" }
            hostEnd = close + 1
        } else {
            hostEnd = bytes.firstIndex(of: ASCII.colon) ?? bytes.endIndex
            if let problem = regNameProblem(bytes[..<hostEnd]) { return problem }
        }
        guard hostEnd < bytes.endIndex else { return nil }
        guard bytes[hostEnd] == ASCII.colon else { return "only ':' and a port may follow the host" }
        // port = *DIGIT (RFC 3986 §3.2.3): empty is allowed, letters and a second ':' are not.
        guard bytes[(hostEnd + 1)...].allSatisfy(ASCII.isDigit) else { return "the port is not a number" }
        return nil
    }

    /// `name[:digits]` where the name holds only letters, digits, `.` and `-` (all unreserved): valid.
    private static func isPlainNameAndPort(_ value: some Collection<UInt8>) -> Bool {
        var inPort = false
        for byte in value {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "."), UInt8(ascii: "-"):
                if inPort { return false }
            case ASCII.colon:
                if inPort { return false }
                inPort = true
            default:
                return false
            }
        }
        return true
    }

    /// reg-name = *( unreserved / pct-encoded / sub-delims ) (RFC 3986 §3.2.2)
    private static func regNameProblem(_ name: ArraySlice<UInt8>) -> String? {
        var index = name.startIndex
        while index < name.endIndex {
            let byte = name[index]
            if byte == ASCII.percent {
                // pct-encoded = "%" HEXDIG HEXDIG
                guard index + 2 < name.endIndex, ASCII.hexValue(name[index + 1]) != nil,
                      ASCII.hexValue(name[index + 2]) != nil else {
                    return "'%' in the host is not followed by two hex digits"
                }
                index += 3
                continue
            }
            guard isUnreserved(byte) || isSubDelim(byte) else {
                return "the host holds a character not allowed in a host name"
            }
            index += 1
        }
        return nil
    }

    /// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
    private static func isSubDelim(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="): true
        default: false
        }
    }

    /// IPv6address (RFC 3986 §3.2.2): eight groups of 1 to 4 hex digits separated by ':', one run of zero
    /// groups written "::" at most once, and the last two groups may be written as an IPv4 address.
    static func isIPv6(_ text: ArraySlice<UInt8>) -> Bool {
        let bytes = Array(text)
        var left = bytes[...], right: ArraySlice<UInt8>? = nil
        if let gap = (0..<max(0, bytes.count - 1)).first(where: { bytes[$0] == ASCII.colon && bytes[$0 + 1] == ASCII.colon }) {
            left = bytes[..<gap]
            right = bytes[(gap + 2)...]
        }
        func groups(_ part: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
            part.isEmpty ? [] : part.split(separator: ASCII.colon, omittingEmptySubsequences: false)
        }
        let all = groups(left) + groups(right ?? [])
        var count = 0
        for (position, group) in all.enumerated() {
            let isLast = position == all.count - 1
            // ls32 may be an IPv4 address, but only at the very end, not before a trailing "::".
            if isLast, group.contains(UInt8(ascii: ".")), right == nil || !(right ?? []).isEmpty {
                guard isIPv4(group) else { return false }
                count += 2
            } else {
                guard (1...4).contains(group.count), group.allSatisfy({ ASCII.hexValue($0) != nil }) else { return false }
                count += 1
            }
        }
        // "::" stands for at least one group of zeros.
        return right == nil ? count == 8 : count <= 7
    }

    /// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet; a dec-octet is 0 to 255 without a
    /// leading zero.
    static func isIPv4(_ text: ArraySlice<UInt8>) -> Bool {
        let octets = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in
            guard (1...3).contains(octet.count), octet.allSatisfy(ASCII.isDigit) else { return false }
            if octet.count > 1 && octet.first == UInt8(ascii: "0") { return false }
            return Int(String(decoding: octet, as: UTF8.self))! <= 255
        }
    }

    /// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    private static func isIPvFuture(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.first == UInt8(ascii: "v") || text.first == UInt8(ascii: "V"),
              let dot = text.firstIndex(of: UInt8(ascii: ".")) else { return false }
        let version = text[(text.startIndex + 1)..<dot], rest = text[(dot + 1)...]
        return !version.isEmpty && version.allSatisfy { ASCII.hexValue($0) != nil }
            && !rest.isEmpty && rest.allSatisfy { isUnreserved($0) || isSubDelim($0) || $0 == ASCII.colon }
    }
}
