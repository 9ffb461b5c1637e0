import SluiceKafka

/// Which offsets of each partition dispatch may commit, while many deliveries of one
/// partition are in flight at once and finish out of order.
///
/// A polled record is `started`; it is `finished` once its outcome (attempt record,
/// retry, dead letter) is acknowledged by the broker. The committable offset of a
/// partition is the lowest offset still in flight, or one past the highest finished
/// when none is: everything below it is durably handled. This is the contiguous
/// watermark (Knative's choice): after a crash, what was in flight above it is
/// delivered again, which at-least-once allows and `webhook-id` lets receivers dedupe.
///
/// A state machine without I/O: the stage commits what ``commits()`` returns and pauses
/// what ``pauses()`` returns, outside any lock.
///
/// Invariant: per partition, a commit never passes an offset in flight, never goes back,
/// and is only reported once it differs from what was last committed.
///
/// ```swift
/// var tracker = OffsetTracker(maxInFlightPerPartition: 5_000)
/// tracker.started(record.topicPartition, record.offset)
/// tracker.finished(record.topicPartition, record.offset)
/// for (tp, offset) in tracker.commits() { … }   // commit, then tracker.committed(…)
/// ```
public struct OffsetTracker: Sendable {
    struct Partition: Sendable {
        var inFlight: Set<Int64> = []
        var highestStarted: Int64 = -1
        var committed: Int64?
        var paused = false

        var committable: Int64? {
            if let lowest = inFlight.min() { return lowest }
            return highestStarted >= 0 ? highestStarted + 1 : nil
        }
    }

    /// A change of pause state the stage must apply.
    public enum PauseChange: Sendable, Equatable {
        case pause(TopicPartition)
        case resume(TopicPartition)
    }

    public let maxInFlightPerPartition: Int
    private var partitions: [TopicPartition: Partition] = [:]

    public init(maxInFlightPerPartition: Int) {
        precondition(maxInFlightPerPartition > 0)
        self.maxInFlightPerPartition = maxInFlightPerPartition
    }

    /// Deliveries in flight, over every partition.
    public var inFlight: Int { partitions.values.reduce(0) { $0 + $1.inFlight.count } }

    public func inFlight(_ tp: TopicPartition) -> Int { partitions[tp]?.inFlight.count ?? 0 }

    /// Whether `tp` is paused at its in-flight bound.
    public func isPaused(_ tp: TopicPartition) -> Bool { partitions[tp]?.paused ?? false }

    /// Deliveries polled but not yet covered by a commit (read again after a crash).
    public var uncommitted: Int64 {
        partitions.values.reduce(0) { sum, p in
            guard p.highestStarted >= 0 else { return sum }
            return sum + max(0, p.highestStarted + 1 - (p.committed ?? p.highestStarted + 1))
        }
    }

    /// A record was polled and its delivery begins. Returns a pause when the partition
    /// reached its in-flight bound.
    public mutating func started(_ tp: TopicPartition, _ offset: Int64) -> PauseChange? {
        let maxInFlight = maxInFlightPerPartition
        return update(tp) { p in
            // Below the last commit: already handled. Below the highest started: a record the
            // broker skipped and the consumer read again (``KafkaConsumerEvent/skipped(_:)``).
            guard offset >= p.committed ?? 0, p.inFlight.insert(offset).inserted else { return nil }
            p.highestStarted = max(p.highestStarted, offset)
            guard !p.paused, p.inFlight.count >= maxInFlight else { return nil }
            p.paused = true
            return .pause(tp)
        }
    }

    /// The delivery's outcome is durable. Returns a resume when the partition drops back
    /// under half its bound.
    public mutating func finished(_ tp: TopicPartition, _ offset: Int64) -> PauseChange? {
        guard partitions[tp] != nil else { return nil }
        let maxInFlight = maxInFlightPerPartition
        return update(tp) { p in
            guard p.inFlight.remove(offset) != nil, p.paused, p.inFlight.count <= maxInFlight / 2 else { return nil }
            p.paused = false
            return .resume(tp)
        }
    }

    /// Mutates a partition's state in place. Copying it out and back would copy its set of
    /// offsets on every change (copy-on-write with two owners): O(in flight) per delivery.
    private mutating func update<R>(_ tp: TopicPartition, _ body: (inout Partition) -> R) -> R {
        body(&partitions[tp, default: Partition()])
    }

    /// The offsets to commit now: per partition, the committable offset when it moved.
    public func commits() -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for (tp, p) in partitions {
            if let offset = p.committable, offset > (p.committed ?? -1) { result[tp] = offset }
        }
        return result
    }

    /// The broker confirmed these commits.
    public mutating func committed(_ offsets: [TopicPartition: Int64]) {
        for (tp, offset) in offsets {
            guard var p = partitions[tp] else { continue }
            p.committed = max(p.committed ?? -1, offset)
            partitions[tp] = p
        }
    }

    /// Forgets partitions this member no longer owns (after their final commit).
    public mutating func revoked(_ tps: [TopicPartition]) {
        for tp in tps { partitions[tp] = nil }
    }
}
