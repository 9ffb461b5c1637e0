import CRdKafka
import Foundation
import SluiceCore

extension KafkaTopicReader {
    /// The offsets of `offsets(atOrAfter:topic:)` for a point in time: its milliseconds since
    /// 1970 rounded down (a start never after `time`) and clamped to 1970…2200, so no time
    /// from the command line or the API can overflow the conversion.
    public func offsets(atOrAfter time: Date, topic: String) async throws -> [TopicPartition: Int64] {
        let ms = (time.timeIntervalSince1970 * 1000).rounded(.down)
        return try await offsets(atOrAfter: ms.isFinite ? Int64(min(max(ms, 0), 7_258_118_400_000)) : 0, topic: topic)
    }

    /// For each partition of `topic`, the first offset whose record has a timestamp at
    /// or after `timestampMs`, or the partition's end when there is none.
    ///
    /// Asks the broker first (offsets-for-times), then checks its answer: the record at
    /// the answer must be at or after the time and the one before it earlier. When the
    /// answer fails the check (Tansu always answers 0), scans the partition by record
    /// timestamp instead.
    public func offsets(atOrAfter timestampMs: Int64, topic: String) async throws -> [TopicPartition: Int64] {
        let ends = try await endOffsets(topic: topic)
        let consumer = try makeConsumer()
        let answers = try await brokerOffsets(consumer: consumer, timestampMs: timestampMs, partitions: Array(ends.keys))
        var result: [TopicPartition: Int64] = [:]
        for (tp, end) in ends.sorted(by: { $0.key < $1.key }) {
            if let answer = answers[tp], answer >= 0,
                try await isFirstAtOrAfter(answer, timestampMs, in: tp, end: end, consumer: consumer)
            {
                result[tp] = answer
            } else {
                let found = try await firstRecord(in: tp, from: 0, end: end, consumer: consumer) {
                    ($0.timestampMs ?? Int64.min) >= timestampMs
                }
                logger.debug("offsets-for-times answer failed validation; scanned", metadata: ["partition": "\(tp)"])
                result[tp] = found?.offset ?? end
            }
        }
        return result
    }

    /// The broker's offsets-for-times answer (-1 where it says "none").
    func brokerOffsets(consumer: KafkaConsumer, timestampMs: Int64, partitions: [TopicPartition]) async throws(KafkaError) -> [TopicPartition: Int64] {
        let (handle, ms) = (consumer.handle, client.requestTimeout.milliseconds)
        let list = UncheckedBox(TopicPartitionList.make(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Optional(timestampMs)) })))
        defer { rd_kafka_topic_partition_list_destroy(list.value) }
        return try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_offsets_for_times(handle.pointer, list.value, ms), "look up offsets by time")
            var result: [TopicPartition: Int64] = [:]
            for (tp, offset, err) in TopicPartitionList.elements(list.value) where err == RD_KAFKA_RESP_ERR_NO_ERROR {
                result[tp] = offset
            }
            return result
        }
    }

    /// True when the record at `offset` is at or after the time and its predecessor is not.
    private func isFirstAtOrAfter(
        _ offset: Int64, _ timestampMs: Int64, in tp: TopicPartition, end: Int64, consumer: KafkaConsumer
    ) async throws -> Bool {
        guard offset < end, let at = try await firstRecord(in: tp, from: offset, end: end, consumer: consumer, where: { _ in true }),
            (at.timestampMs ?? Int64.min) >= timestampMs
        else { return false }
        guard offset > 0,
            let before = try await firstRecord(in: tp, from: offset - 1, end: end, consumer: consumer, where: { _ in true }),
            before.offset < at.offset
        else { return true }
        return (before.timestampMs ?? Int64.min) < timestampMs
    }

    /// The first record of `tp` at or after `offset` and before `end` that satisfies
    /// `predicate`, or nil.
    func firstRecord(
        in tp: TopicPartition, from offset: Int64, end: Int64, consumer: KafkaConsumer,
        where predicate: (KafkaRecord) -> Bool
    ) async throws -> KafkaRecord? {
        try consumer.assign([tp: offset])
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for event in try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(200)) {
                guard case .record(let record) = event, record.topicPartition == tp, record.offset >= offset else { continue }
                if record.offset >= end { return nil }
                if !record.isEndMarker, predicate(record) { return record }
            }
        }
        throw KafkaError(kind: .timedOut, message: "\(tp) gave no record within \(timeout)", operation: "scan \(tp) by time", isRetriable: true)
    }
}
