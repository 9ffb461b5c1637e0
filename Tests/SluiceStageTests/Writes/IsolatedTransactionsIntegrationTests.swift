import Foundation
import Logging
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("IsolatedTransactions against Tansu (integration)")
struct IsolatedTransactionsIntegrationTests {
    @Test("offsets go to the transaction held back by `committable` (records a fetch jumped over), in the batch and record by record")
    func heldBack() async throws {
        try await IntegrationTest.run { kafka in
            let input = try await kafka.createTopic("in", partitions: 1)
            let output = try await kafka.createTopic("out", partitions: 1)
            try await kafka.producer().send(IntegrationTest.records(topic: input, count: 10))
            let consumer = try kafka.consumer(group: kafka.uniqueName("g"), topics: [input])
            let records = try await kafka.consume(consumer, count: 10)
            #expect(records.count == 10)
            let producer = try kafka.producer(transactionalID: kafka.uniqueName("tx"))
            try await producer.initTransactions()
            let tp = TopicPartition(input, 0)
            // As if offsets 4..<6 had been jumped over and not read again yet.
            let isolated = IsolatedTransactions(
                producer: producer, rejectedTopic: output, logger: kafka.logger,
                committable: { $0.mapValues { min($0, 4) } })
            let caused = records.map { Caused(source: $0, records: [KafkaProducerRecord(topic: output, value: $0.value)], next: [tp: $0.offset + 1]) }
            let written = try await isolated.commit(
                Array(caused.prefix(5)), offsets: [tp: 5], group: try consumer.groupMetadata(), failures: Locked(0), stage: "test",
                aborted: {}, readAgain: {})
            #expect(written)
            #expect(try await consumer.committed([tp])[tp] == 4)
            let tally = try await isolated.send(Array(caused.suffix(5)), group: try consumer.groupMetadata())
            #expect(tally.written == 5)
            #expect(try await consumer.committed([tp])[tp] == 4, "record by record too")
            let unclamped = IsolatedTransactions(producer: producer, rejectedTopic: output, logger: kafka.logger)
            _ = try await unclamped.send(Array(caused.suffix(1)), group: try consumer.groupMetadata())
            #expect(try await consumer.committed([tp])[tp] == 10)
            try await consumer.close()
            try await producer.close()
        }
    }
}
