import Foundation
import SluiceCore
import SluiceKafka

/// The record of `sluice.deliveries` that carries one ``Delivery``: keyed by endpoint id,
/// with the `sluice-format`, `sluice-tenant` and `sluice-event-id` headers. Fanout and every
/// replay (dead letters, history) write deliveries through it, so they look alike to
/// dispatch.
///
/// Invariant: the value is at most ``maxBytes`` (librdkafka's default `message.max.bytes`
/// is 1,000,000, headers included); a larger delivery is refused, never truncated.
///
/// ```swift
/// let record = try DeliveryRecord.make(delivery, topic: "sluice.deliveries")
/// ```
public enum DeliveryRecord {
    /// The largest delivery record written.
    public static let maxBytes = 900_000

    /// Why a delivery cannot become a record.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case unencodable(String)
        case oversize(bytes: Int)

        public var description: String {
            switch self {
            case .unencodable(let why): return "cannot make a delivery of it: \(why)"
            case .oversize(let bytes): return "its delivery takes \(bytes) bytes, more than the \(DeliveryRecord.maxBytes) a record may"
            }
        }
    }

    public static func make(_ delivery: Delivery, topic: String) throws(Failure) -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic, key: Array(delivery.endpointID.utf8), value: try value(of: delivery),
            headers: headers(tenant: delivery.tenant, eventID: delivery.eventID))
    }

    /// The headers of a delivery record: its format, tenant and event id.
    private static func headers(tenant: String, eventID: String) -> [KafkaHeader] {
        [KafkaHeader(WireFormat.header, Delivery.formatHeader), KafkaHeader("sluice-tenant", tenant), KafkaHeader("sluice-event-id", eventID)]
    }

    /// `value` if it is at most ``maxBytes``.
    private static func checked(_ value: [UInt8]) throws(Failure) -> [UInt8] {
        // The body travels JSON-escaped: an event under the limit can still make a
        // delivery over what the broker takes.
        guard value.count <= maxBytes else { throw .oversize(bytes: value.count) }
        return value
    }

    /// The records of `event`'s new deliveries to `endpoints`, in order: what ``make(_:topic:)``
    /// gives for each, with the shared parts encoded once.
    public static func make(_ event: Event, to endpoints: [Endpoint], now: Date, topic: String) throws(Failure) -> [KafkaProducerRecord] {
        let values: [[UInt8]]
        do { values = try Delivery.wireBytes(of: event, to: endpoints.map(\.id), now: now) } catch { throw .unencodable("\(error)") }
        let headers = headers(tenant: event.tenant, eventID: event.id)
        var records: [KafkaProducerRecord] = []
        records.reserveCapacity(values.count)
        for (endpoint, value) in zip(endpoints, values) {
            records.append(KafkaProducerRecord(topic: topic, key: Array(endpoint.id.utf8), value: try checked(value), headers: headers))
        }
        return records
    }

    /// The record's value: the delivery in its wire form, checked against ``maxBytes``.
    public static func value(of delivery: Delivery) throws(Failure) -> [UInt8] {
        let value: [UInt8]
        do { value = try delivery.wireBytes() } catch { throw .unencodable("\(error)") }
        return try checked(value)
    }
}
