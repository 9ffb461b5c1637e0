import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceKafka

/// `sluice-fanout`: turns each event of `sluice.events` into one delivery per matching
/// enabled endpoint on `sluice.deliveries`, exactly once per event on Apache Kafka.
///
/// Each batch of polled events is one Kafka transaction: its deliveries and rejections
/// are produced, the batch's consumed offsets are sent to the transaction, and it
/// commits; a crash anywhere aborts it (the restarted copy, with the same instance id,
/// fences the old producer) and the batch is read again. The endpoint registry catches
/// up (``EndpointDirectory/catchUp()``) after a batch is polled and before it is fanned
/// out. A batch ends on a rebalance, so a revoked partition never has work in an open
/// transaction when it is released.
///
/// Invariant: every consumed event is either fanned out, rejected (to
/// `sluice.rejected`, with its reason) or counted as unmatched, in the transaction that
/// commits its offset.
///
/// ```swift
/// let stage = try await FanoutStage.start(runtime: runtime, topology: topology, delivery: delivery)
/// try await ServiceGroup(services: [stage], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger).run()
/// ```
public final class FanoutStage: Service, Sendable {
    public struct Config: Sendable {
        /// Events per transaction at most.
        public var batchMaxEvents = 2000
        /// How long a batch gathers events after its first one. None by default: a batch
        /// is what one poll finds, so under load batches grow by themselves while the
        /// previous transaction commits, and at low load no event waits for others.
        public var batchWindow: Duration = .zero
        public init() {}
    }

    public static let group = "sluice-fanout"

    let runtime: StageRuntime
    let config: Config
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let directory: EndpointDirectory
    let transform: FanoutTransform
    let lagProbe: LagProbe
    let metrics = FanoutMetrics()
    /// Failed transactions in a row (a batch that keeps failing goes record by record).
    let failures = Locked(0)
    public let counters = Locked(FanoutCounters())

    init(
        runtime: StageRuntime, config: Config, consumer: KafkaConsumer, producer: KafkaProducer,
        directory: EndpointDirectory, transform: FanoutTransform, lagProbe: LagProbe
    ) {
        self.runtime = runtime
        self.config = config
        self.consumer = consumer
        self.producer = producer
        self.directory = directory
        self.transform = transform
        self.lagProbe = lagProbe
    }

    /// Checks the topology, loads the endpoints, fences any predecessor and joins the group.
    public static func start(runtime: StageRuntime, topology: Topology, delivery: DeliverySettings, config: Config = Config()) async throws -> FanoutStage {
        let prefix = runtime.settings.topicPrefix
        let admin = try KafkaAdmin(config: runtime.kafka, logger: runtime.logger)
        try await admin.requireTopics(try topology.topics(ofGroup: group, prefix: prefix))
        let reader = try runtime.reader()
        let directory = try await EndpointDirectory.open(topic: prefix + "endpoints", reader: reader, logger: runtime.logger)
        let producer = try runtime.producer(transactional: true)
        try await producer.initTransactions()
        let consumer = try KafkaConsumer(config: runtime.consumerConfig(group: group), logger: runtime.logger)
        try consumer.subscribe([prefix + "events"])
        let transform = FanoutTransform(
            decoder: EventDecoder(maxBytes: delivery.maxEventBytes), deliveriesTopic: prefix + "deliveries",
            rejectedTopic: prefix + "rejected")
        runtime.logger.info("fanout started", metadata: ["instance": "\(runtime.settings.instanceID)"])
        let lagProbe = LagProbe(topic: prefix + "events", reader: reader)
        return FanoutStage(
            runtime: runtime, config: config, consumer: consumer, producer: producer, directory: directory,
            transform: transform, lagProbe: lagProbe)
    }

