import SluiceCore
import CRdKafka
import Logging
import Synchronization

/// A Kafka consumer-group member with manual commits, pause/resume and seek.
///
/// Pull-based: the stage's loop calls ``poll(maxRecords:timeout:)``, which drains
/// librdkafka's consumer queue (records, rebalances and errors arrive as events; no C
/// callback is set) on a thread outside the cooperative pool. Rebalances are surfaced as
/// ``KafkaConsumerEvent/assigned(_:)`` and ``KafkaConsumerEvent/revoked(_:lost:)``; a
/// revocation takes effect at the next `poll`, so the stage finishes its work first.
///
/// Invariant: one task polls at a time; the other methods may be called from anywhere.
///
/// ```swift
/// let consumer = try KafkaConsumer(config: config, logger: logger)
/// try consumer.subscribe(["sluice.events"])
/// for event in try await consumer.poll() { if case .record(let r) = event { … } }
/// try await consumer.commit([r.topicPartition: r.offset + 1])
/// ```
public final class KafkaConsumer: Sendable {
    let handle: RdKafkaHandle
    let config: KafkaConsumerConfig
    let logger: Logger
    private let queue: UncheckedBox<OpaquePointer>
    let rebalance = Locked(RebalanceState())
    /// False only for ``KafkaTopicReader``, which looks for its own end markers.
    let skipsEndMarkers: Bool
    /// Gaps to read again (nil unless ``KafkaConsumerConfig/checksGaps``).
    let gapState: Locked<GapState>?

    public convenience init(config: KafkaConsumerConfig, logger: Logger) throws(KafkaError) {
        try self.init(config: config, logger: logger, skipsEndMarkers: true)
    }

    init(config: KafkaConsumerConfig, logger: Logger, skipsEndMarkers: Bool) throws(KafkaError) {
        self.config = config
        self.logger = logger
        self.skipsEndMarkers = skipsEndMarkers
        gapState = config.checksGaps ? Locked(GapState(gaps: FetchGaps(settle: config.gapSettle.timeInterval))) : nil
        handle = try RdKafkaHandle(
            type: RD_KAFKA_CONSUMER, properties: config.properties,
            events: Int32(RD_KAFKA_EVENT_FETCH | RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_ERROR))
        try KafkaError.check(rd_kafka_poll_set_consumer(handle.pointer), "route events to the consumer queue")
        queue = UncheckedBox(rd_kafka_queue_get_consumer(handle.pointer)!)
    }

    deinit { rd_kafka_queue_destroy(queue.value) }

    /// Joins the group for `topics`; assignments arrive through `poll`.
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = TopicPartitionList.make(topics.map { TopicPartition($0, -1) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_subscribe(handle.pointer, list), "subscribe to \(topics.joined(separator: ","))")
    }

