import Logging
import SluiceCore
import SluiceKafka

/// Writes, without a transaction, the records that make an outcome durable (dispatch's
/// attempts, retries and dead letters; the DLQ watch's rejections and summaries) before
/// the consumed offset that caused them is committed.
///
/// A transient failure (broker unreachable, timeouts) is retried with backoff for as long
/// as the stage runs: the broker, not the record, is at fault. A record the broker refuses
/// for good (too large, invalid) is replaced by a minimal rejection of its `source`
/// (``Rejection/minimal(of:topic:code:detail:)``); when even that is refused it is
/// logged and counted (`sluice_rejected_total{reason="unwritable"}`) and given up. So one
/// record is never retried forever, and a bad one never stops a stage.
///
/// Invariant: ``write(_:source:)`` returns true only when every record, or its
/// replacement, was acknowledged, or was given up after it was counted and logged.
///
/// ``write(_:source:then:)`` does the same without a waiting task: the records go to the
/// producer at once and `then` runs when the broker acknowledged them all (dispatch's path,
/// one delivery's outcome per call); only when that fails does a task take the batch
/// through the retries above.
///
/// ```swift
/// let writer = DurableWriter(producer: producer, rejectedTopic: "sluice.rejected", logger: logger)
/// if await writer.write(outcome, source: record) { finish(record) }
/// writer.write(outcome, source: record) { written in if written { finish(record) } }
/// ```
struct DurableWriter: Sendable {
    let producer: KafkaProducer
    let rejectedTopic: String
    let logger: Logger

    /// Writes `records`; returns false only when the task was cancelled first (the
    /// offset then stays uncommitted and the record is read again).
    @discardableResult
    func write(_ records: [KafkaProducerRecord], source: KafkaRecord?) async -> Bool {
        var backoff = Duration.milliseconds(100)
        while !records.isEmpty {
            do throws(KafkaError) {
                try await producer.send(records)
                return true
            } catch where error.isRetriable || error.kind == .brokerUnreachable || error.kind == .timedOut {
                logger.warning("could not write an outcome; retrying", metadata: ["error": "\(error)"])
                if Task.isCancelled { return false }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            } catch {
                return await writeEach(records, source: source)
            }
        }
        return true
    }

    /// Writes `records` as ``write(_:source:)`` does, then calls `then` with its answer:
    /// on the producer's delivery-report thread when the broker acknowledged them all at the
    /// first try, else from a task that retries them (so `then` must not block). Records
    /// handed over before a failure may be written twice: at least once, as ever.
    func write(_ records: [KafkaProducerRecord], source: KafkaRecord?, then: @escaping @Sendable (Bool) -> Void) {
        let retry: @Sendable () -> Void = { [self] in Task { then(await write(records, source: source)) } }
        do throws(KafkaError) {
            try producer.enqueue(records) { result in
                if case .success = result { then(true) } else { retry() }
            }
        } catch {
            retry()
        }
    }

    /// After a permanent refusal: each record alone, the refused ones replaced.
    private func writeEach(_ records: [KafkaProducerRecord], source: KafkaRecord?) async -> Bool {
        for record in records {
            do throws(KafkaError) {
                try await producer.send(record)
                continue
            } catch where error.isRetriable {
                if !(await write([record], source: source)) { return false }
                continue
            } catch {
                Rejection.count(topic: source?.topic ?? record.topic, reason: "unwritable")
                var metadata: Logger.Metadata = ["topic": "\(record.topic)", "error": "\(error)"]
                if let source { metadata["source"] = "\(source.topic)/\(source.partition)/\(source.offset)" }
                guard let source, record.topic != rejectedTopic || record.value != nil else {
                    logger.error("gave up a record the broker refuses", metadata: metadata)
                    continue
                }
                let minimal = Rejection.minimal(
                    of: source, topic: rejectedTopic, code: "unwritable", detail: "could not write to \(record.topic): \(error.message)")
                do throws(KafkaError) {
                    try await producer.send(minimal)
                    logger.error("a record the broker refuses was replaced by a rejection", metadata: metadata)
                } catch {
                    logger.error("gave up a record the broker refuses (and its rejection)", metadata: metadata)
                }
            }
        }
        return true
    }
}
