import SluiceCore
import CRdKafka
import Logging
import Synchronization

/// An idempotent, `acks=all` Kafka producer whose sends complete when the broker has
/// acknowledged the record.
///
/// Delivery reports arrive on librdkafka's event queue, which one ``EventPump`` thread
/// drains; each report resumes the task awaiting that record. ``enqueue(_:)`` hands a
/// record to librdkafka and returns at once, so a caller can keep thousands in flight in
/// order and await their receipts later; ``send(_:)`` does both.
///
/// Invariant: every ``KafkaDeliveryReceipt`` is awaited exactly once (an unawaited one
/// keeps its outcome in memory until the producer is gone).
///
/// ```swift
/// let producer = try KafkaProducer(config: .init(client: .init(brokers: "127.0.0.1:9092")), logger: logger)
/// let where = try await producer.send(.init(topic: "sluice.events", key: key, value: body))
/// try await producer.close()
/// ```
public final class KafkaProducer: Sendable {
    let handle: RdKafkaHandle
    let config: KafkaProducerConfig
    let logger: Logger
    private let deliveries = Locked(DeliveryTable())
    private let fatalError = Locked<KafkaError?>(nil)
    private let pump: EventPump

    public init(config: KafkaProducerConfig, logger: Logger) throws(KafkaError) {
        self.config = config
        self.logger = logger
        let handle = try RdKafkaHandle(
            type: RD_KAFKA_PRODUCER, properties: config.properties,
            events: Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
        self.handle = handle
        let queue = rd_kafka_queue_get_main(handle.pointer)!
        let deliveries = self.deliveries
        let fatalError = self.fatalError
        let topics = TopicNames()
        self.pump = EventPump(name: "sluice.producer", handle: handle, queue: queue) { event in
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_DR:
                Self.completeDeliveries(event, deliveries, topics)
            case RD_KAFKA_EVENT_ERROR:
                if let error = logKafkaErrorEvent(event, logger: logger) {
                    fatalError.withLock { $0 = $0 ?? error }
                }
            case RD_KAFKA_EVENT_LOG:
                logKafkaLogEvent(event, logger: logger)
            default:
                break
            }
        }
    }

    deinit { pump.stop() }