    /// Reads exactly these partitions from these offsets, outside group management.
    public func assign(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        forgetGaps(nil)
        startGaps(offsets)
        let list = TopicPartitionList.make(offsets.mapValues { Optional($0) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_assign(handle.pointer, list), "assign partitions")
    }

    /// Returns up to `maxRecords` records and any rebalance or error events, waiting at
    /// most `timeout` for the first one. Applies a pending revocation first.
    public func poll(maxRecords: Int = 500, timeout: Duration = .milliseconds(100)) async throws(KafkaError) -> [KafkaConsumerEvent] {
        try await Blocking.run { [self] () throws(KafkaError) in try pollBlocking(maxRecords: maxRecords, timeout: timeout) }
    }

    func pollBlocking(maxRecords: Int, timeout: Duration) throws(KafkaError) -> [KafkaConsumerEvent] {
        try applyPendingRevocation()
        var events = try recheckGaps()
        var records = 0
        let deadline = ContinuousClock.now + timeout
        while records < maxRecords {
            let wait = records == 0 ? max(0, (deadline - ContinuousClock.now).milliseconds) : 0
            guard let event = rd_kafka_queue_poll(queue.value, wait) else { break }
            defer { rd_kafka_event_destroy(event) }
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_FETCH:
                while let message = rd_kafka_event_message_next(event) {
                    let err = message.pointee.err
                    if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        let record = KafkaRecord(UnsafeMutablePointer(mutating: message))
                        observe(record.topicPartition, offset: record.offset)
                        if !(skipsEndMarkers && record.isEndMarker) { events.append(.record(record)); records += 1 }
                    } else if err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        events.append(.error(KafkaError(code: err, operation: "fetch")))
                    }
                }
            case RD_KAFKA_EVENT_REBALANCE:
                events.append(try handleRebalance(event))
                return events  // the stage sees the rebalance before anything after it
            case RD_KAFKA_EVENT_ERROR:
                if let fatal = logKafkaErrorEvent(event, logger: logger) { throw fatal }
                events.append(.error(KafkaError(code: rd_kafka_event_error(event), operation: "consume")))
            case RD_KAFKA_EVENT_LOG:
                logKafkaLogEvent(event, logger: logger)
            default:
                break
            }
        }
        return events
    }

    /// Commits `offsets` (each the next offset to read: last processed + 1), held back at
    /// any gap not yet read again (``committable(_:)``), and waits for the broker to
    /// confirm. Returns what it committed.
    @discardableResult
    public func commit(_ offsets: [TopicPartition: Int64]) async throws(KafkaError) -> [TopicPartition: Int64] {
        let offsets = committable(offsets)
        guard !offsets.isEmpty else { return offsets }
        let handle = self.handle
        let list = UncheckedBox(TopicPartitionList.make(offsets.mapValues { Optional($0) }))
        defer { rd_kafka_topic_partition_list_destroy(list.value) }
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_commit(handle.pointer, list.value, 0), "commit offsets")
            for (tp, _, err) in TopicPartitionList.elements(list.value) where err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: err, operation: "commit the offset of \(tp)")
            }
        }
        return offsets
    }

    /// The group's committed offsets for `partitions` (nil where none is committed).
    public func committed(_ partitions: [TopicPartition], timeout: Duration? = nil) async throws(KafkaError) -> [TopicPartition: Int64?] {
        try await Blocking.run { [self] () throws(KafkaError) in try committedBlocking(partitions, timeout: timeout) }
    }

    /// ``committed(_:timeout:)``, on the caller's thread.
    func committedBlocking(_ partitions: [TopicPartition], timeout: Duration? = nil) throws(KafkaError) -> [TopicPartition: Int64?] {
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let ms = (timeout ?? config.client.requestTimeout).milliseconds
        try KafkaError.check(rd_kafka_committed(handle.pointer, list, ms), "read committed offsets")
        var result: [TopicPartition: Int64?] = [:]
        for (tp, offset, _) in TopicPartitionList.elements(list) { result[tp] = offset >= 0 ? offset : nil }
        return result
    }

    /// The broker's high watermark of each of `partitions` (the offset after its last
    /// record, as the broker reports it), one request per partition.
    ///
    /// Tansu reports the start of the batch it stored last + 1 (brief section 1), so it can
    /// fall short by up to a batch (or more, when batches were stored out of order): alone,
    /// never "the end" (``KafkaTopicReader/latestOffsets(topic:)`` says what it is good for).
    public func highWatermarks(_ partitions: [TopicPartition], timeout: Duration? = nil) async throws(KafkaError) -> [TopicPartition: Int64] {
        let timeout = timeout ?? config.client.requestTimeout
        let handle = self.handle
        return try await Blocking.run { () throws(KafkaError) in try handle.highWatermarks(partitions, timeout: timeout) }
    }

    /// The offset after the last record this member handed out (or skipped: end markers
    /// count) for each of `partitions`; nil where it has handed out none yet. Unlike the
    /// committed offset, it moves past end markers, which nobody commits.
    public func position(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Int64?] {
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try KafkaError.check(rd_kafka_position(handle.pointer, list), "read positions")
        var result: [TopicPartition: Int64?] = [:]
        for (tp, offset, _) in TopicPartitionList.elements(list) { result[tp] = offset >= 0 ? offset : nil }
        return result
    }

    /// `topic[partition]@position` for each of `partitions` that has a position, sorted: what a
    /// stage's failure message shows of where its fetching stands.
    public func describePositions(_ partitions: [TopicPartition]) -> [String] {
        ((try? position(partitions)) ?? [:]).compactMap { tp, at in at.map { "\(tp)@\($0)" } }.sorted()
    }

    /// Stops fetching `partitions` (records already fetched may still be returned once).
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changePause(partitions, pause: true)
    }

    /// Starts fetching paused `partitions` again.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try changePause(partitions, pause: false)
    }

    private func changePause(_ partitions: [TopicPartition], pause: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        let list = TopicPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let code = pause ? rd_kafka_pause_partitions(handle.pointer, list) : rd_kafka_resume_partitions(handle.pointer, list)
        try KafkaError.check(code, pause ? "pause partitions" : "resume partitions")
    }

    /// Moves the fetch position of assigned partitions; the next records come from there.
    public func seek(_ offsets: [TopicPartition: Int64], timeout: Duration? = nil) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        gapState?.withLock { state in for (tp, offset) in offsets { state.gaps.moved(tp, to: offset) } }
        let (handle, ms) = (handle, (timeout ?? config.client.requestTimeout).milliseconds)
        let list = UncheckedBox(TopicPartitionList.make(offsets.mapValues { Optional($0) }))
        defer { rd_kafka_topic_partition_list_destroy(list.value) }
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_seek_partitions(handle.pointer, list.value, ms), "seek")
            for (tp, _, err) in TopicPartitionList.elements(list.value) where err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: err, operation: "seek \(tp)")
            }
        }
    }

    /// The partitions currently assigned to this member.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(handle.pointer, &list), "read the assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return TopicPartitionList.partitions(list)
    }

    /// This member's group state, for ``KafkaProducer/sendOffsetsToTransaction(_:group:timeout:)``.
    public func groupMetadata() throws(KafkaError) -> KafkaConsumerGroupMetadata {
        guard let metadata = rd_kafka_consumer_group_metadata(handle.pointer) else {
            throw KafkaError(kind: .state, message: "no group metadata", operation: "read group metadata")
        }
        return KafkaConsumerGroupMetadata(metadata)
    }

    /// Leaves the group (revoking and releasing every partition) and stops fetching.
    /// Commit what you handled first: close commits nothing.
    public func close() async throws(KafkaError) {
        try await Blocking.run { [self] () throws(KafkaError) in
            try applyPendingRevocation()
            try KafkaError.check(rd_kafka_consumer_close_queue(handle.pointer, queue.value), "close the consumer")
            while rd_kafka_consumer_closed(handle.pointer) == 0 {
                guard let event = rd_kafka_queue_poll(queue.value, 100) else { continue }
                if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE {
                    _ = try? handleRebalance(event)
                    try? applyPendingRevocation()
                }
                rd_kafka_event_destroy(event)
            }
        }
        if let reader = gapState?.withLock({ $0.reader }) { try await reader.close() }
    }
}
