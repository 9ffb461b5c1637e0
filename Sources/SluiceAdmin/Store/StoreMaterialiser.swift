import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceKafka
import SluiceStage

/// Keeps a ``QueryStore`` in step with `sluice.endpoints`, `sluice.attempts`, `sluice.dlq`
/// and `sluice.ops`: follows each topic from the positions the store holds and writes every
/// batch of records with the positions it reaches in one store transaction.
///
/// Invariants: a record is in the store exactly when its position is (a restart resumes
/// there; an empty store starts from the beginning); a record that is not a valid
/// endpoint or attempt is skipped, logged, and its position still moves on; a row older
/// than the retention is left out (its position moves on too); the store is *caught up*
/// once every record written before the materialiser opened is in it.
///
/// ```swift
/// let materialiser = try await StoreMaterialiser.open(store: store, reader: reader, topics: .init(prefix: "sluice."), logger: logger)
/// let metadata = try await producer.send(record)
/// try await materialiser.waitUntilApplied(metadata)    // read-your-writes
/// ```
public final class StoreMaterialiser: Service, Sendable {
    /// The topics the store is made from.
    public struct Topics: Sendable {
        public var endpoints, attempts, deadLetters, ops, events: String
        public init(prefix: String) {
            (endpoints, attempts, deadLetters, ops) = (prefix + "endpoints", prefix + "attempts", prefix + "dlq", prefix + "ops")
            events = prefix + "events"
        }
    }

    /// One followed topic and how its records become rows.
    struct Feed: Sendable {
        let follower: KafkaTopicFollower
        let decode: @Sendable (KafkaRecord, inout StoreBatch) throws(WireError) -> Void
    }

    private let store: any QueryStore
    private let feeds: [Feed]
    private let applied: Locked<[TopicPartition: Int64]>
    private let ends: [TopicPartition: Int64]
    private let caughtUp = Locked(false)
    private let failing = Locked<String?>(nil)
    private let logger: Logger
    /// Rows older than this are not stored (``StoreRetention`` prunes the ones that age).
    private let retention: Duration?
    /// Records per store transaction at most.
    public static let batchRecords = 2000

    private init(
        store: any QueryStore, feeds: [Feed], applied: [TopicPartition: Int64], ends: [TopicPartition: Int64], retention: Duration?, logger: Logger
    ) {
        self.retention = retention
        self.store = store
        self.feeds = feeds
        self.applied = Locked(applied)
        self.ends = ends
        self.logger = logger
    }

    /// Opens followers at the store's positions and notes where the topics end now (the
    /// point after which the store counts as caught up).
    public static func open(
        store: any QueryStore, reader: KafkaTopicReader, topics: Topics, eventDecoder: EventDecoder = EventDecoder(), retention: Duration? = nil,
        logger: Logger
    ) async throws -> StoreMaterialiser {
        var applied: [TopicPartition: Int64] = [:]
        var ends: [TopicPartition: Int64] = [:]
        var feeds: [Feed] = []
        let decoders: [(String, @Sendable (KafkaRecord, inout StoreBatch) throws(WireError) -> Void)] = [
            (topics.endpoints, endpointChange), (topics.attempts, attempt), (topics.deadLetters, deadLetter), (topics.ops, opsEvent),
            (topics.events, event(eventDecoder)),
        ]
        for (topic, decode) in decoders {
            let positions = try await store.positions(topic: topic)
            applied.merge(positions) { $1 }
            ends.merge(try await reader.endOffsets(topic: topic)) { $1 }
            // Records found late (Tansu; the reader's gap checks): an endpoint's older revision
            // is dropped when a newer one was applied; every other row counts on its own.
            let rule: RecoveredRecords = topic == topics.endpoints ? .unlessSuperseded : .all
            feeds.append(Feed(follower: try await KafkaTopicFollower(topic: topic, reader: reader, from: positions, recovered: rule), decode: decode))
        }
        return StoreMaterialiser(store: store, feeds: feeds, applied: applied, ends: ends, retention: retention, logger: logger)
    }

    /// True once every record written before ``open`` is in the store.
    public var isCaughtUp: Bool { caughtUp.withLock { $0 } }
    /// Why the last round failed, while it does (a broker or store problem).
    public var problem: String? { failing.withLock { $0 } }

