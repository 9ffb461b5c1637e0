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
    ///
    /// A commit or abort that fails retriably (timed out: it goes on in the background) is
    /// called again, as librdkafka asks, `attempts` times in all; an abort between the two
    /// would fail and leave the transaction open, and on Tansu an open transaction hides
    /// everything after it from `read_committed` readers until the id is initialised again.
    /// An abort that cannot complete throws a fatal error: the stage must stop (its
    /// restart's ``initTransactions(timeout:attempts:)`` aborts what is left open) rather
    /// than go on past a transaction it cannot close. `commitTimeout` bounds the first
    /// commit call (tests use a tiny one to make it time out).
    public func sendInTransaction(
        _ records: [KafkaProducerRecord], offsets: [TopicPartition: Int64] = [:], group: KafkaConsumerGroupMetadata? = nil,
        attempts: Int = 3, commitTimeout: Duration? = nil
    ) async throws(KafkaError) {
        try beginTransaction()
        do throws(KafkaError) {
            var receipts: [KafkaDeliveryReceipt] = []
            receipts.reserveCapacity(records.count)
            for record in records { receipts.append(try await enqueue(record)) }
            if let group { try await sendOffsetsToTransaction(offsets, group: group) }
            try await retrying(attempts, "committing") { attempt throws(KafkaError) in
                try await commitTransaction(timeout: attempt == 1 ? commitTimeout : nil)
            }
            // Every record was flushed by the commit: their reports are in, and all succeeded.
            for receipt in receipts { _ = try await receipt.acknowledgement() }
        } catch let failure {
            if failure.kind != .fenced, !failure.isFatal {
                do throws(KafkaError) {
                    try await retrying(attempts, "aborting") { _ throws(KafkaError) in try await abortTransaction() }
                } catch {
                    throw KafkaError(
                        kind: .state, code: error.code,
                        message: "could not abort the transaction after it failed (\(failure.message)): \(error.message); "
                            + "restart the stage (initialising its transactional id aborts the open transaction)",
                        operation: "abort the transaction", isRetriable: false, isFatal: true)
                }
            }
            throw failure
        }
    }

    /// Calls `body` until it succeeds, fails for good, or has been called `attempts` times.
    private func retrying(
        _ attempts: Int, _ what: String, _ body: (Int) async throws(KafkaError) -> Void
    ) async throws(KafkaError) {
        var attempt = 1
        while true {
            do throws(KafkaError) {
                return try await body(attempt)
            } catch where error.isRetriable && !error.isFatal && error.kind != .transactionAborted && attempt < attempts {
                logger.warning("\(what) the transaction failed; calling again", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }
}
