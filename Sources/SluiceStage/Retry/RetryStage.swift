import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceKafka

/// `sluice-retry --tier 1m|10m|1h`: holds the deliveries of one delay topic until their
/// `not_before`, then forwards them to `sluice.deliveries` (or to a larger tier when they
/// are due later than this tier holds, e.g. after a long `Retry-After`).
///
/// Each tier topic is FIFO with one delay, so the head of a partition is the next due.
/// When the head is not due, the partition is paused, its position moved back to the
/// head, and a timer resumes it when the head is due (``TierHolds``): no busy polling,
/// and the poll loop keeps running, so the member stays in its group however long
/// everything waits. Forwards are one Kafka transaction per polled batch with the
/// consumed offsets, so a crash neither loses nor (on Apache Kafka) repeats a forward.
///
/// Invariant: a record's offset is committed only in the transaction that forwards,
/// moves or rejects it; a held record is never committed.
///
/// ```swift
/// let stage = try await RetryStage.start(runtime: runtime, topology: topology, delivery: delivery, tier: .oneMinute)
/// try await ServiceGroup(services: [stage], gracefulShutdownSignals: [.sigterm], logger: runtime.logger).run()
/// ```
public final class RetryStage: Service, Sendable {
    /// The consumer group (and topology group) of `tier`: `sluice-retry-1m`, ….
    public static func group(of tier: RetryTier) -> String { "sluice-retry-\(tier.rawValue)" }

    let runtime: StageRuntime
    let tier: RetryTier
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let routing: TierRouting
    let holds = Locked(TierHolds())
    let timers = Locked<[TopicPartition: Task<Void, Never>]>([:])
    let metrics: RetryMetrics
    /// Failed transactions in a row (a batch that keeps failing goes record by record).
    let failures = Locked(0)
    public let counters = Locked(RetryCounters())
    /// When the poll loop last began a turn, and what it was doing since (for ``describe()``).
    let loop = Locked((at: Date(), doing: "starting"))

    init(runtime: StageRuntime, tier: RetryTier, consumer: KafkaConsumer, producer: KafkaProducer, routing: TierRouting) {
        self.runtime = runtime
        self.tier = tier
        self.consumer = consumer
        self.producer = producer
        self.routing = routing
        self.metrics = RetryMetrics(tier: tier)
    }

    /// The tier consumer's fetch wait: a record waits here at least the tier's `delay`, so
    /// a quarter of it (between the stage's fetch wait and the background one) costs it
    /// nothing, and an idle tier asks the broker a few times a second, not a hundred.
    ///
    /// ```swift
    /// RetryStage.fetchWait(delay: .seconds(60), settings: tansu)  // 250 ms
    /// ```
    static func fetchWait(delay: Duration, settings: StageSettings) -> Duration {
        min(settings.backgroundFetchWait, max(settings.fetchWaitMax, delay / 4))
    }

    /// Checks the topology, fences any predecessor with the same instance id and joins the
    /// tier's group. `runtime.name` should name the tier (`sluice-retry-1m`): it makes the
    /// transactional id.
    public static func start(runtime: StageRuntime, topology: Topology, delivery: DeliverySettings, tier: RetryTier) async throws -> RetryStage {
        let prefix = runtime.settings.topicPrefix
        let group = group(of: tier)
        try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics(try topology.topics(ofGroup: group, prefix: prefix))
        let producer = try runtime.producer(transactional: true)
        try await producer.initTransactions()
        let fetchWait = Self.fetchWait(delay: delivery.tiers.delay(of: tier), settings: runtime.settings)
        let consumer = try KafkaConsumer(config: runtime.consumerConfig(group: group, fetchWait: fetchWait), logger: runtime.logger)
        try consumer.subscribe([prefix + tier.topicSuffix])
        runtime.logger.info(
            "retry tier started",
            metadata: ["tier": "\(tier.rawValue)", "delay": "\(DurationText.format(delivery.tiers.delay(of: tier)))", "instance": "\(runtime.settings.instanceID)"])
        return RetryStage(
            runtime: runtime, tier: tier, consumer: consumer, producer: producer,
            routing: TierRouting(tier: tier, tiers: delivery.tiers, maxAge: delivery.schedule.maxAge, prefix: prefix))
    }

