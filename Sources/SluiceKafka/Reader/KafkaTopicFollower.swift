import CRdKafka
import Logging
import SluiceCore

/// Follows a topic outside any group: reads it from the beginning to its end, then, each
/// time ``catchUp(_:)`` is called, on to the end as of that call.
///
/// Used for `sluice.endpoints`: a stage catches up before acting on records it polled,
/// so every endpoint change acknowledged before those records were written has been
/// applied. One consumer is kept assigned across calls (it keeps fetching in between),
/// so a catch-up costs one offsets request per partition and the fetches of what is new
/// and not fetched yet; with no changes, one round trip, no fetch wait and nothing
/// written (see ``catchUp(_:)`` for why the broker's answer is enough, Tansu included).
///
/// With a ``RecoveredRecords`` rule and the reader's ``KafkaTopicReader/checksGaps`` on
/// (Tansu), offsets a fetch jumped over are read again once settled, and what is found
/// there is handed over late, by the rule; a catch-up then ends only when nothing below
/// its ends is left to read again.
///
/// Invariant: records are handed over once each, in offset order per partition (but for
/// records found late, after the rule); calls to `catchUp` are serialised by the caller.
///
/// ```swift
/// let follower = try await KafkaTopicFollower(topic: "sluice.endpoints", reader: reader)
/// try await follower.catchUp { record in try registry.apply(key: …, value: record.value) }
/// ```
public final class KafkaTopicFollower: Sendable {
    public let topic: String
    let reader: KafkaTopicReader
    let consumer: KafkaConsumer
    /// Per partition, the offset after the last record handed over or skipped (markers
    /// included): every record below it has been seen.
    private let seenUpTo: Locked<[TopicPartition: Int64]>
    /// What is done with records found late; nil when gap checks are off.
    private let recovered: RecoveredRecords?
    private let newest = Locked(NewestByKey())
    /// Per partition, the position ``next(maxRecords:)`` last handed out (with gap checks).
    private let reported: Locked<[TopicPartition: Int64]>
    /// Per partition, the offset after the last record a fetch handed over in order
    /// (markers included); unlike ``seenUpTo`` never set from a start.
    private let fetched = Locked<[TopicPartition: Int64]>([:])
    /// Catch-ups that had to read (something not yet fetched lay below the end).
    let readingCatchUps = Locked(0)
    /// How long a catch-up waits for a partition to reach the end the broker named before
    /// it writes a marker there instead: Apache Kafka's compaction can remove the records at
    /// a partition's end (an old tombstone, an end marker), so that end may never be fetched.
    let stallLimit: Duration = .milliseconds(500)
    /// The ends the broker names (tests stand in for a broker whose records at a
    /// partition's end were compacted away).
    let namedEnds: Locked<(@Sendable (String) async throws -> [TopicPartition: Int64])?> = Locked(nil)

