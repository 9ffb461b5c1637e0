import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceKafka

/// ``KafkaConsumerConfig/checksGaps`` against Tansu: what a fetch jumped over is read
/// again and handed out as ``KafkaConsumerEvent/skipped(_:)``.
@Suite("A consumer that reads again what its fetches jumped over (integration)")
struct KafkaConsumerGapsIntegrationTests {
    /// A consumer of the test profile, reading one partition from `offset`, with gap checks.
    static func checkingConsumer(_ kafka: IntegrationTest, topic: String, from offset: Int64) throws -> KafkaConsumer {
        var config = kafka.consumerConfig(group: kafka.uniqueName("gaps"), isolation: .readUncommitted)
        config.checksGaps = true
        let consumer = try KafkaConsumer(config: config, logger: kafka.logger)
        try consumer.assign([TopicPartition(topic, 0): offset])
        return consumer
    }

    /// A one-partition topic of 10 plain records (offsets 0...9), with the producer that
    /// wrote them.
    static func tenRecords(_ kafka: IntegrationTest) async throws -> (TopicPartition, KafkaProducer) {
        let topic = try await kafka.createTopic(partitions: 1)
        let producer = try kafka.producer()
        _ = try await producer.send(IntegrationTest.records(topic: topic, count: 10))
        return (TopicPartition(topic, 0), producer)
    }

    /// A one-partition topic of 10 plain records (offsets 0...9) and a committed transaction
    /// of one (10, its end marker 11), with the producers that wrote them.
    static func endingInATransaction(_ kafka: IntegrationTest) async throws -> (String, KafkaProducer, KafkaProducer) {
        let (tp, producer) = try await tenRecords(kafka)
        let topic = tp.topic
        let transactional = try kafka.producer(transactionalID: kafka.uniqueName("tx"))
        try await transactional.initTransactions()
        try await transactional.sendInTransaction(IntegrationTest.records(topic: topic, count: 1))
        return (topic, producer, transactional)
    }

    /// ``endingInATransaction(_:)`` and one record after it (offset 12), with a group that
    /// committed 11 (the transaction's end marker): a new member of it reads from there and
    /// is first handed 12.
    static func committedAtTheMarker(_ kafka: IntegrationTest, group: String) async throws -> (String, KafkaProducer, KafkaProducer) {
        let (topic, producer, transactional) = try await endingInATransaction(kafka)
        _ = try await producer.send(IntegrationTest.records(topic: topic, count: 1))
        let first = try KafkaConsumer(config: kafka.consumerConfig(group: group, isolation: .readUncommitted), logger: kafka.logger)
        try first.assign([TopicPartition(topic, 0): 11])
        #expect(try await first.commit([TopicPartition(topic, 0): 11]) == [TopicPartition(topic, 0): 11])
        try await first.close()
        return (topic, producer, transactional)
    }

    /// Polls `member` until it hands out records (60 s at most); their offsets.
    static func firstOffsets(_ member: KafkaConsumer) async throws -> [Int64] {
        var direct: [Int64] = []
        _ = try await waitUntil(timeout: .seconds(60), interval: .zero) {
            direct += try await member.poll().flatMap(\.records).map(\.offset)
            return !direct.isEmpty
        }
        return direct
    }

    /// Polls `consumer` until records come back as skipped (60 s at most): the offsets
    /// handed out directly, those skipped, and whether `held` was true at some poll before
    /// the skipped ones came back (it is given the offsets handed out so far).
    static func readUntilSkipped(
        _ consumer: KafkaConsumer, held: ([Int64]) -> Bool
    ) async throws -> (direct: [Int64], skipped: [Int64], heldBack: Bool) {
        var direct: [Int64] = []
        var skipped: [Int64] = []
        var heldBack = false
        let deadline = ContinuousClock.now + .seconds(60)
        while skipped.isEmpty, ContinuousClock.now < deadline {
            for event in try await consumer.poll() {
                switch event {
                case .record(let r): direct.append(r.offset)
                case .skipped(let records): skipped += records.map(\.offset)
                default: break
                }
            }
            heldBack = heldBack || (skipped.isEmpty && held(direct))
        }
        return (direct, skipped, heldBack)
    }

