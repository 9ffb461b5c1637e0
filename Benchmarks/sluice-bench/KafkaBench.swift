import Foundation
import Logging
import SluiceKafka

/// Our producer and consumer on their own (records/s each way), and a consume →
/// transactional produce loop.
func kafkaBenchmark(_ args: Arguments) async throws -> [String: Any] {
    let (client, admin, _, logger) = try benchSetup(args)
    let topic = "bench-\(UUID().uuidString.prefix(8))"
    if let error = try await admin.createTopics([KafkaTopicSpec(name: topic, partitions: args.partitions, replicationFactor: 1)])[topic] ?? nil {
        throw error
    }
    let producer = try KafkaProducer(config: KafkaProducerConfig(client: client, linger: .milliseconds(5)), logger: logger)
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: args.size)

    // Produce: everything in flight at once, then await every acknowledgement.
    let produceStart = ContinuousClock.now
    var receipts: [KafkaDeliveryReceipt] = []
    receipts.reserveCapacity(args.count)
    for i in 0..<args.count {
        receipts.append(try await producer.enqueue(KafkaProducerRecord(topic: topic, key: Array("k\(i % 1024)".utf8), value: payload)))
    }
    for receipt in receipts { _ = try await receipt.acknowledgement() }
    let produceSeconds = (ContinuousClock.now - produceStart).seconds

    // Consume with a group (join excluded from the rate: the clock starts at the first record).
    var config = KafkaConsumerConfig(client: client, groupID: "bench-\(topic)", sessionTimeout: .seconds(6), fetchWaitMax: .milliseconds(10))
    config.client.librdkafka["fetch.max.bytes"] = "52428800"
    let consumer = try KafkaConsumer(config: config, logger: logger)
    try consumer.subscribe([topic])
    var consumed = 0
    var consumeStart: ContinuousClock.Instant?
    let deadline = ContinuousClock.now + .seconds(120)
    while consumed < args.count, ContinuousClock.now < deadline {
        for event in try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100)) {
            if case .record = event {
                consumeStart = consumeStart ?? .now
                consumed += 1
            }
        }
    }
    let consumeSeconds = consumeStart.map { (ContinuousClock.now - $0).seconds } ?? .infinity
    try await consumer.close()
    try await producer.close()
    // Consume -> produce in transactions of up to 500 with their offsets, as the Python side does.
    let transformed = try await rawConsumeTransactProduce(client: client, admin: admin, records: args.count, size: args.size, factor: 1, logger: logger).perSecond
    return [
        "consume_produce_per_s": transformed,
        "client": "sluice (Swift, librdkafka \(LibrdkafkaRuntime.version))",
        "records": args.count, "size": args.size, "consumed": consumed,
        "produce_per_s": Double(args.count) / produceSeconds,
        "consume_per_s": Double(consumed) / consumeSeconds,
    ]
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

