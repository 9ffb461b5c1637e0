import CRdKafka
import Logging
import SluiceCore

/// Follows a topic outside any group: reads it from the beginning to its end, then, each
/// time ``catchUp(_:)`` is called, on to the end as of that call.
///
/// Used for `sluice.endpoints`: a stage catches up before acting on records it polled,
/// so every endpoint change acknowledged before those records were written has been
/// applied (the end is found with markers, see ``KafkaTopicReader``). One consumer is
/// kept assigned across calls, so a catch-up costs one marker per partition and the
/// fetches of what is new. Where everything below a marker has already been handed
/// over (the usual case: nothing but the previous catch-up's own marker, counted as
/// seen, lies below it), the marker itself need not be read, so a catch-up with no
/// changes costs one acknowledged write and no fetch wait.
///
/// With a ``RecoveredRecords`` rule and the reader's ``KafkaTopicReader/checksGaps`` on
/// (Tansu), offsets a fetch jumped over are read again once settled, and what is found
/// there is handed over late, by the rule; a catch-up then ends only when nothing below
/// its markers is left to read again.
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
    /// Catch-ups that had to read (something unseen lay below a marker).
    let readingCatchUps = Locked(0)

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
    public func catchUp(_ handle: (KafkaRecord) throws -> Void) async throws {
        let ends = try await reader.endOffsets(topic: topic)
        let seen = seenUpTo.withLock { $0 }
        var remaining = Set(ends.filter { (seen[$0.key] ?? -1) < $0.value }.keys)
        let past = ends.mapValues { $0 + 1 }
        let deadline = ContinuousClock.now + reader.timeout
        if !remaining.isEmpty { readingCatchUps.withLock { $0 += 1 } }
        // Past every marker, and (with gap checks) nothing below one left to read again.
        while !remaining.isEmpty || consumer.committable(past) != past {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    kind: .timedOut, message: "\(topic) did not reach its end within \(reader.timeout)",
                    operation: "follow \(topic)", isRetriable: true)
            }
            let events = try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100))
            for record in try take(events, handle) where record.offset >= ends[record.topicPartition] ?? .max {
                remaining.remove(record.topicPartition)
            }
        }
        // Everything below each marker is seen, and the marker is this call's own (its
        // offset is from its acknowledgement): the next catch-up need not read it. Without
        // this, each catch-up's marker was unread below the next one's, so every catch-up
        // that found the previous marker not yet fetched waited a fetch for it (on Tansu,
        // the whole fetch wait).
        saw(past)
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
        saw([record.topicPartition: record.offset + 1])
    }

    private func saw(_ positions: [TopicPartition: Int64]) {
        guard !positions.isEmpty else { return }
        seenUpTo.withLock { $0.merge(positions, uniquingKeysWith: max) }
    }

    /// Stops following (the consumer is not in a group; nothing to commit).
    public func close() async {
        try? await consumer.close()
    }
}
