import Foundation

/// The `Retry-After` header of a 429 or 503: delay-seconds or an HTTP-date (RFC 9110).
///
/// ```swift
/// RetryAfter.parse("120", now: now)                             // 120 s
/// RetryAfter.parse("Wed, 21 Oct 2015 07:28:00 GMT", now: now)   // until then (0 if past)
/// ```
public enum RetryAfter {
    /// The wait the header asks for, or nil when it is absent or malformed.
    public static func parse(_ value: String?, now: Date) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if value.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Double(value).map { .wait(seconds: $0) } ?? .milliseconds(DurationText.maxMilliseconds)
        }
        // An HTTP-date is ASCII; anything else is malformed (and a combining mark in it traps
        // inside Foundation's DateFormatter).
        guard value.utf8.isASCII, value.utf8.count <= 64 else { return nil }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: value) {
                let seconds = date.timeIntervalSince(now)
                return .wait(seconds: seconds)
            }
        }
        return nil
    }
}
