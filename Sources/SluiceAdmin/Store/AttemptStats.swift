import SluiceCore

/// How an endpoint's attempts went: counts by outcome and by status class, the share
/// answered 2xx, and latency percentiles (nearest rank).
///
/// Invariant: the counts of `byOutcome` and of `byStatusClass` each add up to `count`;
/// `successRate` and the percentiles are nil exactly when there are no attempts.
///
/// ```swift
/// let stats = AttemptStats(attempts)
/// stats.byStatusClass["5xx"]   // failed answers
/// ```
public struct AttemptStats: Sendable, Equatable {
    public var count: Int
    public var byOutcome: [String: Int] = [:]
    /// `2xx` … `5xx`, or `none` when no response arrived.
    public var byStatusClass: [String: Int] = [:]
    public var successRate: Double?
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?

    public init(_ attempts: [Attempt]) {
        count = attempts.count
        var succeeded = 0
        for attempt in attempts {
            byOutcome[attempt.outcome.rawValue, default: 0] += 1
            let statusClass = attempt.status.map { "\($0 / 100)xx" } ?? "none"
            byStatusClass[statusClass, default: 0] += 1
            if statusClass == "2xx" { succeeded += 1 }
        }
        guard count > 0 else { return }
        successRate = Double(succeeded) / Double(count)
        let latencies = attempts.map(\.latencyMs).sorted()
        func rank(_ p: Double) -> Double { latencies[min(latencies.count - 1, max(0, Int((p * Double(latencies.count)).rounded(.up)) - 1))] }
        (p50, p95, p99) = (rank(0.50), rank(0.95), rank(0.99))
    }
}
