import Foundation
import Logging
import SluiceCore
import SluiceKafka
import SluiceStage

/// A whole Sluice topology under a unique prefix on the shared broker, with the helpers
/// stage tests need: endpoints, events, and reading what the stages wrote.
///
/// ```swift
/// let fixture = try await StageFixture.make(kafka)
/// let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "order.*")
/// ```
public struct StageFixture: Sendable {
    public init(kafka: IntegrationTest, prefix: String, masterKey: String, topology: Topology) throws {
        self.kafka = kafka
        self.prefix = prefix
        self.masterKey = masterKey
        self.topology = topology
        // One of each per fixture: creating a Kafka client costs about a second on Tansu.
        self.producer = try kafka.producer()
        self.reader = try kafka.reader()
        self.endpointStore = EndpointStore(topic: prefix + "endpoints", producer: producer, reader: reader)
    }

    /// The fixture's own producer (idempotent, not transactional).
    public let producer: KafkaProducer
    /// Its reader of whole topics (end markers through its own producer).
    public let reader: KafkaTopicReader
    let endpointStore: EndpointStore

    public let kafka: IntegrationTest
    public let prefix: String
    public let masterKey: String
    public let topology: Topology

    public static func make(_ kafka: IntegrationTest) async throws -> StageFixture {
        let prefix = kafka.uniqueName("s") + "."
        let topology = try Topology.load(path: TestBroker.repositoryRoot.appendingPathComponent("topology/sluice.yaml").path)
        _ = try await TopologyApplier(admin: try kafka.admin()).apply(topology.resolvedTopics(prefix: prefix), dryRun: false)
        return try StageFixture(kafka: kafka, prefix: prefix, masterKey: SecretBox.Key.generateBase64(), topology: topology)
    }

    public func topic(_ name: String) -> String { prefix + name }

    /// Settings of the test profile for a stage copy named `instance`.
    public func settings(instance: String = "test") -> StageSettings {
        var s = StageSettings(brokers: kafka.broker.bootstrap, topicPrefix: prefix, logLevel: ProcessInfo.processInfo.environment["SLUICE_TEST_LOG_LEVEL"] ?? "warning")
        // Transactional ids are broker-wide: tests running in parallel must not share one.
        s.instanceID = prefix + instance
        s.apply(.tansu)
        s.sessionTimeout = .seconds(6)
        return s
    }

    /// Delivery settings of the test profile (dev mode), with `overrides` by key.
    public func delivery(_ overrides: [String: String] = [:]) throws -> DeliverySettings {
        let values = ["master.key": masterKey, "allow.private": "1", "allow.http": "1"].merging(overrides) { $1 }
        return try DeliverySettings(lookup: { values[$0] })
    }

    /// Writes deliveries of `event`-`n` for `endpoint` straight to `sluice.deliveries`, or,
    /// with a `replayID`, as that replay's to `sluice.redeliveries`.
    /// `partition` forces one partition (to test endpoints sharing it); nil keys by endpoint.
    public func deliveries(to endpoint: Endpoint, ids: Range<Int>, idPrefix: String = "evt", partition: Int32? = nil, replayID: String? = nil) async throws {
        let records = try ids.map { n in
            let event = Event.structured(id: "\(idPrefix)-\(n)", source: "/test", type: "t.x", tenant: endpoint.tenant, data: .object(["n": .number(Double(n))]))
            var delivery = Delivery(event: event, endpointID: endpoint.id, now: Date())
            if let replayID { delivery = delivery.replayed(id: replayID, now: Date()) }
            return KafkaProducerRecord(
                topic: topic(replayID == nil ? "deliveries" : "redeliveries"), partition: partition, key: Array(endpoint.id.utf8),
                value: try delivery.wireBytes())
        }
        try await producer.send(records)
    }