    @Test("records a fetch jumped over come back once settled, and no commit passes them meanwhile")
    func jumpedOver() async throws {
        try await IntegrationTest.run { kafka in
            let (tp, producer) = try await Self.tenRecords(kafka)
            // Starting at 6 with offset 0 already handed out: to the consumer, 1..<6 were jumped over.
            let consumer = try Self.checkingConsumer(kafka, topic: tp.topic, from: 6)
            consumer.observe(tp, offset: 0)
            let (direct, skipped, heldBack) = try await Self.readUntilSkipped(consumer) { direct in
                direct.count == 4 && consumer.committable([tp: 10]) == [tp: 1]
            }
            #expect(direct == [6, 7, 8, 9])
            #expect(skipped == [1, 2, 3, 4, 5])
            #expect(heldBack, "commits were held at the gap's start while it was not read again")
            #expect(consumer.committable([tp: 10]) == [tp: 10])
            #expect(try await consumer.commit([tp: 10]) == [tp: 10])
            try await consumer.close()
            try await producer.close()
        }
    }

    @Test("records the position moved over at a partition's tail come back, with nothing written after them")
    func movedOverAtTheTail() async throws {
        try await IntegrationTest.run { kafka in
            let (topic, producer, transactional) = try await Self.endingInATransaction(kafka)
            let tp = TopicPartition(topic, 0)
            // What Tansu can do: the transaction's end marker (offset 11) visible before what it
            // ends. Starting there with offsets 0...2 handed out, the consumer's position moves
            // to 12 and it hands out nothing: 3...10 are behind it, and nothing follows them.
            let consumer = try Self.checkingConsumer(kafka, topic: topic, from: 11)
            consumer.observe(tp, offset: 2)
            let (direct, skipped, heldBack) = try await Self.readUntilSkipped(consumer) { _ in
                consumer.committable([tp: 12]) == [tp: 3]
            }
            #expect(direct.isEmpty)
            #expect(skipped == Array(3...10))
            #expect(heldBack, "commits were held at the moved-over offsets while they were not read again")
            #expect(consumer.committable([tp: 12]) == [tp: 12])
            try await consumer.close()
            try await transactional.close()
            try await producer.close()
        }
    }

    @Test("a group member checks its first record against the group's committed offset: what lies between is read again before a commit passes it")
    func startsAtTheCommittedOffset() async throws {
        try await IntegrationTest.run { kafka in
            // The group committed 11 (the transaction's end marker); a new member reads from
            // there and is first handed 12. Had the broker skipped records at 11, this jump is
            // all that would show it: the member must hold commits at 11 until it read 11..<12
            // again (before, the first record after an assignment was never checked).
            let group = kafka.uniqueName("start")
            let (topic, producer, transactional) = try await Self.committedAtTheMarker(kafka, group: group)
            let tp = TopicPartition(topic, 0)
            let member = try kafka.consumer(group: group, topics: [topic], isolation: .readUncommitted, checksGaps: true)
            var direct = try await Self.firstOffsets(member)
            #expect(direct == [12])
            #expect(member.committable([tp: 13]) == [tp: 11], "held at the committed offset until 11..<12 was read again")
            let released = try await waitUntil(timeout: .seconds(60), interval: .zero) {
                direct += try await member.poll().flatMap(\.records).map(\.offset)
                return member.committable([tp: 13]) == [tp: 13]
            }
            #expect(released, "11..<12 read again (nothing there but the marker): commits pass it")
            #expect(direct == [12])
            try await member.close()
            try await transactional.close()
            try await producer.close()
        }
    }

    @Test("a member of a new group (nothing committed) checks its first record against the log's start: a batch skipped there comes back")
    func newGroupStartsAtTheLogStart() async throws {
        try await IntegrationTest.run { kafka in
            let (tp, producer) = try await Self.tenRecords(kafka)
            // What Tansu can do to a fresh partition: its first batch (0...4) not visible to
            // the first fetch. Reading from 5, the group having committed nothing, the member
            // knows where reading starts only from the log's start (its low watermark, 0).
            let consumer = try Self.checkingConsumer(kafka, topic: tp.topic, from: 5)
            consumer.forgetGaps([tp])
            consumer.startGapsAtCommitted([tp])
            let (direct, skipped, heldBack) = try await Self.readUntilSkipped(consumer) { direct in
                direct.count == 5 && consumer.committable([tp: 10]) == [tp: 0]
            }
            #expect(direct == [5, 6, 7, 8, 9])
            #expect(skipped == [0, 1, 2, 3, 4])
            #expect(heldBack, "commits were held at the log's start while 0..<5 was not read again")
            #expect(consumer.committable([tp: 10]) == [tp: 10])
            try await consumer.close()
            try await producer.close()
        }
    }

