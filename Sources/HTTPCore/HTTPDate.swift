import Glibc

/// The date format HTTP uses, IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `seconds` since the epoch as an IMF-fixdate. Formatted by hand: no locale can change it.
    public static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// The current time as an IMF-fixdate.
    public static func now() -> String { format(currentSeconds()) }

    /// Seconds since the epoch, now.
    public static func currentSeconds() -> Int { Int(time(nil)) }

    /// `seconds` as the Common Log Format's time, `22/Nov/2026:05:04:17 +0000` (the access log's).
    public static func commonLogFormat(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(parts.tm_mday))/\(months[Int(parts.tm_mon)])/\(parts.tm_year + 1900):"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}

extension HTTPDate {
    /// The Date header value, formatted at most once a second however many responses go out.
    public struct Cache: Sendable {
        private var second = -1
        private var value = ""

        public init() {}

        public mutating func current() -> String {
            let now = HTTPDate.currentSeconds()
            if now != second {
                second = now
                value = HTTPDate.format(now)
            }
            return value
        }
    }
}
