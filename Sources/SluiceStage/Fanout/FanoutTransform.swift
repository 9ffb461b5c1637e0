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
    public static let maxDeliveryBytes = DeliveryRecord.maxBytes

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
        switch decoder.decode(record) {
        case .failure(let rejection):
            return .rejected(rejected(record, rejection), rejection)
        case .success(let event):
            let endpoints = registry.endpoints(tenant: event.tenant, type: event.type)
            guard !endpoints.isEmpty else { return .unmatched }
            do {
                return .deliveries(try DeliveryRecord.make(event, to: endpoints, now: now, topic: deliveriesTopic))
            } catch {
                let rejection: EventRejection
                switch error {
                case .unencodable(let why): rejection = .unparseable("cannot make a delivery of it: \(why)")
                case .oversize(let bytes): rejection = .oversize(bytes: bytes, limit: Self.maxDeliveryBytes)
                }
                return .rejected(rejected(record, rejection), rejection)
            }
        }
    }

    private func rejected(_ record: KafkaRecord, _ rejection: EventRejection) -> KafkaProducerRecord {
        Rejection.record(of: record, topic: rejectedTopic, code: rejection.code, detail: rejection.description)
    }
}
