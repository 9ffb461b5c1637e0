import Foundation
import SluiceCore
import SluiceKafka

/// The events one endpoint already answered 2xx to, from the attempts of `sluice.attempts`
/// recorded since a time: what `sluice events replay --only-missing` leaves out.
///
/// Invariant: an event counts as delivered only when an attempt with outcome `delivered`
/// for that endpoint was committed; unreadable attempt records are counted, never thrown.
///
/// ```swift
/// let delivered = try await DeliveredEvents(topic: "sluice.attempts", reader: reader).read(endpointID: "ep_1", since: start)
/// delivered.eventIDs.contains("evt-1")
/// ```
public struct DeliveredEvents: Sendable {
    /// What one read found.
    public struct Found: Sendable {
        public var eventIDs: Set<String> = []
        public var read = 0
        public var unreadable = 0
    }

    public let topic: String
    public let reader: KafkaTopicReader

    public init(topic: String, reader: KafkaTopicReader) {
        self.topic = topic
        self.reader = reader
    }

    /// The events `endpointID` got a 2xx for, in attempts recorded at or after `since` (an
    /// event's attempts are never recorded before it was published).
    public func read(endpointID: String, since: Date) async throws -> Found {
        let reader = EventHistory.patient(self.reader)
        let start = try await reader.offsets(atOrAfter: since, topic: topic)
        var found = Found()
        try await reader.readToEnd(topic: topic, from: start) { record in
            found.read += 1
            // Attempts are keyed by endpoint id: skip other endpoints' before decoding.
            guard record.key.map({ $0.elementsEqual(endpointID.utf8) }) ?? true else { return }
            guard let value = record.value, let attempt = try? Attempt(wireBytes: value) else {
                found.unreadable += 1
                return
            }
            if attempt.endpointID == endpointID, attempt.outcome == .delivered { found.eventIDs.insert(attempt.eventID) }
        }
        return found
    }
}
