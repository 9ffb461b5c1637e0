import Foundation
import SluiceCore
@testable import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Following a topic with catch-ups against Tansu (integration)")
struct KafkaTopicFollowerIntegrationTests {
    /// Values of what one catch-up handed over, in order (each test record's value is unique).
    private static func catchUp(_ follower: KafkaTopicFollower) async throws -> [String] {
        var keys: [String] = []
        try await follower.catchUp { record in
            #expect(!record.isEndMarker)
            keys.append(String(decoding: record.value ?? [], as: UTF8.self))
        }
        return keys
    }

    /// The values of `records` as text (each test record's value is unique).
    private static func values(_ records: [KafkaProducerRecord]) -> [String] {
        records.map { String(decoding: $0.value ?? [], as: UTF8.self) }
    }

    @Test("each catch-up hands over exactly what was acknowledged since the last, once, markers left out, also when nothing changed or another reader's markers came between")
    func catchUpsHandOverEachRecordOnce() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 3)
            let producer = try kafka.producer()
            let reader = try kafka.reader()

            let first = IntegrationTest.records(topic: topic, count: 30)
            _ = try await producer.send(first)
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader)
            #expect(Set(try await Self.catchUp(follower)) == Set(Self.values(first)))

            // Nothing new: the broker's end is what the follower fetched, so nothing is read
            // (no fetch to wait for)…
            let reads = follower.readingCatchUps.withLock { $0 }
            let partitions = try await reader.partitions(of: topic)
            let ends = try await follower.consumer.highWatermarks(partitions)
            for _ in 0..<3 { #expect(try await Self.catchUp(follower).isEmpty) }
            #expect(follower.readingCatchUps.withLock { $0 } == reads)
            // …and writes nothing: Tansu never compacts, so a marker per catch-up piled up.
            #expect(try await follower.consumer.highWatermarks(partitions) == ends)

            // New records after catch-ups that did not read their markers.
            let second = IntegrationTest.records(topic: topic, count: 7, from: 30)
            _ = try await producer.send(second)
            #expect(Set(try await Self.catchUp(follower)) == Set(Self.values(second)))

            // One record in one partition, the others unchanged: only that partition's marker
            // has something below it that was not seen.
            for (n, partition) in [(42, Int32(1)), (43, 2), (44, 2)] {
                _ = try await producer.send([KafkaProducerRecord(topic: topic, partition: partition, key: nil, value: Array("value-\(n)".utf8))])
                #expect(try await Self.catchUp(follower) == ["value-\(n)"])
            }

            // Another reader's markers (another stage's catch-up) between two of ours.
            _ = try await reader.endOffsets(topic: topic)
            let third = IntegrationTest.records(topic: topic, count: 5, from: 50)
            _ = try await producer.send(third)
            _ = try await reader.endOffsets(topic: topic)
            let handed = try await Self.catchUp(follower)
            #expect(handed.count == third.count)
            #expect(Set(handed) == Set(Self.values(third)))
            #expect(try await Self.catchUp(follower).isEmpty)
            await follower.close()
            try await producer.close()
        }
    }

    @Test("a follower resumed from stored positions hands over only what lies past them")
    func resumesFromPositions() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 2)
            let producer = try kafka.producer()
            let reader = try kafka.reader()
            let written = try await producer.send(IntegrationTest.records(topic: topic, count: 20))
            // Resume after the first 5 records of each partition.
            var start: [TopicPartition: Int64] = [:]
            for partition in Set(written.map(\.partition)) {
                let offsets = written.filter { $0.partition == partition }.map(\.offset).sorted()
                start[TopicPartition(topic, partition)] = offsets[min(5, offsets.count - 1)]
            }
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader, from: start)
            var handed: [(partition: Int32, offset: Int64)] = []
            try await follower.catchUp { handed.append(($0.partition, $0.offset)) }
            let expected = written.filter { $0.offset >= (start[TopicPartition(topic, $0.partition)] ?? 0) }
            #expect(handed.count == expected.count)
            #expect(handed.allSatisfy { $0.offset >= (start[TopicPartition(topic, $0.partition)] ?? 0) })
            #expect(try await Self.catchUp(follower).isEmpty)
            await follower.close()

            // Resumed at the end: nothing to hand over (the broker's answer alone cannot tell
            // this from a start inside the last batch: a marker tells), then what comes next.
            let end = written.reduce(into: [TopicPartition: Int64]()) { ends, m in
                ends[TopicPartition(topic, m.partition)] = max(ends[TopicPartition(topic, m.partition)] ?? 0, m.offset + 1)
            }
            let atEnd = try await KafkaTopicFollower(topic: topic, reader: reader, from: end)
            #expect(try await Self.catchUp(atEnd).isEmpty)
            let more = IntegrationTest.records(topic: topic, count: 6, from: 20)
            _ = try await producer.send(more)
            #expect(Set(try await Self.catchUp(atEnd)) == Set(Self.values(more)))
            #expect(try await Self.catchUp(atEnd).isEmpty)
            await atEnd.close()
            try await producer.close()
        }
    }

    @Test("a topic whose last offset is a transaction's end marker (never handed out): the catch-up ends once the follower moved past it")
    func endsInATransaction() async throws {
        try await IntegrationTest.run { kafka in
            let (topic, producer, transactional) = try await KafkaConsumerGapsIntegrationTests.endingInATransaction(kafka)
            var reader = try kafka.reader()
            reader.timeout = .seconds(20)
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader)
            #expect(try await Self.catchUp(follower).count == 11)
            #expect(try await Self.catchUp(follower).isEmpty)
            await follower.close()
            try await transactional.close()
            try await producer.close()
        }
    }

    @Test("a transaction open on the topic (Tansu then answers 0 for the partition's end): the catch-up does not take the partition for empty")
    func openTransaction() async throws {
        try await IntegrationTest.run { kafka in
            let (tp, producer) = try await KafkaConsumerGapsIntegrationTests.tenRecords(kafka)
            let transactional = try kafka.producer(transactionalID: kafka.uniqueName("tx"))
            try await transactional.initTransactions()
            try transactional.beginTransaction()
            _ = try await transactional.send(IntegrationTest.records(topic: tp.topic, count: 3, from: 10))
            var reader = try kafka.reader()
            reader.timeout = .seconds(60)
            let follower = try await KafkaTopicFollower(topic: tp.topic, reader: reader)
            // Apache Kafka answers the last stable offset (10) and the catch-up ends there;
            // Tansu hides what follows an open transaction from this follower until it ends.
            async let handed = Self.catchUp(follower)
            try await Task.sleep(for: .seconds(1))
            try await transactional.commitTransaction()
            let values = try await handed
            #expect(Set(values).isSuperset(of: Self.values(IntegrationTest.records(topic: tp.topic, count: 10))), "handed over: \(values)")
            await follower.close()
            try await transactional.close()
            try await producer.close()
        }
    }

    @Test("an end the follower can never fetch (Apache Kafka compacted the records at the partition's end away): after a short wait, a marker, and the catch-up ends")
    func endCompactedAway() async throws {
        try await IntegrationTest.run { kafka in
            let (tp, producer) = try await KafkaConsumerGapsIntegrationTests.tenRecords(kafka)
            var reader = try kafka.reader()
            reader.timeout = .seconds(30)
            let follower = try await KafkaTopicFollower(topic: tp.topic, reader: reader)
            // The broker names 15 for ten records (0…9): 10…14 were compacted away.
            follower.namedEnds.withLock { $0 = { _ in [tp: 15] } }
            // Without the marker, this catch-up runs out of the reader's 30 s and throws.
            #expect(try await Self.catchUp(follower) == Self.values(IntegrationTest.records(topic: tp.topic, count: 10)))
            // Past the marker the follower read, the broker's end is reached.
            follower.namedEnds.withLock { $0 = nil }
            _ = try await producer.send(IntegrationTest.records(topic: tp.topic, count: 2, from: 10))
            #expect(try await Self.catchUp(follower) == Self.values(IntegrationTest.records(topic: tp.topic, count: 2, from: 10)))
            await follower.close()
            try await producer.close()
        }
    }

    @Test("with four producers writing into the partition all the while, each catch-up hands over every record acknowledged before it (Tansu stores batches out of order)")
    func catchUpBesideConcurrentWriters() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            // As the stages read on Tansu: a batch a fetch jumped over (Tansu can make a
            // later one visible first) is read again, and the catch-up waits for it.
            var reader = try kafka.reader()
            reader.checksGaps = true
            reader.gapSettle = .milliseconds(300)
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader, recovered: .all)
            let stop = Locked(false)
            let writers = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for w in 0..<4 {
                        group.addTask {
                            let producer = try kafka.producer()
                            for n in 0..<3000 where !stop.withLock({ $0 }) {
                                _ = try await producer.send([KafkaProducerRecord(topic: topic, partition: 0, key: nil, value: Array("w\(w)-\(n)".utf8))])
                            }
                            try await producer.close()
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let probe = try kafka.producer()
            var handed = Set<String>()
            var missed: [String] = []
            for n in 0..<150 {
                let value = "probe-\(n)"
                _ = try await probe.send([KafkaProducerRecord(topic: topic, partition: 0, key: nil, value: Array(value.utf8))])
                handed.formUnion(try await Self.catchUp(follower))
                if !handed.contains(value) { missed.append(value) }
            }
            stop.withLock { $0 = true }
            try await writers.value
            #expect(missed.isEmpty, "acknowledged before a catch-up, not handed over by it: \(missed.prefix(10))")
            await follower.close()
            try await probe.close()
        }
    }
}
