import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// What an integration test needs around the shared ``TestBroker``: clients with the
/// dev/test profile of brief §1 (short fetch waits and session timeouts), unique names,
/// and the broker's log when a test fails.
///
/// ```swift
/// @Test func roundTrip() async throws {
///     try await IntegrationTest.run { kafka in
///         let topic = try await kafka.createTopic(partitions: 4)
///         …
///     }
/// }
/// ```
public struct IntegrationTest: Sendable {
    public let broker: TestBroker
    public let logger: Logger

    /// Runs `body` against the shared broker, in one of the ``IntegrationSlots``; a thrown
    /// error prints the broker's log tail.
    public static func run<T: Sendable>(_ body: (IntegrationTest) async throws -> T) async throws -> T {
        try await IntegrationSlots.run {
            let broker = try await TestBroker.shared()
            var logger = Logger(label: "sluice-test")
            logger.logLevel = .warning
            let test = IntegrationTest(broker: broker, logger: logger)
            do {
                return try await body(test)
            } catch {
                print("test failed with \(error); broker log \(broker.logPath), last lines:\n\(broker.logTail())")
                throw error
            }
        }
    }

    /// A name no other test uses: `base-<random>`.
    public func uniqueName(_ base: String = "t") -> String {
        "\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The client config of the test profile.
    public var client: KafkaClientConfig {
        KafkaClientConfig(brokers: broker.bootstrap, clientID: "sluice-test", requestTimeout: .seconds(10))
    }

    public func admin() throws -> KafkaAdmin { try KafkaAdmin(config: client, logger: logger) }

    /// Creates a topic with a unique name and returns the name.
    @discardableResult
    public func createTopic(_ base: String = "topic", partitions: Int = 4, configs: [String: String] = [:]) async throws -> String {
        let name = uniqueName(base)
        let outcome = try await admin().createTopics([
            KafkaTopicSpec(name: name, partitions: partitions, replicationFactor: 1, configs: configs)
        ])
        if let error = outcome[name] ?? nil { throw error }
        return name
    }

    /// A producer of the test profile. A plain one keeps trying to deliver for 3 minutes,
    /// not librdkafka's 30 s: the shared broker serves every suite at once, and a clean-clone
    /// run saw a test's record time out under that load. A transactional one keeps 30 s
    /// (librdkafka wants it within the transaction timeout, 60 s).
    public func producer(transactionalID: String? = nil) throws -> KafkaProducer {
        try KafkaProducer(
            config: KafkaProducerConfig(
                client: client, transactionalID: transactionalID, linger: .milliseconds(1),
                deliveryTimeout: transactionalID == nil ? .seconds(180) : .seconds(30)),
            logger: logger)
    }

    /// A consumer-group config of the test profile (Tansu's first join takes half the
    /// session timeout; its fetch long-poll is never woken early).
    public func consumerConfig(group: String, isolation: KafkaConsumerConfig.Isolation = .readCommitted) -> KafkaConsumerConfig {
        KafkaConsumerConfig(
            client: client, groupID: group, isolation: isolation, sessionTimeout: .seconds(6),
            heartbeatInterval: .milliseconds(500), maxPollInterval: .seconds(30), fetchWaitMax: .milliseconds(10))
    }

    /// A group member of the test profile subscribed to `topics`; `checksGaps` reads again
    /// what its fetches jumped over (Tansu can skip a batch), 0.3 s later.
    public func consumer(
        group: String, topics: [String], isolation: KafkaConsumerConfig.Isolation = .readCommitted, checksGaps: Bool = false
    ) throws -> KafkaConsumer {
        var config = consumerConfig(group: group, isolation: isolation)
        config.checksGaps = checksGaps
        config.gapSettle = .milliseconds(300)
        let consumer = try KafkaConsumer(config: config, logger: logger)
        try consumer.subscribe(topics)
        return consumer
    }

    public func reader() throws -> KafkaTopicReader {
        KafkaTopicReader(client: client, producer: try producer(), admin: try admin(), logger: logger)
    }

    /// Polls `consumer` until `count` records arrived or `timeout` passed; returns the
    /// records (fewer on timeout) and every event seen.
    public func consume(
        _ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(120),
        onEvent: (KafkaConsumerEvent) async throws -> Void = { _ in }
    ) async throws -> [KafkaRecord] {
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + timeout
        while records.count < count, ContinuousClock.now < deadline {
            for event in try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100)) {
                if case .record(let record) = event { records.append(record) }
                try await onEvent(event)
            }
        }
        return records
    }

    /// Polls until `count` records arrived (waiting up to `timeout`: group joins are slow
    /// under load), then `quiet` more, so records that should not come have had their
    /// chance to. Returns everything received.
    public func consumeExactly(
        _ consumer: KafkaConsumer, count: Int, quiet: Duration = .seconds(2), timeout: Duration = .seconds(120)
    ) async throws -> [KafkaRecord] {
        var records = try await consume(consumer, count: count, timeout: timeout)
        guard records.count >= count else { return records }
        records += try await consume(consumer, count: Int.max, timeout: quiet)
        return records
    }

    /// `n` records of ~`size` bytes with keys `key-<i mod keys>` and values `value-<i>`.
    public static func records(topic: String, count: Int, keys: Int = 16, from start: Int = 0) -> [KafkaProducerRecord] {
        (start..<(start + count)).map {
            KafkaProducerRecord(topic: topic, key: Array("key-\($0 % keys)".utf8), value: Array("value-\($0)".utf8))
        }
    }
}

extension KafkaRecord {
    /// The value as UTF-8 text (tests only).
    public var text: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}

/// Runs `stage` (a stage's `run`) in the background while `body` runs, then cancels it
/// and waits for it to stop, rethrowing what it threw.
public func whileRunning<T: Sendable>(_ stage: @escaping @Sendable () async throws -> Void, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await stage() }
    defer { task.cancel() }
    let result = try await body()
    task.cancel()
    try await task.value
    return result
}