    /// Follows `topic` from `start` (the next offset to read per partition; partitions not
    /// named start at the beginning). With `recovered`, offsets the fetches jumped over are
    /// read again where the reader checks gaps; without, never (``next(maxRecords:)``'s
    /// positions always move on).
    public init(
        topic: String, reader: KafkaTopicReader, isolation: KafkaConsumerConfig.Isolation = .readCommitted,
        from start: [TopicPartition: Int64] = [:], recovered: RecoveredRecords? = nil
    ) async throws {
        self.topic = topic
        self.reader = reader
        self.recovered = reader.checksGaps ? recovered : nil
        self.consumer = try reader.makeConsumer(isolation: isolation, checksGaps: self.recovered != nil)
        self.seenUpTo = Locked(start)
        self.reported = Locked(start)
        let partitions = try await reader.partitions(of: topic)
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, start[$0] ?? sluice_rd_offset_beginning()) }))
    }

    /// Up to `maxRecords` records that have already arrived (end markers left out), and
    /// the next offset of each partition that moved on, markers included: a caller that
    /// stores its position with what it made of the records (``init(topic:reader:isolation:from:recovered:)``
    /// resumes from it) moves past markers too. Empty when nothing new has arrived.
    ///
    /// With gap checks (a ``RecoveredRecords`` rule, the reader's ``KafkaTopicReader/checksGaps``),
    /// records found late come in a later call, and a position never passes an offset not
    /// yet read again: records above a gap come back without their partition's position,
    /// which moves on (in a later call, records or not) once the gap was read again. A
    /// caller resumed from such a position reads those records twice, so what it makes of
    /// them must be idempotent (the admin store's rows are keyed by partition and offset).
    public func next(maxRecords: Int) async throws -> (records: [KafkaRecord], positions: [TopicPartition: Int64]) {
        var records: [KafkaRecord] = []
        let inOrder = take(try await consumer.poll(maxRecords: maxRecords, timeout: .zero)) { records.append($0) }
        guard recovered != nil else {
            var positions: [TopicPartition: Int64] = [:]
            for record in inOrder { positions[record.topicPartition] = max(positions[record.topicPartition] ?? 0, record.offset + 1) }
            return (records, positions)
        }
        // Every partition as far as no gap holds it back, when that is further than reported.
        let held = consumer.committable(seenUpTo.withLock { $0 })
        return (records, reported.withLock { reported in
            var moved: [TopicPartition: Int64] = [:]
            for (tp, next) in held where next > (reported[tp] ?? -1) {
                moved[tp] = next
                reported[tp] = next
            }
            return moved
        })
    }

    /// Reads every record written to the topic before this call that was not handed
    /// over yet, calling `handle` for each.
    ///
    /// The end comes from the broker (``KafkaTopicReader/latestOffsets(topic:)``), not from
    /// a marker: a partition is read until this follower has fetched the record the broker
    /// names as its last, then what came in the same fetch is handed over too. Apache Kafka
    /// names the true end. Tansu names the start of the batch it stored last, but a fetch
    /// returns every batch stored before the one it reads (it lists them all at once), so a
    /// follower that fetched that batch has every acknowledged record too. Where the answer
    /// cannot tell (nothing fetched yet, and the follower starts at or past the batch named:
    /// resumed inside the last batch, or at the end; or an answer of 0, which Tansu gives
    /// for a partition with a transaction open), or the end named is not reached within
    /// ``stallLimit``, that partition gets a marker, read back, as
    /// ``KafkaTopicReader/endOffsets(topic:)`` writes them. So a catch-up with nothing new
    /// writes nothing (Tansu never compacts: one marker per catch-up made its every fetch
    /// of the topic slower as they piled up).
    public func catchUp(_ handle: (KafkaRecord) throws -> Void) async throws {
        let named = namedEnds.withLock { $0 }
        let latest = if let named { try await named(topic) } else { try await reader.latestOffsets(topic: topic) }
        let (took, seen) = (try taken(Array(latest.keys)), seenUpTo.withLock { $0 })
        var ends: [TopicPartition: Int64] = [:]
        var unclear: [TopicPartition] = []
        for (tp, end) in latest {
            if end <= 0 {
                // Empty, or Tansu with a transaction open on the partition (it answers 0).
                unclear.append(tp)
            } else if let have = took[tp] {
                if have < end { ends[tp] = end }
            } else if (seen[tp] ?? 0) < end {
                ends[tp] = end
            } else {
                unclear.append(tp)
            }
        }
        if !unclear.isEmpty {
            let markers = try await reader.endOffsets(topic: topic).filter { unclear.contains($0.key) }
            ends.merge(markers.mapValues { $0 + 1 }) { max($0, $1) }
        }
        guard !ends.isEmpty else { return }
        readingCatchUps.withLock { $0 += 1 }
        let deadline = ContinuousClock.now + reader.timeout
        var remaining = Set(ends.keys)
        var marked = Set(unclear)
        var (moved, before) = (ContinuousClock.now, try taken(Array(remaining)))
        // Past every end, and (with gap checks) nothing below one left to read again.
        while !remaining.isEmpty || consumer.committable(ends) != ends {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    kind: .timedOut, message: "\(topic) did not reach its end within \(reader.timeout)",
                    operation: "follow \(topic)", isRetriable: true)
            }
            try take(try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100)), handle)
            let took = try taken(Array(remaining))
            if remaining.contains(where: { took[$0] != before[$0] }) { (moved, before) = (.now, took) }
            remaining = remaining.filter { (took[$0] ?? -1) < ends[$0] ?? 0 }
            let stalled = remaining.subtracting(marked)
            if !stalled.isEmpty, ContinuousClock.now - moved > stallLimit {
                // A marker lands past whatever the named end was: read to it instead.
                for (tp, marker) in try await reader.endOffsets(topic: topic) where stalled.contains(tp) { ends[tp] = marker + 1 }
                marked.formUnion(stalled)
                moved = .now
            }
        }
        // The rest of the batch each end names came in the same fetch (librdkafka queues a
        // fetch's records at once): hand it over too.
        try await drain(handle)
    }

    /// Per partition, the offset after what this follower's fetches took in order: the last
    /// record handed over, or a transaction's end marker moved past (it takes an offset
    /// but is never handed out, and a topic can end in one). Absent before the first.
    private func taken(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Int64] {
        let (fetched, positions) = (self.fetched.withLock { $0 }, try consumer.position(partitions))
        var result = fetched
        for case (let tp, let position?) in positions { result[tp] = max(result[tp] ?? 0, position) }
        return result
    }

    /// Hands over what has already arrived, without writing markers or waiting for the
    /// end: cheap enough to call every second. Unlike ``catchUp(_:)`` it promises nothing
    /// about what was written before the call.
    public func drain(_ handle: (KafkaRecord) throws -> Void) async throws {
        while true {
            let events = try await consumer.poll(maxRecords: 1000, timeout: .zero)
            try take(events, handle)
            if events.allSatisfy({ $0.records.isEmpty }) { return }
        }
    }

    /// Hands over the records of `events` but end markers: those read in order, noted as
    /// seen, and those found late (``KafkaConsumerEvent/skipped(_:)``) by the
    /// ``RecoveredRecords`` rule. Returns the records read in order, markers included.
    @discardableResult
    private func take(_ events: [KafkaConsumerEvent], _ handle: (KafkaRecord) throws -> Void) rethrows -> [KafkaRecord] {
        var inOrder: [KafkaRecord] = []
        for event in events {
            switch event {
            case .record(let record):
                if !record.isEndMarker { try handle(record) }
                if recovered == .unlessSuperseded { newest.withLock { $0.note(record) } }
                saw(record)
                fetched.withLock { $0[record.topicPartition] = max($0[record.topicPartition] ?? 0, record.offset + 1) }
                inOrder.append(record)
            case .skipped(let found):
                for record in found where !record.isEndMarker {
                    if recovered == .unlessSuperseded {
                        let superseded = newest.withLock { newest in
                            if newest.supersedes(record) { return true }
                            newest.note(record)
                            return false
                        }
                        if superseded { continue }
                    }
                    try handle(record)
                }
            default: continue
            }
        }
        return inOrder
    }

    private func saw(_ record: KafkaRecord) {
        let tp = record.topicPartition
        seenUpTo.withLock { $0[tp] = max($0[tp] ?? 0, record.offset + 1) }
    }

    /// Stops following (the consumer is not in a group; nothing to commit).
    public func close() async {
        try? await consumer.close()
    }
}