    /// Deliveries `idPrefix`-`n` for endpoint `endpointID`, due at `notBefore`, as records of
    /// `topic` (e.g. `retry.1m`).
    public func waitingDeliveries(
        _ name: String, endpointID: String, ids: Range<Int>, idPrefix: String = "evt", notBefore: Date, partition: Int32? = nil
    ) throws -> [KafkaProducerRecord] {
        try ids.map { n in
            let event = Event.structured(id: "\(idPrefix)-\(n)", source: "/test", type: "t.x", tenant: "acme", data: .object(["n": .number(Double(n))]))
            var delivery = Delivery(event: event, endpointID: endpointID, now: Date())
            delivery.notBefore = notBefore
            delivery.attempt = 2
            var record = try KafkaProducerRecord(topic: topic(name), key: endpointID, wire: delivery)
            record.partition = partition
            return record
        }
    }

    /// The environment for running a stage executable against this fixture.
    public func environment(instance: String, sessionTimeout: String = "6s") -> [String: String] {
        [
            "SLUICE_BROKERS": kafka.broker.bootstrap, "SLUICE_TOPIC_PREFIX": prefix, "SLUICE_MASTER_KEY": masterKey,
            "SLUICE_INSTANCE_ID": prefix + instance, "SLUICE_KAFKA_PROFILE": "tansu",
            "SLUICE_KAFKA_SESSION_TIMEOUT": sessionTimeout, "SLUICE_LOG_LEVEL": "warning",
            "SLUICE_TOPOLOGY": TestBroker.repositoryRoot.appendingPathComponent("topology/sluice.yaml").path,
        ]
    }

    public func store() throws -> EndpointStore { endpointStore }

    /// Starts the built stage `executable` (e.g. `sluice-fanout`) with `environment`,
    /// its output appended to `log`; returns its pid.
    public func spawn(_ executable: String, _ arguments: [String] = [], environment: [String: String], log: String) throws -> pid_t {
        try spawnWithCleanSignals(
            ["/usr/bin/env"] + environment.map { "\($0.key)=\($0.value)" } + [executablePath(executable)] + arguments, logPath: log)
    }

    @discardableResult
    public func createEndpoint(tenant: String, filter: String, url: String = "http://127.0.0.1:9/hook") async throws -> Endpoint {
        let id = Endpoint.newID()
        let box = try SecretBox(masterKeyBase64: masterKey)
        let endpoint = Endpoint(id: id, tenant: tenant, url: url, filter: try EventTypeFilter(parsing: filter), sealedSecret: box.seal(.generate(), endpointID: id))
        return try await endpointStore.put(endpoint)
    }

    /// Structured events `id-<n>` of `type` for `tenant`.
    public func events(tenant: String, type: String, ids: Range<Int>, idPrefix: String = "evt") -> [KafkaProducerRecord] {
        ids.map { n in
            let event = Event.structured(id: "\(idPrefix)-\(n)", source: "/test", type: type, tenant: tenant, data: .object(["n": .number(Double(n))]))
            return KafkaProducerRecord(topic: topic("events"), key: Array(tenant.utf8), value: event.body)
        }
    }

    /// Reads `topic` (read_committed) until `count` records arrived (or `timeout`), then on
    /// to the topic's end as of that moment: see ``read(_:until:timeout:isolation:)``.
    public func read(
        _ name: String, atLeast count: Int, timeout: Duration = .seconds(180), isolation: KafkaConsumerConfig.Isolation = .readCommitted
    ) async throws -> [KafkaRecord] {
        try await read(name, until: { $0.count >= count }, timeout: timeout, isolation: isolation)
    }

    /// Reads the deliveries of `topic` until every pair of `expected` arrived (or
    /// `timeout`), then on to the topic's end as of that moment. (Counting records is not
    /// enough where duplicates are allowed: they would end the read before the last pairs
    /// arrive.)
    public func read(
        _ name: String, covering expected: Set<DeliveryPair>, timeout: Duration = .seconds(180),
        isolation: KafkaConsumerConfig.Isolation = .readCommitted
    ) async throws -> [KafkaRecord] {
        var seen = Set<DeliveryPair>()
        var counted = 0
        return try await read(name, until: { records in
            for record in records[counted...] { if let pair = DeliveryPair(record) { seen.insert(pair) } }
            counted = records.count
            return expected.isSubset(of: seen)
        }, timeout: timeout, isolation: isolation)
    }

