import Logging
import SluiceCore
import SluiceKafka

/// What one consumed record caused: the records to produce for it, and the offset to
/// commit once they are written.
///
/// ```swift
/// let caused = Caused(source: record, records: [delivery], next: [record.topicPartition: record.offset + 1])
/// ```
struct Caused: Sendable {
    var source: KafkaRecord
    var records: [KafkaProducerRecord]
    /// The consumed offsets this entry may commit (`source.offset + 1` unless a stage
    /// holds back, as a retry tier does before a held head).
    var next: [TopicPartition: Int64]
}

/// The last resort of a consume-transform-produce stage (fanout, the retry tiers) whose
/// batch transaction the broker refused for a reason that retrying will not fix (a record
/// too large, a record the broker does not accept), or that failed again and again:
/// each consumed record goes in its own transaction, so one bad record cannot hold back
/// the good ones of its batch.
///
/// For each record, in order: its own records and offset; if that fails, a minimal
/// rejection (reasons and fingerprint, none of its bytes) and the offset; if that fails
/// too, the offset alone, logged and counted (`sluice_rejected_total{reason="unwritable"}`).
/// A stage therefore never retries one record forever.
///
/// Invariant: every record of `batch` has its offset committed exactly once, with its
/// own records, with its minimal rejection, or alone, and in offset order; only a
/// fenced or fatal producer, or a broker that refuses offsets, makes it throw.
///
/// ```swift
/// try await IsolatedTransactions(producer: producer, rejectedTopic: "sluice.rejected", logger: logger)
///     .send(batch, group: try consumer.groupMetadata())
/// ```
struct IsolatedTransactions: Sendable {
    let producer: KafkaProducer
    let rejectedTopic: String
    let logger: Logger
    /// Holds back offsets before they go to a transaction (``KafkaConsumer/committable(_:)``:
    /// never past records a fetch jumped over and that were not read again yet).
    var committable: @Sendable ([TopicPartition: Int64]) -> [TopicPartition: Int64] = { $0 }

    /// The outcome of each record, for the stage's counters.
    struct Tally: Sendable, Equatable {
        var written = 0
        var replacedByRejection = 0
        var skipped = 0
    }

    /// Whether a batch that failed with `error` (for the `consecutiveFailures`-th time in
    /// a row) should be sent record by record.
    static func shouldIsolate(after error: KafkaError, consecutiveFailures: Int) -> Bool {
        if error.kind == .fenced || error.isFatal { return false }
        return error.kind == .messageTooLarge || !error.isRetriable || consecutiveFailures >= 3
    }

    /// A batch's transaction with the fallbacks fanout and the tiers share: the records of
    /// `caused` and `offsets` in one transaction. A fenced or fatal producer throws (the
    /// stage stops). Any other failure is counted in `failures`, calls `aborted`, and then
    /// either the batch is read again (`readAgain`, then a short pause; returns false) or,
    /// when ``shouldIsolate(after:consecutiveFailures:)`` says so, it goes record by record
    /// (``send(_:group:)``). True when every record's outcome is written.
    func commit(
        _ caused: [Caused], offsets: [TopicPartition: Int64], group: KafkaConsumerGroupMetadata, failures: Locked<Int>,
        stage: String, aborted: () -> Void, readAgain: () async throws -> Void
    ) async throws -> Bool {
        do throws(KafkaError) {
            try await producer.sendInTransaction(caused.flatMap(\.records), offsets: committable(offsets), group: group)
            failures.withLock { $0 = 0 }
            return true
        } catch where error.kind == .fenced || error.isFatal {
            logger.error("\(stage) cannot continue", metadata: ["error": "\(error)"])
            throw error
        } catch {
            aborted()
            let failed = failures.withLock { $0 += 1; return $0 }
            guard Self.shouldIsolate(after: error, consecutiveFailures: failed) else {
                logger.warning("transaction failed; aborted, reading the batch again", metadata: ["error": "\(error)"])
                try await readAgain()
                try await Task.sleep(for: .milliseconds(200))
                return false
            }
            logger.warning("transaction failed; sending the batch record by record", metadata: ["error": "\(error)", "records": "\(caused.count)"])
            try await send(caused, group: group)
            failures.withLock { $0 = 0 }
            return true
        }
    }

    @discardableResult
    func send(_ batch: [Caused], group: KafkaConsumerGroupMetadata) async throws(KafkaError) -> Tally {
        var tally = Tally()
        for caused in batch {
            guard let error = await attempt(caused.records, caused.next, group) else {
                tally.written += 1
                continue
            }
            let detail = "could not write what this record caused: \(error)"
            let minimal = Rejection.minimal(of: caused.source, topic: rejectedTopic, code: "unwritable", detail: detail)
            Rejection.count(topic: caused.source.topic, reason: "unwritable")
            logger.error("a record's outputs could not be written; replaced by a rejection", metadata: source(caused, error))
            if await attempt([minimal], caused.next, group) == nil {
                tally.replacedByRejection += 1
                continue
            }
            // Not even the rejection: commit the offset alone rather than stop the stage.
            try await producer.sendInTransaction([], offsets: committable(caused.next), group: group)
            logger.error("skipped a record that could not be written nor rejected", metadata: source(caused, error))
            tally.skipped += 1
        }
        return tally
    }

    /// One transaction; nil when it committed, else why it did not. Fenced and fatal
    /// errors are not absorbed.
    private func attempt(_ records: [KafkaProducerRecord], _ next: [TopicPartition: Int64], _ group: KafkaConsumerGroupMetadata) async -> KafkaError? {
        do throws(KafkaError) {
            try await producer.sendInTransaction(records, offsets: committable(next), group: group)
            return nil
        } catch {
            return error
        }
    }

    private func source(_ caused: Caused, _ error: KafkaError) -> Logger.Metadata {
        ["source": "\(caused.source.topic)/\(caused.source.partition)/\(caused.source.offset)", "error": "\(error)"]
    }
}