    /// Runs until a graceful shutdown (SIGTERM/SIGINT) or cancellation, then leaves the
    /// group. A batch in progress finishes first.
    public func run() async throws {
        defer { runtime.logger.info("fanout stopped", metadata: counters.withLock { $0.metadata }) }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let batch = try await nextBatch()
            if !batch.isEmpty { try await fanOut(batch) }
            if let lag = await lagProbe.measure(consumer: consumer) { metrics.lag.record(lag) }
        }
        try await consumer.close()
        try await producer.close()
        await directory.close()
    }

    /// Polls up to `batchMaxEvents` records, for at most `batchWindow` after the first;
    /// stops early at a rebalance.
    func nextBatch() async throws -> [KafkaRecord] {
        var batch: [KafkaRecord] = []
        var deadline: ContinuousClock.Instant?
        while batch.count < config.batchMaxEvents {
            let wait = deadline.map { max(.zero, $0 - .now) } ?? .milliseconds(100)
            let events = try await consumer.poll(maxRecords: config.batchMaxEvents - batch.count, timeout: wait)
            var rebalanced = false
            for event in events {
                switch event {
                case .record(let record): batch.append(record)
                case .skipped(let records): batch += records
                case .assigned, .revoked:
                    rebalanced = true
                    lagProbe.reassigned()
                case .error(let error): runtime.logger.warning("consumer error", metadata: ["error": "\(error)"])
                }
            }
            if batch.isEmpty || rebalanced { break }
            deadline = deadline ?? .now + config.batchWindow
            if ContinuousClock.now >= deadline! { break }
        }
        return batch
    }

    /// One transaction: deliveries and rejections of `batch`, and its offsets. A batch the
    /// broker refuses for good (or again and again) goes record by record
    /// (``IsolatedTransactions``), so one bad record never holds up the others.
    func fanOut(_ batch: [KafkaRecord]) async throws {
        try await directory.catchUp()
        let registry = directory.registry
        let now = Date()
        var next: [TopicPartition: Int64] = [:]
        var first: [TopicPartition: Int64] = [:]
        var tally = FanoutCounters()
        let started = ContinuousClock.now
        var caused: [Caused] = []
        caused.reserveCapacity(batch.count)
        for record in batch {
            next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset + 1)
            first[record.topicPartition] = min(first[record.topicPartition] ?? .max, record.offset)
            tally.events += 1
            var entry = Caused(source: record, records: [], next: [record.topicPartition: record.offset + 1])
            switch transform.transform(record, registry: registry, now: now) {
            case .deliveries(let deliveries):
                tally.deliveries += deliveries.count
                entry.records = deliveries
            case .rejected(let rejected, let reason):
                tally.rejected[reason.code, default: 0] += 1
                entry.records = [rejected]
            case .unmatched:
                tally.unmatched += 1
            }
            caused.append(entry)
        }
        let isolated = IsolatedTransactions(
            producer: producer, rejectedTopic: transform.rejectedTopic, logger: runtime.logger, committable: consumer.committable)
        let written = try await isolated.commit(
            caused, offsets: next, group: try consumer.groupMetadata(), failures: failures, stage: "fanout",
            aborted: { metrics.aborted.increment() }, readAgain: { try await consumer.seek(first) })
        guard written else { return }
        for (reason, count) in tally.rejected { Rejection.count(topic: runtime.settings.topicPrefix + "events", reason: reason, by: count) }
        let elapsed = ContinuousClock.now - started
        tally.transactions = 1
        tally.commitMilliseconds = elapsed.timeInterval * 1000
        counters.withLock { $0.add(tally) }
        metrics.record(tally, commit: elapsed)
        lagProbe.committed(next)
    }
}

/// What fanout has done since it started (logged at stop; exported as metrics).
public struct FanoutCounters: Sendable, Equatable {
    public var events = 0
    public var deliveries = 0
    public var unmatched = 0
    public var rejected: [String: Int] = [:]
    public var transactions = 0
    public var commitMilliseconds = 0.0

    mutating func add(_ other: FanoutCounters) {
        events += other.events
        deliveries += other.deliveries
        unmatched += other.unmatched
        rejected.merge(other.rejected, uniquingKeysWith: +)
        transactions += other.transactions
        commitMilliseconds += other.commitMilliseconds
    }

    var metadata: Logger.Metadata {
        [
            "events": "\(events)", "deliveries": "\(deliveries)", "unmatched": "\(unmatched)",
            "rejected": "\(rejected.values.reduce(0, +))", "transactions": "\(transactions)",
        ]
    }
}
