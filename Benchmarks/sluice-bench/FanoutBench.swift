import Foundation
import Logging
import SluiceCore
import SluiceKafka
import SluiceStage

/// Fanout's throughput beside its raw limit, on the same broker and records:
/// - sluice: the real stage (decode, match, deliveries, one transaction per batch);
/// - limit: a bare loop of our Kafka layer doing the same consume → transactional
///   produce (F records of the delivery's size, with its headers, per event) with offsets
///   in the transaction, and nothing else; run once before the stage and once after, and
///   the mean taken (the broker warms up over a run: the later run was faster).
func fanoutBenchmark(_ args: Arguments) async throws -> [String: Any] {
    let (client, admin, topology, logger) = try benchSetup(args)

    // The stage, on its own topology.
    let prefix = "bench-\(RandomID.make(length: 6))."
    _ = try await TopologyApplier(admin: admin).apply(topology.resolvedTopics(prefix: prefix), dryRun: false)
    var settings = StageSettings(brokers: args.brokers, topicPrefix: prefix, logLevel: "warning")
    settings.instanceID = prefix
    // As every benchmark (Benchmarks/run.py, BENCH_KAFKA): Tansu's profile, linger 5 ms, no gap checks.
    settings.apply(.tansu)
    settings.linger = .milliseconds(5)
    settings.checksGaps = false
    settings.sessionTimeout = .seconds(6)
    let runtime = StageRuntime(name: "sluice-fanout", settings: settings)
    let masterKey = SecretBox.Key.generateBase64()
    let box = try SecretBox(masterKeyBase64: masterKey)
    let producer = try KafkaProducer(config: KafkaProducerConfig(client: client, linger: .milliseconds(5)), logger: logger)
    let store = EndpointStore(topic: prefix + "endpoints", producer: producer, reader: try runtime.reader())
    // 32 tenants (the record key, so events spread over partitions), F endpoints each.
    let tenants = 32
    for t in 0..<tenants {
        for _ in 0..<args.factor {
            let id = Endpoint.newID()
            try await store.put(Endpoint(id: id, tenant: "bench-\(t)", url: "https://sink.test/\(id)", filter: .all, sealedSecret: box.seal(.generate(), endpointID: id)))
        }
    }
    let records = (0..<args.count).map { n in
        let event = benchEvent(n, tenant: "bench-\(n % tenants)", size: args.size)
        return KafkaProducerRecord(topic: prefix + "events", key: Array(event.tenant.utf8), value: event.body)
    }

    // The raw limit: the same shape of work with nothing but the Kafka layer: F records per
    // event of a delivery record's size, with its headers.
    let sample = try DeliveryRecord.make(
        benchEvent(0, tenant: "bench-0", size: args.size),
        to: [Endpoint(id: Endpoint.newID(), tenant: "bench-0", url: "https://sink.test/", filter: .all, sealedSecret: "sealed")], now: Date(), topic: "sample")[0]
    let bare = {
        try await rawConsumeTransactProduce(
            client: client, admin: admin, records: records.count, size: args.size, factor: args.factor, output: (sample.value ?? [], sample.headers), logger: logger)
    }
    let before = try await bare()
    // Each run reads input written just before it (the bare loop writes its own).
    try await producer.send(records)

    let delivery = try DeliverySettings(lookup: { $0 == "master.key" ? masterKey : nil })
    let stage = try await FanoutStage.start(runtime: runtime, topology: topology, delivery: delivery)
    let task = Task { try await stage.run() }
    var started: ContinuousClock.Instant?
    var startedCPU = 0.0
    let deadline = ContinuousClock.now + .seconds(300)
    while ContinuousClock.now < deadline {
        let (transactions, done) = stage.counters.withLock { ($0.transactions, $0.events) }
        if transactions > 0, started == nil { (started, startedCPU) = (.now, processCPUSeconds()) }
        if done >= args.count { break }
        try await Task.sleep(for: .milliseconds(5))
    }
    let stageSeconds = started.map { (ContinuousClock.now - $0).seconds } ?? .infinity
    let stageCPU = processCPUSeconds() - startedCPU
    let counters = stage.counters.withLock { $0 }
    task.cancel()
    try? await task.value

    // The raw limit again after the stage: the broker warms up over a run, so the limit is
    // the mean of one bare run before the stage and one after.
    let after = try await bare()
    let (limit, limitCPU) = ((before.perSecond + after.perSecond) / 2, (before.cpuSeconds + after.cpuSeconds) / 2)
    return [
        // CPU of this process from the first transaction to the last event (the stage, and
        // this loop's 5 ms polls of its counters), and the bare loop's, per record written.
        "cpu_us_per_delivery": stageCPU / Double(max(1, counters.deliveries)) * 1e6,
        "limit_cpu_us_per_delivery": limitCPU / Double(max(1, records.count * args.factor)) * 1e6,
        "factor": args.factor, "events": args.count, "processed": counters.events, "deliveries": counters.deliveries,
        "events_per_s": Double(counters.events) / stageSeconds, "deliveries_per_s": Double(counters.deliveries) / stageSeconds,
        "limit_events_per_s": limit, "limit_deliveries_per_s": limit * Double(args.factor),
        "limit_events_per_s_before_and_after": [before.perSecond, after.perSecond],
        "transactions": counters.transactions,
    ]
}

