import Foundation

extension Duration {
    /// Seconds as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole nanoseconds, for monotonic clocks: 0 for a negative duration, `Int64.max` past
    /// about 292 years.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        guard seconds < Int64.max / 1_000_000_000 - 1 else { return .max }
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// A wait of `seconds`, safe for any value (one computed from a record's times, a
    /// header): NaN and negatives are zero, and it is at most ``DurationText/maxMilliseconds``,
    /// so no input reaches the trap of `Int64(_:)` on a huge `Double`.
    ///
    /// ```swift
    /// Duration.wait(seconds: notBefore.timeIntervalSince(now))   // .zero when past
    /// ```
    public static func wait(seconds: TimeInterval) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        let ms = (seconds * 1000).rounded(.up)
        return .milliseconds(ms >= Double(DurationText.maxMilliseconds) ? DurationText.maxMilliseconds : Int64(ms))
    }
}
