import Glibc

extension HTTPDate {
    /// Seconds since the epoch for an HTTP date in any of the three formats of RFC 9110 §5.6.7, or nil:
    ///
    ///     Sun, 06 Nov 1994 08:49:37 GMT    IMF-fixdate (the one to send)
    ///     Sunday, 06-Nov-94 08:49:37 GMT   obsolete RFC 850 format (two-digit year)
    ///     Sun Nov  6 08:49:37 1994         ANSI C's asctime() format
    ///
    /// A recipient MUST accept all three; an invalid date in a conditional header is ignored (§13.1.3).
    public static func parse(_ text: String) -> Int? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var day: Int?, month: Int?, year: Int?, clock: String?
        if words.count == 6, words[0].hasSuffix(","), words[5] == "GMT" {
            (day, month, year, clock) = (Int(words[1]), monthNumber(words[2]), Int(words[3]), words[4])
            guard words[1].count == 2, words[3].count == 4 else { return nil }
        } else if words.count == 4, words[0].hasSuffix(","), words[3] == "GMT" {
            let parts = words[1].split(separator: "-").map(String.init)
            guard parts.count == 3, parts[0].count == 2, parts[2].count == 2, let short = Int(parts[2]) else { return nil }
            // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
            let currentYear = 1970 + currentSeconds() / 31_556_952
            var full = (currentYear / 100) * 100 + short
            if full > currentYear + 50 { full -= 100 }
            (day, month, year, clock) = (Int(parts[0]), monthNumber(parts[1]), full, words[2])
        } else if words.count == 5 {
            (day, month, year, clock) = (Int(words[2]), monthNumber(words[1]), Int(words[4]), words[3])
            guard dayNames.contains(words[0]), words[4].count == 4 else { return nil }
        } else {
            return nil
        }
        guard let day, let month, let year, let clock, (1...31).contains(day), year >= 1970 else { return nil }
        let hms = clock.split(separator: ":").map { Int($0) }
        guard hms.count == 3, clock.count == 8, let hour = hms[0], let minute = hms[1], let second = hms[2],
              hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int(timegm(&parts))
    }

    private static let dayNames: Set<String> = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func monthNumber(_ name: String) -> Int? {
        monthNames.firstIndex(of: name).map { $0 + 1 }
    }
}
