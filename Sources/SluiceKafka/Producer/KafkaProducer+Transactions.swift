import CRdKafka
import SluiceCore

/// Kafka transactions: consume-transform-produce with the consumed offsets committed
/// atomically with the produced records.
///
/// Each call that talks to the transaction coordinator blocks inside librdkafka, so it
/// runs off Swift's cooperative pool. A ``KafkaError`` with kind `.fenced` means a newer
/// copy with the same transactional id took over: this producer must be closed.
extension KafkaProducer {
    /// Registers the transactional id with the coordinator, fencing any older producer
    /// with the same id and aborting its open transaction. Call once, first.
    ///
    /// A retriable failure (a coordinator slow to answer, say, which librdkafka reports as
    /// `_TIMED_OUT` and asks to call again) is retried, `attempts` times in all, so a busy
    /// broker at startup does not stop a stage; any other failure is thrown at once.
    public func initTransactions(timeout: Duration? = nil, attempts: Int = 5) async throws(KafkaError) {
        let (handle, ms) = (handle, (timeout ?? config.client.requestTimeout).milliseconds)
        var attempt = 1
        while true {
            do throws(KafkaError) {
                return try await Blocking.run { () throws(KafkaError) in
                    try KafkaError.check(rd_kafka_init_transactions(handle.pointer, ms), "initialise transactions")
                }
            } catch where error.isRetriable && !error.isFatal && attempt < attempts {
                logger.warning(
                    "initialising transactions failed; trying again",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }

    /// Starts a transaction; every record produced until commit or abort belongs to it.
    public func beginTransaction() throws(KafkaError) {
        try KafkaError.check(rd_kafka_begin_transaction(handle.pointer), "begin a transaction")
    }

    /// Adds a consumer group's next offsets (`last processed + 1`) to the transaction,
    /// so they are committed if and only if the transaction is.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Int64], group: KafkaConsumerGroupMetadata, timeout: Duration? = nil
    ) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let (handle, ms) = (handle, (timeout ?? config.client.requestTimeout).milliseconds)
        let list = UncheckedBox(TopicPartitionList.make(offsets.mapValues { Optional($0) }))
        defer { rd_kafka_topic_partition_list_destroy(list.value) }
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(
                rd_kafka_send_offsets_to_transaction(handle.pointer, list.value, group.pointer, ms),
                "send offsets to the transaction")
        }
    }

    /// Flushes the transaction's records and commits it.
    public func commitTransaction(timeout: Duration? = nil) async throws(KafkaError) {
        let (handle, ms) = (handle, (timeout ?? config.client.requestTimeout).milliseconds)
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_commit_transaction(handle.pointer, ms), "commit the transaction")
        }
    }

    /// Aborts the open transaction; its records are never shown to `read_committed`
    /// consumers (on Apache Kafka; Tansu shows aborted records, see the brief §1).
    public func abortTransaction(timeout: Duration? = nil) async throws(KafkaError) {
        let (handle, ms) = (handle, (timeout ?? config.client.requestTimeout).milliseconds)
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_abort_transaction(handle.pointer, ms), "abort the transaction")
        }
    }
}

extension KafkaProducer {
    /// One whole transaction: begins, produces `records`, adds `offsets` of the consumer
    /// `group` (when given) while they are in flight, and commits; the commit flushes them
    /// and fails if any failed (librdkafka's documented pattern), so their offsets are
    /// committed only with them. On failure the transaction is aborted (unless the
    /// producer was fenced or hit a fatal error, when no abort is possible) and the error
    /// rethrown, so the caller only decides what to read again.
    public func sendInTransaction(
        _ records: [KafkaProducerRecord], offsets: [TopicPartition: Int64] = [:], group: KafkaConsumerGroupMetadata? = nil
    ) async throws(KafkaError) {
        try beginTransaction()
        do throws(KafkaError) {
            var receipts: [KafkaDeliveryReceipt] = []
            receipts.reserveCapacity(records.count)
            for record in records { receipts.append(try await enqueue(record)) }
            if let group { try await sendOffsetsToTransaction(offsets, group: group) }
            try await commitTransaction()
            // Every record was flushed by the commit: their reports are in, and all succeeded.
            for receipt in receipts { _ = try await receipt.acknowledgement() }
        } catch {
            if error.kind != .fenced, !error.isFatal { try? await abortTransaction() }
            throw error
        }
    }
}
