import CRdKafka
import SluiceCore
import Foundation

/// Owns one `rd_kafka_t` and destroys it exactly once.
///
/// Thread safety: librdkafka handles are thread-safe for the calls Sluice makes; the
/// callers serialise polling of a queue themselves.
final class RdKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates a client of `type` with `properties`, with the event types in `events`
    /// delivered to its main queue (Sluice drains queues; it sets no C callbacks).
    init(type: rd_kafka_type_t, properties: [String: String], events: Int32) throws(KafkaError) {
        let conf = rd_kafka_conf_new()!
        var errbuf = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(
                    kind: .configuration, message: "\(key)=\(value): \(String(errorBuffer: errbuf))",
                    operation: "configure the Kafka client")
            }
        }
        // librdkafka's own log lines go to the client's main queue as events (no
        // callback); whoever drains that queue passes them to swift-log.
        _ = rd_kafka_conf_set(conf, "log.queue", "true", &errbuf, errbuf.count)
        rd_kafka_conf_set_events(conf, events | Int32(RD_KAFKA_EVENT_LOG))
        guard let rk = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
            // rd_kafka_new only takes ownership of conf on success.
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                kind: .configuration, message: String(errorBuffer: errbuf), operation: "create the Kafka client")
        }
        pointer = rk
        KafkaExitGuard.install()
        _ = rd_kafka_set_log_queue(rk, nil)
    }

    deinit { rd_kafka_destroy(pointer) }

    /// The client's name as librdkafka reports it (client.id plus a serial).
    var name: String { String(cString: rd_kafka_name(pointer)) }

    /// The broker's low and high watermark of `tp` (two ListOffsets requests, at this
    /// client's `isolation.level`), on the caller's thread.
    func watermarks(_ tp: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var (low, high): (Int64, Int64) = (0, 0)
        try KafkaError.check(
            rd_kafka_query_watermark_offsets(pointer, tp.topic, tp.partition, &low, &high, timeout.milliseconds), "read the watermarks of \(tp)")
        return (low, high)
    }

    /// ``watermarks(_:timeout:)``'s high watermark of each of `partitions`, one after another.
    func highWatermarks(_ partitions: [TopicPartition], timeout: Duration) throws(KafkaError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for tp in partitions { result[tp] = try watermarks(tp, timeout: timeout).high }
        return result
    }
}

/// Runs blocking librdkafka calls on threads outside Swift's cooperative pool.
enum Blocking {
    private static let queue = DispatchQueue(
        label: "sluice.kafka.blocking", qos: .userInitiated, attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        try await OffPool.run(on: queue, body)
    }
}
