import Foundation
import SluiceKafka

/// Which partitions of a retry tier are held, until when, and from which offset they
/// resume: the state machine behind ``RetryStage``'s "pause until the head is due".
///
/// Each tier topic is FIFO, so the head of a partition is (nearly) the next due. When the
/// head is not due, the partition is paused and its position moved back to the head;
/// when the head's `not_before` arrives, a timer resumes it and moves its position back
/// to the head. (The seek comes after the resume: librdkafka restarts a resumed partition
/// from the last record handed to the application, which may lie past the head.)
/// Mutating methods return the ``Action``s to run, outside the lock, on the consumer.
///
/// Invariant: a held partition accepts no record until it is resumed, and then only the
/// head it was held at (records fetched before the hold are stale and dropped); every
/// assignment starts a partition unheld (a partition revoked while paused and assigned
/// again is resumed, the bug Spring Kafka's non-blocking retries once had); a wake-up
/// from an earlier hold or assignment (an old `generation`) does nothing.
///
/// ```swift
/// var holds = TierHolds()
/// let actions = holds.hold(tp, at: 42, until: due)   // [.pause(tp), .wake(tp, at: due, generation: 1)]
/// holds.wake(tp, generation: 1)                        // [.resume([tp]), .seek(tp, to: 42)]
/// holds.accepts(tp, offset: 42)                        // true: the head, fetched again
/// ```
struct TierHolds: Sendable {
    enum Action: Sendable, Equatable {
        /// Stop fetching `partition`.
        case pause(TopicPartition)
        /// Move the fetch position of `partition` to `offset`.
        case seek(TopicPartition, to: Int64)
        /// Call ``TierHolds/wake(_:generation:)`` for `partition` at `at`.
        case wake(TopicPartition, at: Date, generation: Int)
        /// Fetch `partition` again.
        case resume([TopicPartition])
    }

    private struct Held: Sendable {
        var headOffset: Int64
        var until: Date
        var generation: Int
        var resumed = false
        var resumedAt: Date?
        /// Seeks to the head since the resume (``TierHolds/stalled(now:patience:)``).
        var reseeks = 0
    }

    private var held: [TopicPartition: Held] = [:]
    /// Holds woken by ``stalled(now:patience:maxPatience:grace:)`` because their timer had
    /// not fired (for ``summary``: zero unless a wake-up was lost).
    private(set) var overdueWakes = 0
    private var generation = 0
    /// Offsets polled but not handled (dropped as stale, or behind a held head): a commit
    /// must not pass the lowest, whatever arrives after it.
    private var unhandled: [TopicPartition: Set<Int64>] = [:]

    /// How many partitions wait for their head.
    var heldCount: Int { held.values.filter { !$0.resumed }.count }

    /// The earliest time a held partition is due, if any.
    var nextDue: Date? { held.values.filter { !$0.resumed }.map(\.until).min() }

    func isHeld(_ partition: TopicPartition) -> Bool { held[partition].map { !$0.resumed } ?? false }

    /// The holds and the offsets polled but not handled, for a failing test's message.
    var summary: String {
        let heads = held.map { "\($0.key) head \($0.value.headOffset) until \($0.value.until) resumed \($0.value.resumed) reseeks \($0.value.reseeks)" }
        return "held [\(heads.joined(separator: "; "))], unhandled \(unhandled.mapValues { $0.sorted() }), overdue wake-ups \(overdueWakes)"
    }

    /// Whether a polled record may be handled: not while its partition is held, and after
    /// a resume only from the head the partition was held at.
    mutating func accepts(_ partition: TopicPartition, offset: Int64) -> Bool {
        guard let entry = held[partition] else { return true }
        guard entry.resumed, offset == entry.headOffset else {
            unhandled[partition, default: []].insert(offset)
            return false
        }
        held[partition] = nil
        return true
    }

    /// Whether a record of the batch being routed must be left for later because its
    /// partition was held at an earlier record (then it is remembered as not handled).
    /// This holds even if the hold's timer already fired (its head was due at once): until
    /// the head is polled again, every later record of the batch is stale. (Measured: with
    /// only "while paused" here, a record after an instantly woken head was forwarded, and
    /// the next hold moved the head past the one never forwarded, which was lost.)
    mutating func skipIfHeld(_ partition: TopicPartition, offset: Int64) -> Bool {
        guard held[partition] != nil else { return false }
        unhandled[partition, default: []].insert(offset)
        return true
    }

