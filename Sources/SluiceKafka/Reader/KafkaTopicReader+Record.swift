import Foundation

extension KafkaTopicReader {
    /// The record at `offset` of `partition` in `topic` (read_committed), or nil when the
    /// partition no longer holds it (retention removed it, or compaction replaced it) or
    /// nothing arrives within `timeout`.
    ///
    /// For payloads kept on their topic and fetched by coordinates, as the admin API's
    /// query store does: one short-lived consumer, assigned at the offset.
    public func record(at offset: Int64, partition: Int32, topic: String, timeout: Duration = .seconds(10)) async throws -> KafkaRecord? {
        let consumer = try makeConsumer()
        let found: Result<KafkaRecord?, any Error>
        do { found = .success(try await first(at: offset, in: TopicPartition(topic, partition), consumer: consumer, timeout: timeout)) } catch {
            found = .failure(error)
        }
        try? await consumer.close()
        return try found.get()
    }

    private func first(at offset: Int64, in tp: TopicPartition, consumer: KafkaConsumer, timeout: Duration) async throws -> KafkaRecord? {
        try consumer.assign([tp: offset])
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for event in try await consumer.poll(maxRecords: 10, timeout: .milliseconds(200)) {
                guard case .record(let record) = event, record.topicPartition == tp, record.offset >= offset else { continue }
                return record.offset == offset ? record : nil
            }
        }
        return nil
    }
}
