import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Producer and consumer group against Tansu (integration)")
struct KafkaProducerConsumerIntegrationTests {
    @Test("10,000 records produced idempotently are consumed once each by a group with manual commits")
    func tenThousandRoundTrip() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 4)
            let producer = try kafka.producer()
            let acknowledged = try await producer.send(IntegrationTest.records(topic: topic, count: 10_000))
            #expect(acknowledged.count == 10_000)
            #expect(acknowledged.allSatisfy { $0.offset >= 0 && $0.topic == topic })

            let consumer = try kafka.consumer(group: kafka.uniqueName("g"), topics: [topic])
            let records = try await kafka.consume(consumer, count: 10_000, timeout: .seconds(240))
            #expect(records.count == 10_000)
            #expect(Set(records.map(\.text)) == Set((0..<10_000).map { "value-\($0)" }))
            // Per partition, records arrive in offset order.
            for (_, inPartition) in Dictionary(grouping: records, by: \.partition) {
                #expect(inPartition.map(\.offset) == inPartition.map(\.offset).sorted())
            }
            // The same key always lands in the same partition.
            for (_, sameKey) in Dictionary(grouping: records, by: { $0.key ?? [] }) {
                #expect(Set(sameKey.map(\.partition)).count == 1)
            }

            var next: [TopicPartition: Int64] = [:]
            for r in records { next[r.topicPartition] = max(next[r.topicPartition] ?? 0, r.offset + 1) }
            try await consumer.commit(next)
            let committed = try await consumer.committed(Array(next.keys))
            #expect(committed.mapValues { $0 ?? -1 } == next)
            try await consumer.close()
            try await producer.close()
        }
    }

    @Test("batches enqueued with a callback are each reported once, after the broker holds all their records")
    func acknowledgementGroups() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 2)
            let producer = try kafka.producer()
            let reports = Locked<[Int: Bool]>([:])
            let records = IntegrationTest.records(topic: topic, count: 600)
            for batch in 0..<200 {
                try producer.enqueue(Array(records[(batch * 3)..<(batch * 3 + 3)])) { result in
                    reports.withLock { $0[batch] = ($0[batch] == nil) && (try? result.get()) != nil }
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while reports.withLock({ $0.count }) < 200, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(reports.withLock { $0.count } == 200)
            #expect(reports.withLock { $0.values.allSatisfy { $0 } })
            let consumer = try kafka.consumer(group: kafka.uniqueName("g"), topics: [topic])
            let read = try await kafka.consume(consumer, count: 600, timeout: .seconds(120))
            #expect(Set(read.map(\.text)) == Set((0..<600).map { "value-\($0)" }))

            // A record the client refuses at once: the call throws and the callback never runs.
            let called = Locked(false)
            let huge = KafkaProducerRecord(topic: topic, key: nil, value: [UInt8](repeating: 1, count: 2_000_000))
            #expect(throws: KafkaError.self) {
                try producer.enqueue([records[0], huge]) { _ in called.withLock { $0 = true } }
            }
            try await producer.flush()
            #expect(!called.withLock { $0 })
            try await consumer.close()
            try await producer.close()
        }
    }

    @Test("a consumer that restarts resumes from its group's committed offset")
    func restartResumesFromCommit() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            let producer = try kafka.producer()
            try await producer.send(IntegrationTest.records(topic: topic, count: 100))
            let group = kafka.uniqueName("g")

            let first = try kafka.consumer(group: group, topics: [topic])
            let seen = try await kafka.consume(first, count: 40)
            #expect(seen.count >= 40)
            try await first.commit([TopicPartition(topic, 0): 40])
            try await first.close()

            let second = try kafka.consumer(group: group, topics: [topic])
            let rest = try await kafka.consume(second, count: 60)
            #expect(rest.first?.offset == 40)
            #expect(rest.map(\.text) == (40..<100).map { "value-\($0)" })
            try await second.close()
        }
    }

    @Test("two consumers of one group split the partitions and together read every record once")
    func twoConsumersSplitPartitions() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 4)
            let group = kafka.uniqueName("g")
            let a = try kafka.consumer(group: group, topics: [topic])
            let b = try kafka.consumer(group: group, topics: [topic])
            let producer = try kafka.producer()
            try await producer.send(IntegrationTest.records(topic: topic, count: 400, keys: 64))

            let (ra, rb) = try await Self.drain(a, b, topic: topic, records: 400)
            let all = ra.records + rb.records
            #expect(all.count == 400)
            #expect(Set(all.map(\.text)).count == 400)
            // Each member ends with half of the partitions, disjoint, covering all four.
            #expect(ra.owned.isDisjoint(with: rb.owned))
            #expect(ra.owned.union(rb.owned) == Set((0..<4).map { TopicPartition(topic, Int32($0)) }))
            #expect(!ra.owned.isEmpty && !rb.owned.isEmpty)
            try await a.close()
            try await b.close()
        }
    }

    /// What one member of a group read, and the partitions it owns at the end.
    struct Drained {
        var records: [KafkaRecord] = []
        var owned = Set<TopicPartition>()

        /// Takes one poll's events: records of partitions it loses are dropped, since the
        /// member that gets them reads them again (nothing is committed).
        mutating func take(_ events: [KafkaConsumerEvent]) {
            for event in events {
                switch event {
                case .record(let r): records.append(r)
                case .skipped(let rs): records += rs
                case .assigned(let parts): owned.formUnion(parts)
                case .revoked(let parts, _):
                    owned.subtract(parts)
                    records.removeAll { parts.contains($0.topicPartition) }
                case .error(let error): print("group member error: \(error)")
                }
            }
        }
    }

    /// Polls both members (each every ~200 ms, well within the poll interval) until the
    /// group has settled (each owns partitions, together all of them, none twice) and
    /// together they hold `records` records of the partitions they own, or 180 s passed: a
    /// rebalance under load takes as long as it takes, and nothing ends on a quiet period.
    static func drain(_ a: KafkaConsumer, _ b: KafkaConsumer, topic: String, records: Int) async throws -> (Drained, Drained) {
        var (ra, rb) = (Drained(), Drained())
        let all = Set((0..<4).map { TopicPartition(topic, Int32($0)) })
        _ = try await waitUntil(timeout: .seconds(180), interval: .zero) {
            ra.take(try await a.poll(maxRecords: 500, timeout: .milliseconds(100)))
            rb.take(try await b.poll(maxRecords: 500, timeout: .milliseconds(100)))
            let settled = !ra.owned.isEmpty && !rb.owned.isEmpty && ra.owned.isDisjoint(with: rb.owned) && ra.owned.union(rb.owned) == all
            return settled && ra.records.count + rb.records.count >= records
        }
        return (ra, rb)
    }

    @Test("pause stops delivery of a partition and resume restarts it")
    func pauseAndResume() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 2)
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)
            // Partitions assigned by hand: a group rebalance (a missed heartbeat on a loaded
            // machine) would hand p0 back unpaused, as librdkafka starts every assignment
            // unpaused; the retry stage holds partitions again after one for that reason.
            let consumer = try KafkaConsumer(config: kafka.consumerConfig(group: kafka.uniqueName("g")), logger: kafka.logger)
            try consumer.assign([p0: 0, p1: 0])
            try consumer.pause([p0])

            let producer = try kafka.producer()
            let toP0 = (0..<20).map { KafkaProducerRecord(topic: topic, partition: 0, value: Array("p0-\($0)".utf8)) }
            let toP1 = (0..<20).map { KafkaProducerRecord(topic: topic, partition: 1, value: Array("p1-\($0)".utf8)) }
            try await producer.send(toP0 + toP1)

            let whilePaused = try await kafka.consumeExactly(consumer, count: 20, quiet: .seconds(2))
            #expect(whilePaused.count == 20)
            #expect(whilePaused.allSatisfy { $0.topicPartition == p1 })

            try consumer.resume([p0])
            let afterResume = try await kafka.consume(consumer, count: 20, timeout: .seconds(120))
            #expect(afterResume.map(\.text) == (0..<20).map { "p0-\($0)" })
            try await consumer.close()
        }
    }

    @Test("seek moves the read position back")
    func seekBack() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            try await kafka.producer().send(IntegrationTest.records(topic: topic, count: 30))
            let consumer = try kafka.consumer(group: kafka.uniqueName("g"), topics: [topic])
            let first = try await kafka.consume(consumer, count: 30)
            #expect(first.count == 30)
            try await consumer.seek([TopicPartition(topic, 0): 10])
            let again = try await kafka.consume(consumer, count: 20)
            #expect(again.map(\.offset) == Array(10..<30))
            try await consumer.close()
        }
    }

    @Test("a producer's warm-up writes one marker that is acknowledged and that readers skip")
    func warmUp() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 2)
            let producer = try kafka.producer()
            let marker = try await producer.warmUp(topic: topic)
            #expect(marker.topic == topic && marker.partition == 0 && marker.offset >= 0)
            _ = try await producer.send(IntegrationTest.records(topic: topic, count: 6))
            var read: [KafkaRecord] = []
            let next = try await kafka.reader().readToEnd(topic: topic) { read.append($0) }
            #expect(Set(read.map(\.text)) == Set((0..<6).map { "value-\($0)" }))
            #expect((next[TopicPartition(topic, 0)] ?? 0) > marker.offset + 1)
            try await producer.close()
        }
    }

    @Test("a warm-up the broker never acknowledges fails within the producer's delivery timeout")
    func warmUpUnreachable() async throws {
        let client = KafkaClientConfig(brokers: "127.0.0.1:\(try freePort())", requestTimeout: .seconds(2))
        let producer = try KafkaProducer(config: KafkaProducerConfig(client: client, deliveryTimeout: .seconds(3)), logger: .init(label: "test"))
        let started = ContinuousClock.now
        var thrown: KafkaError?
        do throws(KafkaError) { try await producer.warmUp(topic: "sluice.events") } catch { thrown = error }
        #expect(thrown != nil)
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