    /// A record was forwarded, moved or rejected.
    mutating func handled(_ partition: TopicPartition, offset: Int64) {
        unhandled[partition]?.remove(offset)
        if unhandled[partition]?.isEmpty == true { unhandled[partition] = nil }
    }

    /// The offset to commit for `partition` after handling up to `next`: never past a
    /// record polled but not handled.
    func commitOffset(_ partition: TopicPartition, next: Int64) -> Int64 {
        min(next, unhandled[partition]?.min() ?? next)
    }

    /// The record at `offset` is the head and is not due before `until`.
    mutating func hold(_ partition: TopicPartition, at offset: Int64, until: Date) -> [Action] {
        generation += 1
        held[partition] = Held(headOffset: offset, until: until, generation: generation)
        return [.pause(partition), .wake(partition, at: until, generation: generation)]
    }

    /// A timer fired for `partition`.
    mutating func wake(_ partition: TopicPartition, generation: Int, now: Date = Date()) -> [Action] {
        guard var entry = held[partition], entry.generation == generation, !entry.resumed else { return [] }
        entry.resumed = true
        entry.resumedAt = now
        held[partition] = entry
        return [.resume([partition]), .seek(partition, to: entry.headOffset)]
    }

    /// Partitions whose head is overdue, and what brings it back (the poll loop calls this
    /// after every poll):
    /// - resumed partitions whose head has not come back within `patience`: seek to it
    ///   again, waiting twice as long after each seek (up to `maxPatience`) until it does.
    ///   Measured on librdkafka 2.16 under load: the seek right after a resume is sometimes
    ///   overtaken by the fetch the resume restarts from the application position, and the
    ///   head never comes back without this. The wait grows because every seek discards the
    ///   fetch in progress: with a fixed 0.3 s, a broker slower than that to answer a fetch
    ///   never delivered the head (a clean-clone run held 99 deliveries for minutes). Every
    ///   third seek resumes the partition again first, in case the resume itself was lost.
    /// - held partitions whose wake-up has not come `grace` after their head was due (a
    ///   timer lost or starved): woken here, as the timer would have.
    /// So a partition cannot stay held by a lost timer, resume or seek: the worst is a
    /// delay of `maxPatience` or `grace`.
    mutating func stalled(now: Date, patience: TimeInterval = 0.3, maxPatience: TimeInterval = 10, grace: TimeInterval = 2) -> [Action] {
        var actions: [Action] = []
        for (partition, entry) in held {
            guard entry.resumed else {
                if now.timeIntervalSince(entry.until) >= grace {
                    overdueWakes += 1
                    actions += wake(partition, generation: entry.generation, now: now)
                }
                continue
            }
            let wait = min(maxPatience, patience * Double(1 << min(entry.reseeks, 20)))
            guard let at = entry.resumedAt, now.timeIntervalSince(at) >= wait else { continue }
            held[partition]?.resumedAt = now
            held[partition]?.reseeks += 1
            if entry.reseeks % 3 == 2 { actions.append(.resume([partition])) }
            actions.append(.seek(partition, to: entry.headOffset))
        }
        return actions
    }

    /// New partitions: nothing carries over, and each is resumed in case it was paused
    /// when it was last owned.
    mutating func assigned(_ partitions: [TopicPartition]) -> [Action] {
        forget(partitions)
        return partitions.isEmpty ? [] : [.resume(partitions)]
    }

    /// Partitions taken away: their holds (and pending wake-ups) are forgotten.
    mutating func revoked(_ partitions: [TopicPartition]) {
        forget(partitions)
    }

    /// A batch was abandoned (its transaction aborted): the partitions start again from
    /// their first record of that batch, unheld (as if newly assigned).
    mutating func restart(_ partitions: [TopicPartition]) -> [Action] {
        assigned(partitions)
    }

    /// Drops every hold and unhandled offset of `partitions`; a newer generation makes
    /// their pending wake-ups do nothing.
    private mutating func forget(_ partitions: [TopicPartition]) {
        for partition in partitions {
            held[partition] = nil
            unhandled[partition] = nil
        }
        generation += 1
    }
}
