import Foundation
import Metrics
import SluiceKafka

/// Fanout's Prometheus metrics (through swift-metrics): events in, deliveries out,
/// rejections by reason, unmatched events, transaction latency, and consumer lag.
///
/// Lag is measured as Sluice measures ends everywhere (brief §1): an end marker per
/// partition of `sluice.events`, minus the next offset this copy committed there.
struct FanoutMetrics: Sendable {
    let events = Counter(label: "sluice_fanout_events_total")
    let deliveries = Counter(label: "sluice_fanout_deliveries_total")
    let unmatched = Counter(label: "sluice_fanout_unmatched_total")
    let transactions = Counter(label: "sluice_fanout_transactions_total")
    let aborted = Counter(label: "sluice_fanout_transactions_aborted_total")
    let commitLatency = Timer(label: "sluice_fanout_transaction_seconds")
    let lag = Gauge(label: "sluice_fanout_consumer_lag")

    func rejected(_ reason: String) -> Counter {
        Counter(label: "sluice_fanout_rejected_total", dimensions: [("reason", reason)])
    }

    func record(_ tally: FanoutCounters, commit: Duration) {
        events.increment(by: tally.events)
        deliveries.increment(by: tally.deliveries)
        unmatched.increment(by: tally.unmatched)
        for (reason, count) in tally.rejected { rejected(reason).increment(by: count) }
        transactions.increment()
        commitLatency.recordNanoseconds(Int64(commit.timeInterval * 1e9))
    }
}

/// Measures consumer lag now and then, without watermarks.
///
/// The end of each partition is an end marker written now (brief §1): every record
/// written before has a lower offset. What this copy has taken is the later of what it
/// committed and its consumer's position. The position matters because the markers
/// themselves are records: the consumer skips them and never commits past them, so
/// against committed offsets alone every probe's markers would count as lag, and an idle,
/// caught-up copy would report a lag that grows by one per partition per probe.
///
/// Invariant: a copy that has read every record of its partitions (markers included)
/// reports 0; a copy that owns no partition reports 0.
final class LagProbe: Sendable {
    let topic: String
    let reader: KafkaTopicReader
    let interval: Duration
    private let state = Locked<(next: [TopicPartition: Int64], last: ContinuousClock.Instant?)>(([:], nil))

    init(topic: String, reader: KafkaTopicReader, interval: Duration = .seconds(15)) {
        self.topic = topic
        self.reader = reader
        self.interval = interval
    }

    /// Remembers what this copy committed.
    func committed(_ next: [TopicPartition: Int64]) {
        state.withLock { $0.next.merge(next) { max($0, $1) } }
    }

    /// Forgets partitions this copy no longer owns.
    func reassigned() {
        state.withLock { $0.next = [:] }
    }

    /// The lag over the partitions this copy owns, when a measurement is due.
    func measure(consumer: KafkaConsumer) async -> Int64? {
        let due = state.withLock { s -> Bool in
            guard s.last.map({ ContinuousClock.now - $0 >= interval }) ?? true else { return false }
            s.last = .now
            return true
        }
        guard due, let owned = try? consumer.assignment() else { return nil }
        guard !owned.isEmpty else { return 0 }
        guard let ends = try? await reader.endOffsets(topic: topic) else { return nil }
        var next = state.withLock { $0.next }
        let unknown = owned.filter { next[$0] == nil }
        if !unknown.isEmpty, let committed = try? await consumer.committed(unknown) {
            for (tp, offset) in committed { next[tp] = offset ?? 0 }
        }
        let positions = ((try? consumer.position(owned)) ?? [:]).compactMapValues { $0 }
        return Self.lag(owned: owned, ends: ends, committed: next, positions: positions)
    }

    /// Records of `owned` partitions below their `ends` that this copy has neither
    /// committed nor read past.
    static func lag(
        owned: [TopicPartition], ends: [TopicPartition: Int64], committed: [TopicPartition: Int64], positions: [TopicPartition: Int64]
    ) -> Int64 {
        owned.reduce(Int64(0)) { sum, tp in
            let taken = max(committed[tp] ?? 0, positions[tp] ?? 0)
            return sum + max(0, (ends[tp] ?? 0) - taken)
        }
    }
}

import SluiceCore
