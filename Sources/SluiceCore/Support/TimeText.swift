import Foundation

/// Points in time as operators write them on a command line: an ISO 8601 time
/// (`2026-11-25T10:00:00Z`, or a date `2026-11-25`, UTC), unix seconds (`1764064800`), or
/// a duration ago (`90m`, `2d`).
///
/// ```swift
/// TimeText.parse("2h", now: now)   // now - 2 h
/// ```
public enum TimeText {
    public static let expected = "an ISO 8601 time (2026-11-25T10:00:00Z), a date (2026-11-25), unix seconds, or a duration ago (90m, 2d)"

    /// The time `text` denotes, or nil when it is not of those forms or lies outside
    /// 1970 … 2200 (so no later conversion of it can overflow).
    public static func parse(_ text: String, now: Date) -> Date? {
        guard let date = parseAny(text, now: now), (0...WireCheck.timeWindow.upperBound).contains(date.timeIntervalSince1970) else {
            return nil
        }
        return date
    }

    private static func parseAny(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let ago = DurationText.parse(trimmed) { return now.addingTimeInterval(-ago.timeInterval) }
        if let seconds = Int64(trimmed) { return Date(timeIntervalSince1970: TimeInterval(seconds)) }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: trimmed) { return date }
        full.formatOptions.insert(.withFractionalSeconds)
        if let date = full.date(from: trimmed) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: trimmed)
    }

    /// `2026-11-25T10:00:00.123Z`.
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions.insert(.withFractionalSeconds)
        return formatter.string(from: date)
    }
}
