import Foundation

/// Which dead letters an operator means: by endpoint, tenant, event type, event id and
/// the time they were parked (the record's timestamp), as `sluice dlq list|inspect|replay`
/// take them.
///
/// Invariant: an empty filter matches every dead letter; `since` is inclusive and `until`
/// exclusive.
///
/// ```swift
/// let filter = DeadLetterFilter(endpointID: "ep_1", since: yesterday)
/// filter.matches(dead, parkedAt: recordTime)
/// ```
public struct DeadLetterFilter: Sendable, Equatable {
    public var endpointID: String?
    public var tenant: String?
    /// An exact type or a pattern as endpoint filters take them (`order.*`).
    public var eventType: String?
    public var eventID: String?
    public var since: Date?
    public var until: Date?

    public init(endpointID: String? = nil, tenant: String? = nil, eventType: String? = nil, eventID: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.endpointID = endpointID
        self.tenant = tenant
        self.eventType = eventType
        self.eventID = eventID
        self.since = since
        self.until = until
    }

    /// Whether `dead`, parked at `parkedAt` (its record's timestamp; `deadAt` when unknown), is meant.
    public func matches(_ dead: DeadLetter, parkedAt: Date?) -> Bool {
        let delivery = dead.delivery
        if let endpointID, delivery.endpointID != endpointID { return false }
        if let tenant, delivery.tenant != tenant { return false }
        if let eventID, delivery.eventID != eventID { return false }
        if let eventType, !((try? EventTypeFilter(parsing: eventType))?.matches(delivery.eventType) ?? (eventType == delivery.eventType)) {
            return false
        }
        let at = parkedAt ?? dead.deadAt
        if let since, at < since { return false }
        if let until, at >= until { return false }
        return true
    }
}