    @Test("a member that cannot read the group's committed offsets in time warns and takes its first record as it comes")
    func committedOffsetsUnanswered() async throws {
        try await IntegrationTest.run { kafka in
            let group = kafka.uniqueName("unanswered")
            let (topic, producer, transactional) = try await Self.committedAtTheMarker(kafka, group: group)
            let tp = TopicPartition(topic, 0)
            // No time at all for the committed offsets: the request cannot be answered.
            var config = kafka.consumerConfig(group: group, isolation: .readUncommitted)
            config.checksGaps = true
            config.gapSettle = .milliseconds(300)
            config.committedOffsetsTimeout = .zero
            let log = CapturedLog(level: .warning, label: "unanswered")
            let member = try KafkaConsumer(config: config, logger: log.logger)
            try member.subscribe([topic])
            #expect(try await Self.firstOffsets(member) == [12])
            #expect(log.lines.contains { $0.contains("could not read the committed offsets of assigned partitions") })
            #expect(member.committable([tp: 13]) == [tp: 13], "nothing to check the first record against: commits are not held")
            try await member.close()
            try await transactional.close()
            try await producer.close()
        }
    }

    @Test("12 producers writing into one partition at once: a tailing consumer gets every record (Tansu can skip a batch)")
    func concurrentProducers() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            let consumer = try Self.checkingConsumer(kafka, topic: topic, from: 0)
            let seen = Locked<Set<Int64>>([])
            let recovered = Locked(0)
            let stop = Locked(false)
            let tail = Task {
                while !stop.withLock({ $0 }) {
                    for event in try await consumer.poll() {
                        if case .skipped(let records) = event { recovered.withLock { $0 += records.count } }
                        seen.withLock { s in for r in event.records { s.insert(r.offset) } }
                    }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in 0..<12 {
                    group.addTask {
                        let transactional = p % 2 == 0
                        let producer = try kafka.producer(transactionalID: transactional ? kafka.uniqueName("tx\(p)") : nil)
                        if transactional { try await producer.initTransactions() }
                        for n in 0..<120 {
                            let records = (0...(n % 4)).map { k in KafkaProducerRecord(topic: topic, key: nil, value: Array("\(p)-\(n)-\(k)".utf8)) }
                            if transactional { try await producer.sendInTransaction(records) } else { _ = try await producer.send(records) }
                        }
                        try await producer.close()
                    }
                }
                try await group.waitForAll()
            }
            // Read after the fact (nothing is written any more): every data record's offset. A
            // plain consumer can miss one here too (seen: 3,599 of 3,600), so this reader reads
            // its own jumps again as well.
            let reader = try Self.checkingConsumer(kafka, topic: topic, from: 0)
            var all = Set<Int64>()
            _ = try await waitUntil(timeout: .seconds(180), interval: .zero) {
                for event in try await reader.poll(maxRecords: 1000, timeout: .milliseconds(100)) { all.formUnion(event.records.map(\.offset)) }
                return all.count >= 12 * 120 * 5 / 2
            }
            #expect(all.count == 12 * 120 * 5 / 2)
            _ = try await waitUntil(timeout: .seconds(120), interval: .milliseconds(100)) { seen.withLock { $0.isSuperset(of: all) } }
            stop.withLock { $0 = true }
            try await tail.value
            let missing = all.subtracting(seen.withLock { $0 })
            #expect(missing.isEmpty, "\(missing.count) records never handed out: \(missing.sorted().prefix(20))")
            print("concurrent producers: \(all.count) records, \(recovered.withLock { $0 }) came back through a second read")
            try await reader.close()
            try await consumer.close()
        }
    }
}
