import Foundation

/// The time range a history replay covers (`--since`, `--until`), by the timestamps of the
/// records of `sluice.events` (when each event was published), and how much of it the
/// topic's retention still keeps.
///
/// Invariant: `since < until`, `since` is not in the future; `since` is inclusive and
/// `until` exclusive.
///
/// ```swift
/// let window = try HistoryWindow(since: "1h", until: nil, now: Date())
/// window.coverage(retention: .seconds(7 * 86_400), now: Date())   // .whole
/// ```
public struct HistoryWindow: Sendable, Equatable {
    public let since: Date
    public let until: Date

    /// What of a window the events topic still keeps.
    public enum Coverage: Sendable, Equatable {
        /// Every event of the window is still there.
        case whole
        /// Events before `keptFrom` may be deleted already; the rest is there.
        case partial(keptFrom: Date)
        /// The whole window lies before `keptFrom`: nothing of it is left.
        case none(keptFrom: Date)
    }

    public init(since: Date, until: Date?, now: Date) throws(HistoryReplayError) {
        guard since <= now else { throw .sinceInFuture(since) }
        let until = until ?? now
        guard since < until else { throw .untilNotAfterSince(since: since, until: until) }
        self.since = since
        self.until = until
    }

    /// Parses the flags as written (``TimeText`` forms: ISO 8601, a date, unix seconds, a
    /// duration ago); no `until` means now.
    public init(since: String, until: String?, now: Date) throws(HistoryReplayError) {
        guard let start = TimeText.parse(since, now: now) else { throw .notATime(flag: "since", text: since) }
        var end: Date?
        if let until {
            guard let parsed = TimeText.parse(until, now: now) else { throw .notATime(flag: "until", text: until) }
            end = parsed
        }
        try self.init(since: start, until: end, now: now)
    }

    /// Whether a record published at `time` lies in the window; a record without a
    /// timestamp is taken (it was read from the offsets for `since` on).
    public func contains(_ time: Date?) -> Bool {
        guard let time else { return true }
        return time >= since && time < until
    }

    /// What of the window a topic that keeps records for `retention` still holds at `now`
    /// (nil retention: forever).
    public func coverage(retention: Duration?, now: Date) -> Coverage {
        guard let retention else { return .whole }
        let keptFrom = now.addingTimeInterval(-retention.timeInterval)
        if until <= keptFrom { return .none(keptFrom: keptFrom) }
        if since < keptFrom { return .partial(keptFrom: keptFrom) }
        return .whole
    }
}
