import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceKafka

/// A follower whose fetches jumped over records (Tansu can skip a batch): the gap is made
/// deterministic by telling the consumer it handed out offset 0 before it starts at 6.
@Suite("Following a topic: records a fetch jumped over, found late (integration)")
struct KafkaTopicFollowerGapsIntegrationTests {
    /// Offsets 0…9: offset 3 writes key `ep_a`, offset 8 deletes it (a tombstone); the
    /// others have keys of their own.
    static func write(_ kafka: IntegrationTest, topic: String) async throws {
        let producer = try kafka.producer()
        _ = try await producer.send((0..<10).map { n in
            switch n {
            case 3: KafkaProducerRecord(topic: topic, partition: 0, key: Array("ep_a".utf8), value: Array("old-a".utf8))
            case 8: KafkaProducerRecord(topic: topic, partition: 0, key: Array("ep_a".utf8), value: nil)
            default: KafkaProducerRecord(topic: topic, partition: 0, key: Array("k-\(n)".utf8), value: Array("value-\(n)".utf8))
            }
        })
        try await producer.close()
    }

    /// The offsets one catch-up handed over, in order, with offsets 1…5 jumped over.
    static func catchUpOverGap(_ kafka: IntegrationTest, topic: String, checksGaps: Bool, rule: RecoveredRecords) async throws -> [Int64] {
        var reader = try kafka.reader()
        reader.checksGaps = checksGaps
        reader.gapSettle = .milliseconds(300)
        let tp = TopicPartition(topic, 0)
        let follower = try await KafkaTopicFollower(topic: topic, reader: reader, from: [tp: 6], recovered: rule)
        follower.consumer.observe(tp, offset: 0)
        var handed: [Int64] = []
        try await follower.catchUp { handed.append($0.offset) }
        await follower.close()
        return handed
    }

    @Test("unless superseded: the catch-up ends only after the gap was read again; a record of a key deleted later stays deleted")
    func unlessSuperseded() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            try await Self.write(kafka, topic: topic)
            let handed = try await Self.catchUpOverGap(kafka, topic: topic, checksGaps: true, rule: .unlessSuperseded)
            #expect(handed == [6, 7, 8, 9, 1, 2, 4, 5], "offset 3 (ep_a) is superseded by its tombstone at 8")
        }
    }

    @Test("next: records above a gap come without their position, which moves on only once the gap was read again, with the records found there")
    func nextHoldsPositions() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            try await Self.write(kafka, topic: topic)
            var reader = try kafka.reader()
            reader.checksGaps = true
            reader.gapSettle = .milliseconds(300)
            let tp = TopicPartition(topic, 0)
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader, from: [tp: 6], recovered: .all)
            follower.consumer.observe(tp, offset: 0)
            var offsets: [Int64] = []
            var positions: [Int64] = []
            var positionBeforeRecovered = false
            let deadline = ContinuousClock.now + .seconds(60)
            while positions.last != 10, ContinuousClock.now < deadline {
                let (records, moved) = try await follower.next(maxRecords: 100)
                offsets += records.map(\.offset)
                if let next = moved[tp] {
                    positions.append(next)
                    positionBeforeRecovered = positionBeforeRecovered || !offsets.contains(1)
                }
                if records.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(offsets == [6, 7, 8, 9, 1, 2, 3, 4, 5])
            #expect(positions == [10], "one position, after the gap was read again")
            #expect(!positionBeforeRecovered)
            await follower.close()
        }
    }

    @Test("all: every record found late is handed over; with gap checks off, none (what a fetch skipped stays skipped)")
    func allAndOff() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            try await Self.write(kafka, topic: topic)
            #expect(try await Self.catchUpOverGap(kafka, topic: topic, checksGaps: true, rule: .all) == [6, 7, 8, 9, 1, 2, 3, 4, 5])
            #expect(try await Self.catchUpOverGap(kafka, topic: topic, checksGaps: false, rule: .all) == [6, 7, 8, 9])
        }
    }
}