    /// Reads `topic` until `done` holds for the records so far (or `timeout` passed), then
    /// on to the topic's end as of that moment: an end marker goes to each partition and
    /// the read goes on until it is past every marker. So the result holds every record
    /// written before `done` held (before the call, with a `done` that always holds),
    /// extras and duplicates included, and no test waits for a quiet period.
    public func read(
        _ name: String, until done: ([KafkaRecord]) -> Bool, timeout: Duration = .seconds(180),
        isolation: KafkaConsumerConfig.Isolation = .readCommitted
    ) async throws -> [KafkaRecord] {
        // Gaps checked: Tansu can skip a batch written beside a later one, and the stages
        // write while this reads.
        let consumer = try kafka.consumer(group: kafka.uniqueName("reader"), topics: [topic(name)], isolation: isolation, checksGaps: true)
        var records: [KafkaRecord] = []
        // A group rebalance under load can hand the reader a partition again from its start:
        // the same record read twice is one record of the topic.
        var seen = Set<String>()
        func poll() async throws {
            for event in try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(100)) {
                for r in event.records where seen.insert("\(r.topicPartition)@\(r.offset)").inserted { records.append(r) }
            }
        }
        let deadline = ContinuousClock.now + timeout
        while !done(records), ContinuousClock.now < deadline { try await poll() }
        if done(records) {
            let ends = try await reader.endOffsets(topic: topic(name))
            let caughtUp = try await waitUntil(timeout: .seconds(120), interval: .zero) {
                try await poll()
                let positions = try consumer.position(Array(ends.keys))
                // Past every marker, with nothing jumped over before it still to read again.
                let past = ends.mapValues { $0 + 1 }
                return ends.allSatisfy { tp, marker in ((positions[tp] ?? nil) ?? -1) > marker } && consumer.committable(past) == past
            }
            if !caughtUp { print("StageFixture.read: \(topic(name)) did not reach its end markers within 120 s") }
        }
        try await consumer.close()
        return records
    }

    @available(*, deprecated, message: "reads on to the topic's end instead of waiting for a quiet period: drop quiet:")
    public func read(
        _ name: String, atLeast count: Int, quiet: Duration, timeout: Duration = .seconds(60),
        isolation: KafkaConsumerConfig.Isolation = .readCommitted
    ) async throws -> [KafkaRecord] {
        try await read(name, atLeast: count, timeout: timeout, isolation: isolation)
    }

    @available(*, deprecated, message: "reads on to the topic's end instead of waiting for a quiet period: drop quiet:")
    public func read(
        _ name: String, covering expected: Set<DeliveryPair>, quiet: Duration, timeout: Duration = .seconds(60),
        isolation: KafkaConsumerConfig.Isolation = .readCommitted
    ) async throws -> [KafkaRecord] {
        try await read(name, covering: expected, timeout: timeout, isolation: isolation)
    }
}

/// A (event id, endpoint id) pair of a delivery record.
public struct DeliveryPair: Hashable, Sendable, CustomStringConvertible {
    public var event: String
    public var endpoint: String
    public init(event: String, endpoint: String) {
        self.event = event
        self.endpoint = endpoint
    }
    public init?(_ record: KafkaRecord) {
        guard let value = record.value, let delivery = try? Delivery(wireBytes: value) else { return nil }
        self.init(event: delivery.eventID, endpoint: delivery.endpointID)
    }
    public var description: String { "\(event)→\(endpoint)" }
}

/// How a set of deliveries differs from the expected one, briefly (for test messages).
public struct DeliveryComparison: Sendable, CustomStringConvertible {
    public let missing: [DeliveryPair]
    public let unexpected: [DeliveryPair]
    public let duplicates: Int

    public init(expected: Set<DeliveryPair>, got: [DeliveryPair]) {
        let seen = Set(got)
        missing = Array(expected.subtracting(seen)).sorted { $0.description < $1.description }
        unexpected = Array(seen.subtracting(expected)).sorted { $0.description < $1.description }
        duplicates = got.count - seen.count
    }

    public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && duplicates == 0 }
    public var description: String {
        "missing \(missing.count) \(missing.prefix(5)), unexpected \(unexpected.count) \(unexpected.prefix(5)), duplicates \(duplicates)"
    }
}