    /// What the tier holds, for a failing test's message.
    func describe() -> String {
        let assigned = (try? consumer.assignment()) ?? []
        let positions = consumer.describePositions(assigned)
        let (at, doing) = loop.withLock { $0 }
        return "\(tier.rawValue): loop turned \(String(format: "%.1f", -at.timeIntervalSinceNow)) s ago, \(doing); \(holds.withLock { $0.summary }), "
            + "timers \(timers.withLock { $0.count }), \(assigned.count) assigned, positions \(positions)"
    }

    /// Runs until a graceful shutdown or cancellation; a batch in progress finishes first.
    public func run() async throws {
        defer { runtime.logger.info("retry tier stopped", metadata: counters.withLock { $0.metadata }) }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            var batch: [KafkaRecord] = []
            loop.withLock { $0 = (Date(), "polling") }
            let events = try await consumer.poll(maxRecords: 500, timeout: .milliseconds(200))
            loop.withLock { $0.doing = "routing \(events.count) events" }
            for event in events {
                switch event {
                case .record(let record):
                    if holds.withLock({ $0.accepts(record.topicPartition, offset: record.offset) }) { batch.append(record) }
                case .assigned(let partitions):
                    try await forward(batch)
                    batch = []
                    cancelTimers(partitions)
                    try await perform(holds.withLock { $0.assigned(partitions) })
                case .revoked(let partitions, _):
                    try await forward(batch)
                    batch = []
                    cancelTimers(partitions)
                    holds.withLock { $0.revoked(partitions) }
                case .skipped(let records):
                    // A hold keeps its partition's order: read the partitions again from the
                    // first skipped record (those forwarded since are forwarded again).
                    try await forward(batch)
                    batch = []
                    try await readAgain(from: Dictionary(records.map { ($0.topicPartition, $0.offset) }, uniquingKeysWith: min))
                case .error(let error):
                    runtime.logger.warning("consumer error", metadata: ["error": "\(error)"])
                }
            }
            try await forward(batch)
            loop.withLock { $0.doing = "re-seeking stalled heads" }
            try await recoverStalled()
            metrics.held.record(holds.withLock { $0.heldCount })
        }
        cancelTimers(nil)
        try await consumer.close()
        try await producer.close()
    }

    /// Routes `batch` in offset order per partition: forwards, moves and rejections in one
    /// transaction with their offsets; the first record not due holds its partition. A
    /// batch the broker refuses for good (or again and again) goes record by record
    /// (``IsolatedTransactions``).
    func forward(_ batch: [KafkaRecord]) async throws {
        guard !batch.isEmpty else { return }
        let now = Date()
        var caused: [Caused] = []
        var next: [TopicPartition: Int64] = [:]
        var first: [TopicPartition: Int64] = [:]
        var tally = RetryCounters()
        for record in batch {
            let tp = record.topicPartition
            if holds.withLock({ $0.skipIfHeld(tp, offset: record.offset) }) { continue }
            first[tp] = first[tp] ?? record.offset
            let out: KafkaProducerRecord
            switch routing.route(record, now: now) {
            case .hold(let until):
                try await perform(holds.withLock { $0.hold(tp, at: record.offset, until: until) })
                continue
            case .forward(let r, let late):
                out = r
                tally.forwarded += 1
                metrics.lateness.recordNanoseconds(Int64(late * 1e9))
            case .move(let r, let to):
                out = r
                tally.moved[to.rawValue, default: 0] += 1
            case .reject(let r, let reason):
                runtime.logger.warning("rejected a record of the tier", metadata: ["reason": "\(reason)", "offset": "\(tp)@\(record.offset)"])
                out = r
                tally.rejected += 1
            }
            caused.append(Caused(source: record, records: [out], next: [:]))
            next[tp] = record.offset + 1
            holds.withLock { $0.handled(tp, offset: record.offset) }
        }
        guard !caused.isEmpty else { return }
        holds.withLock { h in
            next = Dictionary(uniqueKeysWithValues: next.map { ($0.key, h.commitOffset($0.key, next: $0.value)) })
            for i in caused.indices {
                let tp = caused[i].source.topicPartition
                caused[i].next = [tp: h.commitOffset(tp, next: caused[i].source.offset + 1)]
            }
        }
        loop.withLock { $0.doing = "committing \(caused.count) records" }
        let isolated = IsolatedTransactions(
            producer: producer, rejectedTopic: routing.prefix + "rejected", logger: runtime.logger, committable: consumer.committable)
        let written = try await isolated.commit(
            caused, offsets: next, group: try consumer.groupMetadata(), failures: failures, stage: "retry tier",
            aborted: { metrics.aborted.increment() },
            readAgain: { try await readAgain(from: first) })
        guard written else { return }
        if tally.rejected > 0 { Rejection.count(topic: routing.prefix + tier.topicSuffix, reason: "bad_delivery", by: tally.rejected) }
        counters.withLock { $0.add(tally) }
        metrics.record(tally)
    }

    /// Starts partitions again from `offsets`, unheld.
    func readAgain(from offsets: [TopicPartition: Int64]) async throws {
        cancelTimers(Array(offsets.keys))
        try await perform(holds.withLock { $0.restart(Array(offsets.keys)) })
        try await consumer.seek(offsets)
    }

    /// Brings back heads that are overdue (``TierHolds/stalled(now:patience:maxPatience:grace:)``).
    /// A seek that fails here is logged, not thrown: the next turn tries again.
    func recoverStalled() async throws {
        let (actions, overdue) = holds.withLock { h in
            let before = h.overdueWakes
            return (h.stalled(now: Date()), h.overdueWakes - before)
        }
        if overdue > 0 {
            runtime.logger.warning("woke held partitions whose timer had not fired", metadata: ["tier": "\(tier.rawValue)", "partitions": "\(overdue)"])
        }
        do { try await perform(actions) } catch let error as KafkaError where !error.isFatal {
            runtime.logger.warning("could not seek a held partition back to its head; trying again", metadata: ["error": "\(error)"])
        }
    }

    /// Runs what ``TierHolds`` asked for.
    func perform(_ actions: [TierHolds.Action]) async throws {
        for action in actions {
            switch action {
            case .pause(let tp):
                try consumer.pause([tp])
            case .seek(let tp, let offset):
                try await consumer.seek([tp: offset])
            case .resume(let partitions):
                try consumer.resume(partitions)
            case .wake(let tp, let at, let generation):
                let task = Task { [self] in
                    let wait = at.timeIntervalSinceNow
                    if wait > 0 { try? await Task.sleep(for: .wait(seconds: wait) + .milliseconds(1)) }
                    guard !Task.isCancelled else { return }
                    let actions = holds.withLock { $0.wake(tp, generation: generation) }
                    do { try await perform(actions) } catch {
                        runtime.logger.warning("could not resume a partition", metadata: ["partition": "\(tp)", "error": "\(error)"])
                    }
                }
                timers.withLock { $0.updateValue(task, forKey: tp)?.cancel() }
            }
        }
    }

    /// Cancels the wake-up timers of `partitions` (all when nil).
    func cancelTimers(_ partitions: [TopicPartition]?) {
        let cancelled = timers.withLock { timers -> [Task<Void, Never>] in
            guard let partitions else { defer { timers = [:] }; return Array(timers.values) }
            return partitions.compactMap { timers.removeValue(forKey: $0) }
        }
        for task in cancelled { task.cancel() }
    }
}