/// Events/s of a bare consume → transactional produce loop (batches of 500, F outputs each:
/// copies of the input record, or `output`'s value and headers), and its CPU seconds from
/// its first batch to its last.
func rawConsumeTransactProduce(
    client: KafkaClientConfig, admin: KafkaAdmin, records count: Int, size: Int, factor: Int,
    output: (value: [UInt8], headers: [KafkaHeader])? = nil, logger: Logger
) async throws -> (
    perSecond: Double, cpuSeconds: Double
) {
    let input = "bench-raw-in-\(RandomID.make(length: 6))"
    let outputTopic = "bench-raw-out-\(RandomID.make(length: 6))"
    _ = try await admin.createTopics([
        KafkaTopicSpec(name: input, partitions: 16, replicationFactor: 1), KafkaTopicSpec(name: outputTopic, partitions: 32, replicationFactor: 1),
    ])
    let plain = try KafkaProducer(config: KafkaProducerConfig(client: client, linger: .milliseconds(5)), logger: logger)
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    try await plain.send((0..<count).map { KafkaProducerRecord(topic: input, key: Array("bench-\($0 % 32)".utf8), value: payload) })
    let transactional = try KafkaProducer(config: KafkaProducerConfig(client: client, transactionalID: input, linger: .milliseconds(5)), logger: logger)
    try await transactional.initTransactions()
    let consumer = try KafkaConsumer(config: KafkaConsumerConfig(client: client, groupID: input, sessionTimeout: .seconds(6), fetchWaitMax: .milliseconds(10)), logger: logger)
    try consumer.subscribe([input])
    var done = 0
    var started: ContinuousClock.Instant?
    var startedCPU = 0.0
    let deadline = ContinuousClock.now + .seconds(300)
    while done < count, ContinuousClock.now < deadline {
        let batch = try await consumer.poll(maxRecords: 500, timeout: .milliseconds(100)).compactMap { event -> KafkaRecord? in
            if case .record(let r) = event { return r } else { return nil }
        }
        guard !batch.isEmpty else { continue }
        if started == nil { (started, startedCPU) = (.now, processCPUSeconds()) }
        var next: [TopicPartition: Int64] = [:]
        var out: [KafkaProducerRecord] = []
        for record in batch {
            next[record.topicPartition] = record.offset + 1
            for f in 0..<factor {
                out.append(KafkaProducerRecord(topic: outputTopic, key: Array("e\(f)".utf8), value: output?.value ?? record.value, headers: output?.headers ?? []))
            }
        }
        try await transactional.sendInTransaction(out, offsets: next, group: try consumer.groupMetadata())
        done += batch.count
    }
    let seconds = started.map { (ContinuousClock.now - $0).seconds } ?? .infinity
    let cpu = processCPUSeconds() - startedCPU
    try await consumer.close()
    return (Double(done) / seconds, cpu)
}

/// CPU seconds this process has used so far (user and system, all threads).
func processCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
