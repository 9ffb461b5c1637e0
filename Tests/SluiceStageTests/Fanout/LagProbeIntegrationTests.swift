import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("Fanout lag probe against Tansu (integration)")
struct LagProbeIntegrationTests {
    @Test("a caught-up group lags 0 after idle probes (their end markers are not lag); unread records are")
    func zeroWhenCaughtUp() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 4)
            let producer = try kafka.producer()
            try await producer.send(IntegrationTest.records(topic: topic, count: 100))
            let consumer = try kafka.consumer(group: kafka.uniqueName("g"), topics: [topic])
            let probe = LagProbe(topic: topic, reader: try kafka.reader(), interval: .zero)

            let read = try await kafka.consume(consumer, count: 100, timeout: .seconds(180))
            try #require(read.count == 100)
            var next: [TopicPartition: Int64] = [:]
            for r in read { next[r.topicPartition] = max(next[r.topicPartition] ?? 0, r.offset + 1) }
            try await consumer.commit(next)
            probe.committed(next)

            // Idle: each probe writes a marker per partition; the consumer reads and skips
            // them, commits nothing more, and the lag must stay 0.
            for round in 1...3 {
                let lag = await probe.measure(consumer: consumer)
                #expect(lag == 0, "idle probe \(round): lag \(String(describing: lag))")
                let owned = try consumer.assignment()
                let markersRead = try await waitUntil(timeout: .seconds(60)) {
                    _ = try await consumer.poll(maxRecords: 100, timeout: .milliseconds(100))
                    let positions = try consumer.position(owned)
                    // This round's marker of each partition sits at its committed offset + round - 1.
                    return owned.allSatisfy { tp in (positions[tp] ?? nil).map { $0 >= (next[tp] ?? 0) + Int64(round) } ?? false }
                }
                #expect(markersRead, "the consumer read past this probe's markers")
            }

            try await producer.send(IntegrationTest.records(topic: topic, count: 10, from: 100))
            #expect(await probe.measure(consumer: consumer) == 10, "unread records are lag")
            try await consumer.close()
            try await producer.close()
        }
    }
}
