import Foundation
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Reading a topic to its end and by time against Tansu (integration)")
struct KafkaTopicReaderIntegrationTests {
    @Test("read-to-end returns exactly the records before its markers, with 1,000 more in flight")
    func readToEndWithBatchInFlight() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 4)
            let producer = try kafka.producer()
            let before = try await producer.send(IntegrationTest.records(topic: topic, count: 1_000))

            // 1,000 more, enqueued and not yet acknowledged when the read starts.
            var inFlight: [KafkaDeliveryReceipt] = []
            for record in IntegrationTest.records(topic: topic, count: 1_000, from: 1_000) {
                inFlight.append(try await producer.enqueue(record))
            }
            var read: [KafkaRecord] = []
            let next = try await kafka.reader().readToEnd(topic: topic) { read.append($0) }
            var concurrent: [KafkaRecordMetadata] = []
            for receipt in inFlight { concurrent.append(try await receipt.acknowledgement()) }

            // Everything acknowledged before the call is there, once.
            let readKeys = read.map { "\($0.partition)/\($0.offset)" }
            #expect(Set(readKeys).count == read.count)
            #expect(Set(before.map { "\($0.partition)/\($0.offset)" }).isSubset(of: Set(readKeys)))
            // Exactly the records below each partition's end marker, in order, no gaps.
            let written = (before + concurrent)
            for (tp, end) in next {
                let expected = written.filter { $0.partition == tp.partition && $0.offset < end - 1 }.map(\.offset).sorted()
                let got = read.filter { $0.partition == tp.partition }.map(\.offset)
                #expect(got == expected, "partition \(tp.partition)")
            }
            #expect(read.allSatisfy { !$0.isEndMarker })
            try await producer.close()
        }
    }

    @Test("group consumers never see end markers")
    func consumersSkipMarkers() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 2)
            var written = try await kafka.producer().send(IntegrationTest.records(topic: topic, count: 10))
            let markers = try await kafka.reader().endOffsets(topic: topic)
            written += try await kafka.producer().send(IntegrationTest.records(topic: topic, count: 10, from: 10))
            // The offset after the last record of each partition, markers included.
            var ends = markers.mapValues { $0 + 1 }
            for r in written { ends[TopicPartition(r.topic, r.partition)] = max(ends[TopicPartition(r.topic, r.partition)] ?? 0, r.offset + 1) }
            let consumer = try kafka.consumer(group: kafka.uniqueName("g"), topics: [topic])
            // Read until the consumer is past everything written, so a marker handed out would be here.
            var records: [KafkaRecord] = []
            let pastEverything = try await waitUntil(timeout: .seconds(45), interval: .zero) {
                for event in try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100)) {
                    if case .record(let r) = event { records.append(r) }
                }
                let positions = try consumer.position(Array(ends.keys))
                return ends.allSatisfy { tp, end in ((positions[tp] ?? nil) ?? -1) >= end }
            }
            #expect(pastEverything)
            #expect(records.count == 20)
            #expect(Set(records.map(\.text)) == Set((0..<20).map { "value-\($0)" }))
            try await consumer.close()
        }
    }

    @Test("the time lookup finds the first offset at or after a timestamp (through the fallback on Tansu)")
    func offsetsForTimes() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 2)
            let t0: Int64 = 1_700_000_000_000
            // Partition 0: records at t0, t0+1s, …, t0+49s. Partition 1: only at t0+100s.
            var records = (0..<50).map {
                KafkaProducerRecord(topic: topic, partition: 0, value: Array("r\($0)".utf8), timestampMs: t0 + Int64($0) * 1000)
            }
            records.append(KafkaProducerRecord(topic: topic, partition: 1, value: Array("late".utf8), timestampMs: t0 + 100_000))
            try await kafka.producer().send(records)
            let reader = try kafka.reader()
            let p0 = TopicPartition(topic, 0)
            let p1 = TopicPartition(topic, 1)

            let mid = try await reader.offsets(atOrAfter: t0 + 20_500, topic: topic)
            #expect(mid[p0] == 21)
            #expect(mid[p1] == 0)

            let exact = try await reader.offsets(atOrAfter: t0 + 20_000, topic: topic)
            #expect(exact[p0] == 20)

            let beforeAll = try await reader.offsets(atOrAfter: t0 - 5_000, topic: topic)
            #expect(beforeAll[p0] == 0)

            // Past every record: the partition's end (at or beyond the last record + 1).
            let after = try await reader.offsets(atOrAfter: t0 + 200_000, topic: topic)
            #expect((after[p0] ?? 0) >= 50)
            #expect((after[p1] ?? 0) >= 1)
        }
    }
}
