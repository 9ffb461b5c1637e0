import Foundation
import SluiceCore

/// Reading again what a fetch jumped over (``KafkaConsumerConfig/checksGaps``, for
/// Tansu; see ``FetchGaps``).
///
/// The poll thread records every record it hands out; at most every
/// ``gapCheckInterval``, the gaps that had ``FetchGaps/settle`` to settle are read again by
/// a second consumer of this one's (outside the group, assigned at each gap's start,
/// stopped once its position is past the end). The consumer's position counts too: offsets
/// it moved over past the last record handed out (``FetchGaps/positioned(_:at:now:)``) are
/// read again the same way, so records hidden behind a transaction's end marker at a
/// partition's tail are not left until something else is written after them. Records found
/// inside a gap are what the first read missed: they come back as
/// ``KafkaConsumerEvent/skipped(_:)``. Until a gap was read again, no
/// commit of its partition passes its start (``committable(_:)``), so a crash or a
/// rebalance meanwhile loses nothing either.
extension KafkaConsumer {
    /// How often the poll thread reads settled gaps again.
    static let gapCheckInterval: Duration = .milliseconds(250)
    /// How long one read of the gaps may take before they are tried again later.
    static let gapReadTimeout: Duration = .seconds(2)

    /// `offsets` (next offsets to commit) held back at the start of any gap not yet read
    /// again: what ``commit(_:)`` commits, and what a transactional stage must send.
    public func committable(_ offsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        gapState?.withLock { $0.gaps.limit(offsets) } ?? offsets
    }

    /// Notes the records handed out (end markers too: they take offsets).
    func observe(_ tp: TopicPartition, offset: Int64) {
        gapState?.withLock { $0.gaps.observe(tp, offset: offset, now: Date()) }
    }

    /// `partitions` (nil: all) were assigned or revoked: their gaps are dropped, and their
    /// next record is no jump unless ``startGaps(_:)`` says where reading starts.
    func forgetGaps(_ partitions: [TopicPartition]?) {
        gapState?.withLock { state in
            if let partitions { state.gaps.forget(partitions) } else { state.gaps.forgetAll() }
        }
    }

    /// Reading of `offsets`' partitions starts there: their first records are checked
    /// against it (``FetchGaps/starts(_:at:)``).
    func startGaps(_ offsets: [TopicPartition: Int64]) {
        gapState?.withLock { state in for (tp, offset) in offsets { state.gaps.starts(tp, at: offset) } }
    }

    /// `partitions` were just assigned by the group: their reading starts at the group's
    /// committed offsets, read here (on the poll thread, before any of their records is
    /// handed out). A partition the group never committed (a new group) starts where
    /// `auto.offset.reset` says: from the earliest, at the log's start (its low watermark),
    /// so a batch the broker skips at a new partition's very start is a gap too (seen once on
    /// Tansu: the first record of a fresh events partition never reached fanout). From the
    /// latest, or when the broker does not answer, the first record is taken as it comes.
    func startGapsAtCommitted(_ partitions: [TopicPartition]) {
        guard gapState != nil, !partitions.isEmpty else { return }
        let deadline = ContinuousClock.now + config.committedOffsetsTimeout
        do {
            var starts = try committedBlocking(partitions, timeout: config.committedOffsetsTimeout).compactMapValues { $0 }
            if config.startPosition == .earliest {
                let fresh = partitions.filter { starts[$0] == nil }
                starts.merge(lowWatermarksBlocking(fresh, until: deadline)) { committed, _ in committed }
            }
            startGaps(starts)
        } catch {
            logger.warning("could not read the committed offsets of assigned partitions; a batch the broker skips at their start goes unchecked", metadata: [
                "partitions": "\(partitions.sorted())", "error": "\(error)",
            ])
        }
    }

