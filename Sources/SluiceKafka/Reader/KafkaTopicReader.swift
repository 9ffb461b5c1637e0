import CRdKafka
import Foundation
import Logging
import SluiceCore

/// Reads a topic outside any consumer group: to its end, or from a point in time.
///
/// "The end" is found by writing a no-op marker record to each partition and reading up
/// to the offsets the broker acknowledged for them, because watermarks are wrong on
/// Tansu (brief §1; Confluent Schema Registry reads `_schemas` the same way). Every
/// consumer of this layer skips markers (``KafkaRecord/isEndMarker``).
///
/// Invariant: only call this on topics that exist (a marker to an unknown topic would
/// make Tansu create it).
///
/// ```swift
/// let reader = KafkaTopicReader(client: client, producer: producer, admin: admin, logger: logger)
/// let next = try await reader.readToEnd(topic: "sluice.endpoints") { record in registry.apply(record) }
/// ```
public struct KafkaTopicReader: Sendable {
    public let client: KafkaClientConfig
    public let producer: KafkaProducer
    public let admin: KafkaAdmin
    public let logger: Logger
    /// How long a read to the end may take before it fails.
    public var timeout: Duration = .seconds(60)
    /// The fetch wait of the reader's consumer (Tansu waits this long per fetch).
    public var fetchWaitMax: Duration = .milliseconds(10)
    /// How long a topic's partition count is trusted before it is asked again. A read to
    /// the end (fanout's, before every batch) would otherwise cost one metadata round trip
    /// more; partitions added to a topic are seen within this long.
    public var partitionsTTL: Duration = .seconds(30)
    /// Whether followers that take records found late (``KafkaTopicFollower`` with a
    /// ``RecoveredRecords`` rule) read again what their fetches jumped over
    /// (``KafkaConsumerConfig/checksGaps``: Tansu), after ``gapSettle``.
    public var checksGaps = false
    public var gapSettle: Duration = .seconds(1)
    private let knownPartitions = Locked<[String: (count: Int, at: ContinuousClock.Instant)]>([:])

    public init(client: KafkaClientConfig, producer: KafkaProducer, admin: KafkaAdmin, logger: Logger) {
        self.client = client
        self.producer = producer
        self.admin = admin
        self.logger = logger
    }

    /// The partitions of `topic` (its count kept for ``partitionsTTL``).
    public func partitions(of topic: String) async throws(KafkaError) -> [TopicPartition] {
        let now = ContinuousClock.now
        let known = knownPartitions.withLock { $0[topic] }
        if let known, now - known.at < partitionsTTL { return Self.partitions(of: topic, count: known.count) }
        guard let description = try await admin.describeTopics()[topic] else {
            throw KafkaError(kind: .topicsMissing([topic]), message: "topic \(topic) not found", operation: "read \(topic)")
        }
        knownPartitions.withLock { $0[topic] = (description.partitions, now) }
        return Self.partitions(of: topic, count: description.partitions)
    }

    private static func partitions(of topic: String, count: Int) -> [TopicPartition] {
        (0..<Int32(clamping: count)).map { TopicPartition(topic, $0) }
    }

    /// The broker's end of each partition of `topic` (ListOffsets "latest", read_committed:
    /// Apache Kafka's last stable offset; on Tansu the start of the batch it stored last,
    /// plus one). Not the end on Tansu: ``KafkaTopicFollower/catchUp(_:)`` says why it is
    /// enough for a follower that keeps fetching.
    ///
    /// Asked through the reader's producer, whose connection never holds a fetch: Tansu
    /// answers one request at a time per connection, so a query on a consumer's connection
    /// waited behind its long-poll (measured in fanout's catch-ups at 100 events/s: p50 7 ms
    /// on the follower's own consumer, 0.5–1.0 ms here).
    public func latestOffsets(topic: String) async throws(KafkaError) -> [TopicPartition: Int64] {
        let partitions = try await partitions(of: topic)
        let (handle, timeout) = (producer.handle, timeout)
        return try await Blocking.run { () throws(KafkaError) in try handle.highWatermarks(partitions, timeout: timeout) }
    }

    /// Writes an end marker to every partition of `topic`; returns the offset each
    /// landed at. Every record written before the call has a lower offset.
    public func endOffsets(topic: String) async throws(KafkaError) -> [TopicPartition: Int64] {
        let partitions = try await partitions(of: topic)
        let markers = partitions.map { EndMarker.record(topic: topic, partition: $0.partition) }
        let acknowledged = try await producer.send(markers)
        return Dictionary(uniqueKeysWithValues: acknowledged.map { (TopicPartition($0.topic, $0.partition), $0.offset) })
    }

    /// Reads every record of `topic` written before the call, from `start` (the
    /// beginning by default), calling `handle` in offset order per partition. Returns
    /// the offset to continue from in each partition (just past its end marker).
    @discardableResult
    public func readToEnd(
        topic: String, from start: [TopicPartition: Int64]? = nil,
        isolation: KafkaConsumerConfig.Isolation = .readCommitted,
        handle: (KafkaRecord) async throws -> Void
    ) async throws -> [TopicPartition: Int64] {
        let ends = try await endOffsets(topic: topic)
        let consumer = try makeConsumer(isolation: isolation)
        try consumer.assign(ends.mapValues { _ in sluice_rd_offset_beginning() }.merging(start ?? [:]) { $1 })
        var remaining = Set(ends.keys)
        let deadline = ContinuousClock.now + timeout
        while !remaining.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    kind: .timedOut,
                    message: "\(remaining.count) partitions of \(topic) did not reach their end within \(timeout) "
                        + "(an open transaction on the topic holds back read_committed readers)",
                    operation: "read \(topic) to its end", isRetriable: true)
            }
            for event in try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(200)) {
                guard case .record(let record) = event, let end = ends[record.topicPartition] else { continue }
                if record.offset >= end {
                    remaining.remove(record.topicPartition)
                } else if !record.isEndMarker {
                    try await handle(record)
                }
            }
        }
        return ends.mapValues { $0 + 1 }
    }

    func makeConsumer(isolation: KafkaConsumerConfig.Isolation = .readCommitted, checksGaps: Bool = false) throws(KafkaError) -> KafkaConsumer {
        var config = KafkaConsumerConfig(
            client: client, groupID: "sluice-reader-\(UUID().uuidString)", isolation: isolation,
            fetchWaitMax: fetchWaitMax)
        config.client.clientID = "\(client.clientID)-reader"
        config.checksGaps = checksGaps
        config.gapSettle = gapSettle
        return try KafkaConsumer(config: config, logger: logger, skipsEndMarkers: false)
    }
}