    /// Follows both topics until cancelled or a graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var moved = false
                do {
                    for feed in self.feeds { moved = try await self.round(feed) || moved }
                    self.failing.withLock { $0 = nil }
                } catch {
                    self.failing.withLock { $0 = "\(error)" }
                    self.logger.warning("store materialisation failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
                self.checkCaughtUp()
                if !moved { try? await Task.sleep(for: .milliseconds(100)) }
            }
        }
        for feed in feeds { await feed.follower.close() }
    }

    /// Waits (at most `timeout`) until the record at `metadata` is in the store.
    public func waitUntilApplied(_ metadata: KafkaRecordMetadata, timeout: Duration = .seconds(15)) async throws {
        let tp = TopicPartition(metadata.topic, metadata.partition)
        let deadline = ContinuousClock.now + timeout
        while (applied.withLock { $0[tp] ?? 0 }) <= metadata.offset {
            guard ContinuousClock.now < deadline else {
                throw APIProblem.unavailable("the change was written but the query store has not caught up within \(timeout); read it again shortly")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func round(_ feed: Feed) async throws -> Bool {
        let (records, positions) = try await feed.follower.next(maxRecords: Self.batchRecords)
        guard !positions.isEmpty || !records.isEmpty else { return false }
        var batch = StoreBatch()
        batch.positions = positions
        for record in records {
            do throws(WireError) { try feed.decode(record, &batch) } catch {
                logger.warning("skipped a bad record", metadata: ["offset": "\(record.topicPartition)@\(record.offset)", "error": "\(error)"])
            }
        }
        if let retention { batch.dropRows(olderThan: Date().addingTimeInterval(-retention.timeInterval)) }
        try await store.apply(batch)
        applied.withLock { $0.merge(positions) { max($0, $1) } }
        return true
    }

    private func checkCaughtUp() {
        guard !isCaughtUp else { return }
        let done = applied.withLock { applied in ends.allSatisfy { (applied[$0.key] ?? 0) >= $0.value } }
        if done {
            caughtUp.withLock { $0 = true }
            logger.info("query store caught up")
        }
    }

    static func endpointChange(_ record: KafkaRecord, _ batch: inout StoreBatch) throws(WireError) {
        guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }), !key.isEmpty else {
            throw WireError(kind: Endpoint.kind, problem: "no key")
        }
        guard let value = record.value else {
            batch.endpoints.append(.delete(id: key))
            return
        }
        let endpoint = try Endpoint(wireBytes: value)
        guard endpoint.id == key else { throw WireError(kind: Endpoint.kind, problem: "record key \(key) differs from its id \(endpoint.id)") }
        batch.endpoints.append(.upsert(endpoint))
    }

    static func attempt(_ record: KafkaRecord, _ batch: inout StoreBatch) throws(WireError) {
        guard let value = record.value else { throw WireError(kind: Attempt.kind, problem: "no value") }
        batch.attempts.append(StoredAttempt(partition: record.partition, offset: record.offset, attempt: try Attempt(wireBytes: value)))
    }

    static func deadLetter(_ record: KafkaRecord, _ batch: inout StoreBatch) throws(WireError) {
        // A replay's marker (what it sent) shares the topic; it is no dead letter.
        if record.headers[header: WireFormat.header]?.stringValue == ReplayMarker.formatHeader { return }
        guard let value = record.value else { throw WireError(kind: DeadLetter.kind, problem: "no value") }
        batch.deadLetters.append(StoredDeadLetter(partition: record.partition, offset: record.offset, letter: try DeadLetter(wireBytes: value)))
    }

    static func opsEvent(_ record: KafkaRecord, _ batch: inout StoreBatch) throws(WireError) {
        let bytes = record.value ?? []
        batch.opsEvents.append(try StoredOpsEvent(partition: record.partition, offset: record.offset, bytes: bytes))
        if let tested = TestSendNote.event(in: bytes) { batch.events.append(tested) }
    }

    /// Indexes an event as fanout reads it; what fanout rejects (and writes to
    /// `sluice.rejected` with the reason) is not indexed, silently: it is no event.
    static func event(_ decoder: EventDecoder) -> @Sendable (KafkaRecord, inout StoreBatch) throws(WireError) -> Void {
        { record, batch throws(WireError) in
            var headers: [String: [UInt8]] = [:]
            for header in record.headers { headers[header.key] = header.value ?? [] }
            guard case .success(let event) = decoder.decode(key: record.key, value: record.value, headers: headers) else { return }
            let at = record.timestampMs.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
            batch.events.append(
                StoredEvent(topic: record.topic, partition: record.partition, offset: record.offset, eventID: event.id, tenant: event.tenant, eventType: event.type, at: at))
        }
    }
}
