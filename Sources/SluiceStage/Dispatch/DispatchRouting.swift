import Foundation
import SluiceCore
import SluiceKafka

/// Where dispatch writes each outcome: the records to produce for one attempt (or one
/// delivery refused without an attempt), all keyed by endpoint id.
///
/// Invariant: every handled delivery produces at least one record (an attempt, a retry,
/// a dead letter or a deferral), so offsets never pass a delivery without a trace.
struct DispatchRouting: Sendable {
    let prefix: String

    func topic(_ name: String) -> String { prefix + name }

    func attempt(_ attempt: Attempt) throws -> KafkaProducerRecord {
        try KafkaProducerRecord(topic: topic("attempts"), key: attempt.endpointID, wire: attempt)
    }

    func retry(_ delivery: Delivery, tier: RetryTier) throws -> KafkaProducerRecord {
        try KafkaProducerRecord(topic: topic(tier.topicSuffix), key: delivery.endpointID, wire: delivery)
    }

    func deadLetter(_ dead: DeadLetter) throws -> KafkaProducerRecord {
        try KafkaProducerRecord(topic: topic("dlq"), key: dead.delivery.endpointID, wire: dead)
    }

    func endpoint(_ endpoint: Endpoint) throws -> KafkaProducerRecord {
        try KafkaProducerRecord(topic: topic("endpoints"), key: endpoint.id, wire: endpoint)
    }

    /// An operational event (`sluice.ops`) about `endpoint`.
    func ops(kind: String, endpoint: Endpoint, detail: String, at: Date) -> KafkaProducerRecord {
        OpsEvent.record(topic: topic("ops"), kind: kind, endpointID: endpoint.id, tenant: endpoint.tenant, detail: detail, at: at)
    }

    func rejected(_ record: KafkaRecord, reason: String) -> KafkaProducerRecord {
        Rejection.record(of: record, topic: topic("rejected"), code: "bad_delivery", detail: reason)
    }
}
