import Foundation

/// When to try a delivery again: the waits before attempts 1…n (their count is the
/// attempt limit) and a maximum age counted from the delivery's creation.
///
/// The default (brief §4): immediately, 1 min, 10 min, then hourly, 8 attempts, 24 h.
/// Each wait is jittered fully: the actual wait is uniform in `0...wait`, so endpoints
/// recovering from an outage are not hit by every retry at once.
///
/// Invariant: at least one attempt; waits are ≥ 0; `maxAge` > 0.
///
/// ```swift
/// let schedule = try RetrySchedule(parsing: "0s,2s,5s,10s")   // SLUICE_RETRY_SCHEDULE
/// schedule.maxAttempts   // 4
/// ```
public struct RetrySchedule: Sendable, Equatable {
    public var waits: [Duration]
    public var maxAge: Duration

    public static let `default` = RetrySchedule(
        unchecked: [.zero, .seconds(60), .seconds(600)] + Array(repeating: .seconds(3600), count: 5), maxAge: .seconds(86_400))

    init(unchecked waits: [Duration], maxAge: Duration) {
        self.waits = waits
        self.maxAge = maxAge
    }

    public init(waits: [Duration], maxAge: Duration = .seconds(86_400)) throws(ConfigError) {
        let text = waits.map(DurationText.format).joined(separator: ",")
        guard !waits.isEmpty, waits.count <= WireCheck.attempts.upperBound, waits.allSatisfy({ $0 >= .zero && $0 <= .seconds(365 * 86_400) }) else {
            throw ConfigError(key: "retry.schedule", value: text, expected: "1 to \(WireCheck.attempts.upperBound) waits, each from 0s to 365d")
        }
        guard maxAge > .zero, maxAge <= .seconds(365 * 86_400) else {
            throw ConfigError(key: "retry.max_age", value: DurationText.format(maxAge), expected: "a positive duration up to 365d")
        }
        self.init(unchecked: waits, maxAge: maxAge)
    }

    /// Parses `0s,1m,10m,1h`: the waits before attempts 1…n.
    public init(parsing text: String, maxAge: Duration = .seconds(86_400)) throws(ConfigError) {
        var waits: [Duration] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let wait = DurationText.parse(String(part)) else {
                throw ConfigError(key: "retry.schedule", value: text, expected: "comma-separated waits like 0s,1m,10m,1h")
            }
            waits.append(wait)
        }
        try self.init(waits: waits, maxAge: maxAge)
    }

    public var maxAttempts: Int { waits.count }

    /// The wait before `attempt` (1-based) before jitter.
    public func wait(before attempt: Int) -> Duration { waits[min(max(attempt, 1), waits.count) - 1] }
}
