import Foundation
import SluiceCore

/// A dead letter as the store keeps it: what identifies and explains it, and where it is in
/// `sluice.dlq` (the payload stays on the topic: it is fetched from there by coordinates).
///
/// Invariant: `id` is `dlq_<partition>_<offset>`, stable across store rebuilds.
///
/// ```swift
/// let stored = StoredDeadLetter(partition: 3, offset: 42, letter: deadLetter)
/// ```
public struct StoredDeadLetter: Sendable, Equatable {
    public var id: String { "dlq_\(partition)_\(offset)" }
    public var partition: Int32
    public var offset: Int64
    public var eventID: String
    public var endpointID: String
    public var tenant: String
    public var eventType: String
    public var reason: String
    public var finalError: String
    public var attempts: Int
    public var deadAt: Date
    public var replayID: String?

    public init(partition: Int32, offset: Int64, letter: DeadLetter) {
        self.partition = partition
        self.offset = offset
        eventID = letter.delivery.eventID
        endpointID = letter.delivery.endpointID
        tenant = letter.delivery.tenant
        eventType = letter.delivery.eventType
        reason = letter.reason
        finalError = letter.finalError
        attempts = letter.delivery.attempt
        deadAt = letter.deadAt
        replayID = letter.delivery.replayID
    }

    init(partition: Int32, offset: Int64, eventID: String, endpointID: String, tenant: String, eventType: String, reason: String,
         finalError: String, attempts: Int, deadAt: Date, replayID: String?) {
        (self.partition, self.offset, self.eventID, self.endpointID, self.tenant, self.eventType) = (partition, offset, eventID, endpointID, tenant, eventType)
        (self.reason, self.finalError, self.attempts, self.deadAt, self.replayID) = (reason, finalError, attempts, deadAt, replayID)
    }
}

/// An event of `sluice.ops` (see `OpsEvent` in SluiceStage for the writer) as the store
/// keeps it.
///
/// Invariant: decoded only through ``init(partition:offset:bytes:)``, which checks every
/// field's bounds (ids, text sizes, a time between 2000 and 2200).
///
/// ```swift
/// let event = try StoredOpsEvent(partition: 0, offset: 7, bytes: record.value ?? [])
/// ```
public struct StoredOpsEvent: Sendable, Equatable {
    public var id: String { "ops_\(partition)_\(offset)" }
    public var partition: Int32
    public var offset: Int64
    public var kind: String
    public var endpointID: String
    public var tenant: String
    public var detail: String
    public var at: Date

    private struct Wire: Decodable {
        var kind: String
        var endpoint_id: String
        var tenant: String
        var detail: String
        var at: Double
    }

    public init(partition: Int32, offset: Int64, bytes: [UInt8]) throws(WireError) {
        let check = WireCheck(kind: "ops")
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(bytes)) else {
            throw WireError(kind: "ops", problem: "not an ops event (kind, endpoint_id, tenant, detail, at)")
        }
        try check.id(wire.kind, "kind")
        try check.id(wire.endpoint_id, "endpoint_id")
        try check.id(wire.tenant, "tenant")
        try check.text(wire.detail, "detail")
        guard wire.at.isFinite else { throw WireError(kind: "ops", problem: "bad at: not a number") }
        let at = Date(timeIntervalSince1970: wire.at / 1000)
        try check.time(at, "at")
        self.init(partition: partition, offset: offset, kind: wire.kind, endpointID: wire.endpoint_id, tenant: wire.tenant, detail: wire.detail, at: at)
    }

    init(partition: Int32, offset: Int64, kind: String, endpointID: String, tenant: String, detail: String, at: Date) {
        (self.partition, self.offset, self.kind, self.endpointID, self.tenant, self.detail, self.at) = (partition, offset, kind, endpointID, tenant, detail, at)
    }
}

/// Which ops events a list shows.
public struct OpsFilter: Sendable, Equatable {
    public var endpointID: String?
    public var kind: String?
    public var since: Date?
    public var until: Date?

    public init(endpointID: String? = nil, kind: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.endpointID = endpointID
        self.kind = kind
        self.since = since
        self.until = until
    }
}
