import Foundation
import SluiceCore

/// Where an event is kept and what identifies it, as the store indexes it: the payload
/// stays on its topic and is fetched from there by these coordinates when asked.
///
/// Events fanned out by fanout are indexed from `sluice.events`; a test send (which
/// reaches one endpoint, not fanout) is indexed from the `endpoint_test` ops event the
/// admin writes after it, pointing at the delivery record in `sluice.deliveries`.
///
/// Invariant: (topic, partition, offset) is unique; `endpointID` is set exactly for an
/// event meant for one endpoint (a test send).
///
/// ```swift
/// let event = StoredEvent(topic: "sluice.events", partition: 3, offset: 42, eventID: "evt_1", tenant: "acme", eventType: "order.created", at: Date())
/// ```
public struct StoredEvent: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var eventID: String
    public var tenant: String
    public var eventType: String
    /// The one endpoint a test send was for; nil for a fanned-out event.
    public var endpointID: String?
    /// When the broker stored it.
    public var at: Date

    public init(topic: String, partition: Int32, offset: Int64, eventID: String, tenant: String, eventType: String, endpointID: String? = nil, at: Date) {
        (self.topic, self.partition, self.offset, self.eventID, self.tenant) = (topic, partition, offset, eventID, tenant)
        (self.eventType, self.endpointID, self.at) = (eventType, endpointID, at)
    }
}

/// The `endpoint_test` ops event the admin writes after a test send, naming the event and
/// where its delivery record is (so a rebuilt store finds it again).
///
/// ```swift
/// let fields = TestSendNote.fields(eventID: "test_1", eventType: "sluice.test", topic: "sluice.deliveries", partition: 4, offset: 9)
/// ```
public enum TestSendNote {
    public static let kind = "endpoint_test"

    struct Wire: Decodable {
        var kind: String
        var endpoint_id: String
        var tenant: String
        var at: Double
        var event_id: String
        var event_type: String
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    /// The extra fields of the ops record.
    public static func fields(eventID: String, eventType: String, topic: String, partition: Int32, offset: Int64) -> [String: JSONValue] {
        [
            "event_id": .string(eventID), "event_type": .string(eventType), "topic": .string(topic),
            "partition": .number(Double(partition)), "offset": .number(Double(offset)),
        ]
    }

    /// The event a test-send note points at; nil for any other ops record (or a note
    /// whose fields are out of range).
    static func event(in bytes: [UInt8]) -> StoredEvent? {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(bytes)), wire.kind == kind, wire.partition >= 0, wire.offset >= 0,
            wire.at.isFinite
        else { return nil }
        let check = WireCheck(kind: "ops")
        do throws(WireError) {
            try check.id(wire.event_id, "event_id")
            try check.id(wire.event_type, "event_type")
            try check.id(wire.topic, "topic")
        } catch { return nil }
        return StoredEvent(
            topic: wire.topic, partition: wire.partition, offset: wire.offset, eventID: wire.event_id, tenant: wire.tenant,
            eventType: wire.event_type, endpointID: wire.endpoint_id, at: Date(timeIntervalSince1970: wire.at / 1000))
    }
}
