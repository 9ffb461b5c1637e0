import Logging
import Metrics
import SluiceCore

/// What a retry tier has done since it started (logged at stop; exported as metrics).
public struct RetryCounters: Sendable, Equatable {
    public var forwarded = 0
    public var moved: [String: Int] = [:]
    public var rejected = 0

    mutating func add(_ other: RetryCounters) {
        forwarded += other.forwarded
        moved.merge(other.moved, uniquingKeysWith: +)
        rejected += other.rejected
    }

    var metadata: Logger.Metadata {
        ["forwarded": "\(forwarded)", "moved": "\(moved.values.reduce(0, +))", "rejected": "\(rejected)"]
    }
}

/// A retry tier's Prometheus metrics.
struct RetryMetrics: Sendable {
    let forwarded: Counter
    let rejected: Counter
    let aborted: Counter
    let held: Gauge
    /// How long after its `not_before` each delivery was forwarded.
    let lateness: Timer
    let tier: RetryTier

    init(tier: RetryTier) {
        let dims = [("tier", tier.rawValue)]
        self.tier = tier
        forwarded = Counter(label: "sluice_retry_forwarded_total", dimensions: dims)
        rejected = Counter(label: "sluice_retry_rejected_total", dimensions: dims)
        aborted = Counter(label: "sluice_retry_transactions_aborted_total", dimensions: dims)
        held = Gauge(label: "sluice_retry_held_partitions", dimensions: dims)
        lateness = Timer(label: "sluice_retry_forward_lateness_seconds", dimensions: dims)
    }

    func record(_ tally: RetryCounters) {
        forwarded.increment(by: tally.forwarded)
        rejected.increment(by: tally.rejected)
        for (to, count) in tally.moved {
            Counter(label: "sluice_retry_moved_total", dimensions: [("tier", tier.rawValue), ("to", to)]).increment(by: count)
        }
    }
}
