import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SluiceCore
import SluiceKafka

/// `sluice-dlq watch`: follows `sluice.dlq` (group `sluice-dlq`), counts dead letters by
/// reason for Prometheus, writes at most one `ops` event per endpoint and interval
/// summarising its new dead letters (``DeadLetterDigest``), and moves records that are
/// not dead letters to `sluice.rejected`.
///
/// Invariant: a record's offset is committed only after what it caused (a rejection, a
/// due summary) was acknowledged. Counts waiting for their endpoint's interval live in
/// memory: a crash loses them from the next summary, never a dead letter.
///
/// ```swift
/// let watch = try await DeadLetterWatch.start(runtime: runtime, topology: topology)
/// ```
public final class DeadLetterWatch: Service, Sendable {
    public static let group = "sluice-dlq"

    let runtime: StageRuntime
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let digest: Locked<DeadLetterDigest>
    public let counters = Locked<[String: Int]>([:])

    init(runtime: StageRuntime, consumer: KafkaConsumer, producer: KafkaProducer, interval: Duration) {
        self.runtime = runtime
        self.consumer = consumer
        self.producer = producer
        self.digest = Locked(DeadLetterDigest(interval: interval))
    }

    /// Checks the topology and joins the group. `interval`: at most one ops event per
    /// endpoint this often.
    public static func start(runtime: StageRuntime, topology: Topology, interval: Duration = .seconds(3600)) async throws -> DeadLetterWatch {
        let prefix = runtime.settings.topicPrefix
        try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics(try topology.topics(ofGroup: group, prefix: prefix))
        // Dead letters feed metrics and hourly ops events: a background fetch wait.
        let consumer = try KafkaConsumer(
            config: runtime.consumerConfig(group: group, fetchWait: runtime.settings.backgroundFetchWait), logger: runtime.logger)
        try consumer.subscribe([prefix + "dlq"])
        runtime.logger.info("dead-letter watch started", metadata: ["summary_interval": "\(DurationText.format(interval))"])
        return DeadLetterWatch(runtime: runtime, consumer: consumer, producer: try runtime.producer(), interval: interval)
    }

    public func run() async throws {
        let prefix = runtime.settings.topicPrefix
        let writer = DurableWriter(producer: producer, rejectedTopic: prefix + "rejected", logger: runtime.logger)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let now = Date()
            var out: [KafkaProducerRecord] = []
            var rejections: [(KafkaRecord, KafkaProducerRecord)] = []
            var next: [TopicPartition: Int64] = [:]
            for record in try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(200)).flatMap(\.records) {
                next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset + 1)
                switch DeadLetterArchive.classify(record) {
                case .marker:
                    break
                case .deadLetter(let dead):
                    counters.withLock { $0[dead.reason, default: 0] += 1 }
                    Counter(label: "sluice_dlq_dead_letters_total", dimensions: [("reason", dead.reason)]).increment()
                    out += digest.withLock { $0.add(dead, at: now) }.map { summaryRecord($0, prefix: prefix, at: now) }
                case .unreadable(let why):
                    runtime.logger.warning("moved an unreadable DLQ record to rejected", metadata: ["offset": "\(record.topicPartition)@\(record.offset)", "error": "\(why)"])
                    Rejection.count(topic: record.topic, reason: "bad_dead_letter")
                    rejections.append((record, Rejection.record(of: record, topic: prefix + "rejected", code: "bad_dead_letter", detail: why)))
                }
            }
            out += digest.withLock { $0.due(at: now) }.map { summaryRecord($0, prefix: prefix, at: now) }
            // A record the broker refuses (too large, even truncated) is replaced or given
            // up by the writer, never retried forever: the watch keeps going.
            for (source, rejection) in rejections { guard await writer.write([rejection], source: source) else { break } }
            guard await writer.write(out, source: nil) else { break }
            if !next.isEmpty {
                do { try await consumer.commit(next) } catch {
                    runtime.logger.warning("commit failed; the records are read again", metadata: ["error": "\(error)"])
                }
            }
        }
        try await consumer.close()
        try await producer.close()
    }

    func summaryRecord(_ summary: DeadLetterDigest.Summary, prefix: String, at now: Date) -> KafkaProducerRecord {
        Counter(label: "sluice_dlq_ops_summaries_total").increment()
        return OpsEvent.record(
            topic: prefix + "ops", kind: "dead_letters", endpointID: summary.endpointID, tenant: summary.tenant, detail: summary.detail, at: now,
            fields: ["count": .number(Double(summary.count)), "reasons": .object(summary.reasons.mapValues { .number(Double($0)) })])
    }
}