    /// The log start of each of `partitions` the broker tells before `deadline` (one request
    /// each); the others are left out (their first record is then taken as it comes).
    private func lowWatermarksBlocking(_ partitions: [TopicPartition], until deadline: ContinuousClock.Instant) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for tp in partitions {
            let left = deadline - .now
            guard left > .zero else { break }
            if let low = try? handle.watermarks(tp, timeout: left).low, low >= 0 { result[tp] = low }
        }
        return result
    }

    /// Reads the settled gaps again (on the poll thread) and returns what they held.
    func recheckGaps() throws(KafkaError) -> [KafkaConsumerEvent] {
        guard let gapState else { return [] }
        let now = Date()
        let tracked: [TopicPartition]? = gapState.withLock { state in
            guard ContinuousClock.now >= state.nextCheck else { return nil }
            state.nextCheck = .now + Self.gapCheckInterval
            return state.gaps.tracked
        }
        guard let tracked else { return [] }
        let positions = tracked.isEmpty ? [:] : try position(tracked)
        let due = gapState.withLock { state in
            for case (let tp, let position?) in positions { state.gaps.positioned(tp, at: position, now: now) }
            return state.gaps.due(now: now)
        }
        guard !due.isEmpty else { return [] }
        let reader = try gapReader()
        var starts: [TopicPartition: Int64] = [:]
        var ends: [TopicPartition: Int64] = [:]
        for (tp, ranges) in due {
            starts[tp] = ranges.map(\.lowerBound).min() ?? 0
            ends[tp] = ranges.map(\.upperBound).max() ?? 0
        }
        try reader.assign(starts)
        defer { try? reader.assign([:]) }
        var found: [TopicPartition: [KafkaRecord]] = [:]
        var remaining = Set(due.keys)
        let deadline = ContinuousClock.now + Self.gapReadTimeout
        while !remaining.isEmpty, ContinuousClock.now < deadline {
            for case .record(let record) in try reader.pollBlocking(maxRecords: 500, timeout: .milliseconds(100)) {
                let tp = record.topicPartition
                guard remaining.contains(tp), let ranges = due[tp] else { continue }
                if ranges.contains(where: { $0.contains(record.offset) }), !(skipsEndMarkers && record.isEndMarker) {
                    found[tp, default: []].append(record)
                }
            }
            // Past a partition's end once the reader's position is (a range may end in
            // transaction markers, which are never handed out, so no record shows it).
            for case (let tp, let position?) in try reader.position(Array(remaining)) where position >= ends[tp] ?? 0 {
                remaining.remove(tp)
            }
        }
        var recovered: [KafkaRecord] = []
        let givenUp = gapState.withLock { state in
            for (tp, ranges) in due where !remaining.contains(tp) { state.gaps.read(tp, ranges) }
            return remaining.map { tp in (tp, state.gaps.failed(tp, due[tp] ?? [])) }.filter { !$0.1.isEmpty }
        }
        for (tp, ranges) in givenUp {
            logger.error("could not read skipped offsets again; records there, if any, are not handled by this member", metadata: [
                "partition": "\(tp)", "offsets": "\(ranges.map { "\($0.lowerBound)..<\($0.upperBound)" })",
            ])
        }
        for (tp, records) in found.sorted(by: { $0.key < $1.key }) where !remaining.contains(tp) && !records.isEmpty {
            logger.warning("the broker skipped records in a fetch; read them again", metadata: [
                "partition": "\(tp)", "offsets": "\(records.map(\.offset))",
            ])
            recovered += records.sorted { $0.offset < $1.offset }
        }
        return recovered.isEmpty ? [] : [.skipped(recovered)]
    }

    /// The consumer that reads gaps again: outside any group, same isolation, made once.
    private func gapReader() throws(KafkaError) -> KafkaConsumer {
        if let reader = gapState?.withLock({ $0.reader }) { return reader }
        var readerConfig = config
        readerConfig.groupID = "\(config.groupID)-gaps-\(UUID().uuidString)"
        readerConfig.checksGaps = false
        readerConfig.prefetchLimitKiB = 1024
        readerConfig.client.clientID = "\(config.client.clientID)-gaps"
        let reader = try KafkaConsumer(config: readerConfig, logger: logger, skipsEndMarkers: false)
        gapState?.withLock { $0.reader = reader }
        return reader
    }
}

/// What ``KafkaConsumer`` keeps for reading gaps again.
struct GapState: Sendable {
    var gaps = FetchGaps()
    var nextCheck = ContinuousClock.now
    var reader: KafkaConsumer?
}
