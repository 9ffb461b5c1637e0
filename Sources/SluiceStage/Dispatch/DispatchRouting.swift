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
        KafkaProducerRecord(
            topic: topic("attempts"), key: Array(attempt.endpointID.utf8), value: try attempt.wireBytes(),
            headers: [KafkaHeader(WireFormat.header, Attempt.formatHeader)])
    }

    func retry(_ delivery: Delivery, tier: RetryTier) throws -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic(tier.topicSuffix), key: Array(delivery.endpointID.utf8), value: try delivery.wireBytes(),
            headers: [KafkaHeader(WireFormat.header, Delivery.formatHeader)])
    }

    func deadLetter(_ dead: DeadLetter) throws -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic("dlq"), key: Array(dead.delivery.endpointID.utf8), value: try dead.wireBytes(),
            headers: [KafkaHeader(WireFormat.header, DeadLetter.formatHeader)])
    }

    func endpoint(_ endpoint: Endpoint) throws -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic("endpoints"), key: Array(endpoint.id.utf8), value: try endpoint.wireBytes(),
            headers: [KafkaHeader(WireFormat.header, Endpoint.formatHeader)])
    }

    /// An operational event (`sluice.ops`) about `endpoint`.
    func ops(kind: String, endpoint: Endpoint, detail: String, at: Date) -> KafkaProducerRecord {
        OpsEvent.record(topic: topic("ops"), kind: kind, endpointID: endpoint.id, tenant: endpoint.tenant, detail: detail, at: at)
    }

    func rejected(_ record: KafkaRecord, reason: String) -> KafkaProducerRecord {
        Rejection.record(of: record, topic: topic("rejected"), code: "bad_delivery", detail: reason)
    }
}
