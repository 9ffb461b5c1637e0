import Foundation
import SluiceCore
import SluiceKafka

/// The pure part of fanout: one record of `sluice.events` in, the records to produce out.
///
/// A valid event gives one delivery per enabled endpoint of its tenant whose filter
/// takes its type, keyed by endpoint id; an invalid one gives one record for
/// `sluice.rejected`: the original key, value and headers plus reason headers.
///
/// Invariant: never throws; every input gives deliveries, a rejection, or (no endpoint
/// matched) nothing, and says which.
public struct FanoutTransform: Sendable {
    /// What became of one event.
    public enum Result: Sendable {
        case deliveries([KafkaProducerRecord])
        case rejected(KafkaProducerRecord, EventRejection)
        case unmatched
    }

    /// The largest delivery record written (librdkafka's default `message.max.bytes` is
    /// 1,000,000, headers included).
    public static let maxDeliveryBytes = 900_000

    public static let reasonHeader = Rejection.reasonHeader
    public static let detailHeader = Rejection.detailHeader

    public var decoder: EventDecoder
    public var deliveriesTopic: String
    public var rejectedTopic: String

    public init(decoder: EventDecoder, deliveriesTopic: String, rejectedTopic: String) {
        self.decoder = decoder
        self.deliveriesTopic = deliveriesTopic
        self.rejectedTopic = rejectedTopic
    }

    public func transform(_ record: KafkaRecord, registry: EndpointRegistry, now: Date) -> Result {
        var headers: [String: [UInt8]] = [:]
        for header in record.headers { headers[header.key] = header.value ?? [] }
        switch decoder.decode(key: record.key, value: record.value, headers: headers) {
        case .failure(let rejection):
            return .rejected(rejected(record, rejection), rejection)
        case .success(let event):
            let endpoints = registry.endpoints(tenant: event.tenant, type: event.type)
            guard !endpoints.isEmpty else { return .unmatched }
            var out: [KafkaProducerRecord] = []
            for endpoint in endpoints {
                let delivery = Delivery(event: event, endpointID: endpoint.id, now: now)
                let value: [UInt8]
                do { value = try delivery.wireBytes() } catch {
                    let rejection = EventRejection.unparseable("cannot make a delivery of it: \(error)")
                    return .rejected(rejected(record, rejection), rejection)
                }
                // The body travels JSON-escaped: an event under the limit can still make a
                // delivery over what the broker takes.
                guard value.count <= Self.maxDeliveryBytes else {
                    let rejection = EventRejection.oversize(bytes: value.count, limit: Self.maxDeliveryBytes)
                    return .rejected(rejected(record, rejection), rejection)
                }
                out.append(
                    KafkaProducerRecord(
                        topic: deliveriesTopic, key: Array(endpoint.id.utf8), value: value,
                        headers: [
                            KafkaHeader(WireFormat.header, Delivery.formatHeader), KafkaHeader("sluice-tenant", event.tenant),
                            KafkaHeader("sluice-event-id", event.id),
                        ]))
            }
            return .deliveries(out)
        }
    }

    private func rejected(_ record: KafkaRecord, _ rejection: EventRejection) -> KafkaProducerRecord {
        Rejection.record(of: record, topic: rejectedTopic, code: rejection.code, detail: rejection.description)
    }
}
