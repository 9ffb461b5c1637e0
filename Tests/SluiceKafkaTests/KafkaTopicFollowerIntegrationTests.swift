import Foundation
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

    @Test("each catch-up hands over exactly what was acknowledged since the last, once, markers left out, also when nothing changed or another reader's markers came between")
    func catchUpsHandOverEachRecordOnce() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 3)
            let producer = try kafka.producer()
            let reader = try kafka.reader()
            let keys = { (records: [KafkaProducerRecord]) in records.map { String(decoding: $0.value ?? [], as: UTF8.self) } }

            let first = IntegrationTest.records(topic: topic, count: 30)
            _ = try await producer.send(first)
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader)
            #expect(Set(try await Self.catchUp(follower)) == Set(keys(first)))

            // Nothing new: the marker of the last catch-up is all that is below the new ones,
            // and it is the follower's own, so nothing is read (no fetch to wait for).
            let reads = follower.readingCatchUps.withLock { $0 }
            for _ in 0..<3 { #expect(try await Self.catchUp(follower).isEmpty) }
            #expect(follower.readingCatchUps.withLock { $0 } == reads)

            // New records after catch-ups that did not read their markers.
            let second = IntegrationTest.records(topic: topic, count: 7, from: 30)
            _ = try await producer.send(second)
            #expect(Set(try await Self.catchUp(follower)) == Set(keys(second)))

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
            #expect(Set(handed) == Set(keys(third)))
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
            try await producer.close()
        }
    }
}
