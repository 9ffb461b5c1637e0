import Foundation
import SluiceCore
import SluiceKafka

/// A record of `sluice.ops`: an operational event about one endpoint (circuit opened or
/// closed, endpoint disabled, dead letters parked), JSON with `kind`, `endpoint_id`,
/// `tenant`, `detail`, `at` (unix ms) and any extra `fields`, keyed by endpoint id.
///
/// ```swift
/// let record = OpsEvent.record(topic: "sluice.ops", kind: "circuit_opened", endpointID: "ep_1", tenant: "acme", detail: "5 failures", at: Date())
/// ```
public enum OpsEvent {
    public static let formatHeader = "ops/1"

    public static func record(
        topic: String, kind: String, endpointID: String, tenant: String, detail: String, at: Date, fields: [String: JSONValue] = [:]
    ) -> KafkaProducerRecord {
        var object: [String: JSONValue] = [
            "kind": .string(kind), "endpoint_id": .string(endpointID), "tenant": .string(tenant),
            "detail": .string(detail), "at": .number((at.timeIntervalSince1970 * 1000).rounded()),
        ]
        object.merge(fields) { current, _ in current }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return KafkaProducerRecord(
            topic: topic, key: Array(endpointID.utf8), value: Array((try? encoder.encode(object)) ?? Data()),
            headers: [KafkaHeader(WireFormat.header, formatHeader)])
    }
}