    /// Hands `record` to librdkafka and returns a receipt to await its acknowledgement.
    /// Waits (without blocking a thread) while librdkafka's local queue is full.
    public func enqueue(_ record: KafkaProducerRecord) async throws(KafkaError) -> KafkaDeliveryReceipt {
        if let fatal = fatalError.withLock({ $0 }) { throw fatal }
        while true {
            let id = deliveries.withLock { $0.register() }
            let code = produce(record, opaque: id)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaDeliveryReceipt(producer: self, id: id) }
            deliveries.withLock { $0.cancel(id) }
            guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw KafkaError(code: code, operation: "produce to \(record.topic)")
            }
            try? await Task.sleep(for: .milliseconds(2))
            if Task.isCancelled {
                throw KafkaError(kind: .state, message: "cancelled while the local queue was full", operation: "produce to \(record.topic)")
            }
        }
    }

    /// Hands all `records` to librdkafka without waiting and reports their acknowledgement
    /// once, to `onAcknowledged`, on the delivery-report thread: success when every record
    /// was acknowledged, else the first failure. Throws, and reports nothing, when a record
    /// cannot be handed over now (the local queue is full, the producer failed): the caller
    /// then owns the whole batch again (some of it may still reach the broker; send it
    /// again or give it up). An empty batch is reported at once.
    public func enqueue(_ records: [KafkaProducerRecord], onAcknowledged: @escaping @Sendable (Result<Void, KafkaError>) -> Void) throws(KafkaError) {
        if let fatal = fatalError.withLock({ $0 }) { throw fatal }
        guard !records.isEmpty else { return onAcknowledged(.success(())) }
        let group = AcknowledgementGroup(count: records.count, callback: onAcknowledged)
        for record in records {
            let id = deliveries.withLock { $0.register(group: group) }
            let code = produce(record, opaque: id)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                deliveries.withLock { $0.cancel(id) }
                group.abandon()
                throw KafkaError(code: code, operation: "produce to \(record.topic)")
            }
        }
    }

    /// Produces `record` and returns where the broker stored it.
    @discardableResult
    public func send(_ record: KafkaProducerRecord) async throws(KafkaError) -> KafkaRecordMetadata {
        try await enqueue(record).acknowledgement()
    }

    /// Produces all `records` in order, keeping them in flight together, and returns
    /// their metadata in the same order. Throws the first failure.
    @discardableResult
    public func send(_ records: [KafkaProducerRecord]) async throws(KafkaError) -> [KafkaRecordMetadata] {
        var receipts: [KafkaDeliveryReceipt] = []
        receipts.reserveCapacity(records.count)
        for record in records { receipts.append(try await enqueue(record)) }
        var results: [KafkaRecordMetadata] = []
        var firstError: KafkaError?
        for receipt in receipts {
            do throws(KafkaError) { results.append(try await receipt.acknowledgement()) }
            catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
        return results
    }

    /// Records handed to librdkafka and not yet acknowledged.
    public var inFlight: Int { deliveries.withLock { $0.inFlight } }

    /// Waits until every enqueued record is acknowledged or failed.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = self.handle
        try await Blocking.run { () throws(KafkaError) in
            try KafkaError.check(rd_kafka_flush(handle.pointer, timeout.milliseconds), "flush the producer")
        }
    }

    /// Flushes and stops the delivery-report thread. The producer is unusable afterwards.
    public func close(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        defer { pump.stop() }
        try await flush(timeout: timeout)
    }

    func awaitDelivery(_ id: UInt) async -> DeliveryTable.Outcome {
        if let outcome = deliveries.withLock({ $0.takeOutcome(id) }) { return outcome }
        return await withCheckedContinuation { continuation in
            if let outcome = deliveries.withLock({ $0.wait(id, continuation: continuation) }) {
                continuation.resume(returning: outcome)
            }
        }
    }

    private func produce(_ record: KafkaProducerRecord, opaque: UInt) -> rd_kafka_resp_err_t {
        let headers = HeaderList.make(record.headers)
        let partition = record.partition ?? sluice_rd_partition_unassigned()
        let code = withBytes(record.key) { key, keyLen in
            withBytes(record.value) { value, valueLen in
                // withCString: a short name's implicit bridging copied it to the heap.
                record.topic.withCString { topic in
                    sluice_rd_produce(
                        handle.pointer, topic, partition, key, keyLen, value, valueLen, headers,
                        record.timestampMs ?? 0, UnsafeMutableRawPointer(bitPattern: opaque))
                }
            }
        }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return code
    }

    private static func completeDeliveries(_ event: OpaquePointer, _ deliveries: Locked<DeliveryTable>, _ topics: TopicNames) {
        var completions: [DeliveryTable.Completion] = []
        deliveries.withLock { table in
            while let message = rd_kafka_event_message_next(event) {
                let m = message.pointee
                let id = UInt(bitPattern: m._private)
                let topic = topics.name(rd_kafka_topic_name(m.rkt))
                let outcome: DeliveryTable.Outcome =
                    m.err == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? .success(KafkaRecordMetadata(topic: topic, partition: m.partition, offset: m.offset))
                    : .failure(KafkaError(code: m.err, operation: "deliver to \(topic)"))
                if let completion = table.complete(id, with: outcome) { completions.append(completion) }
            }
        }
        for completion in completions {
            switch completion {
            case .resume(let waiter, let outcome): waiter.resume(returning: outcome)
            case .group(let group, let outcome): group.record(outcome)
            }
        }
    }
}

/// The awaitable acknowledgement of one record handed to a ``KafkaProducer``.
public struct KafkaDeliveryReceipt: Sendable {
    let producer: KafkaProducer
    let id: UInt

    /// Waits until the broker acknowledged the record (or librdkafka gave up on it).
    public func acknowledgement() async throws(KafkaError) -> KafkaRecordMetadata {
        try await producer.awaitDelivery(id).get()
    }
}

/// Calls `body` with a pointer to `bytes` (nil for nil) and its length.
/// An empty array is passed as a non-null pointer, so it stays an empty value, not a null.
func withBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    if bytes.isEmpty { return withUnsafeBytes(of: UInt8(0)) { body($0.baseAddress, 0) } }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}
