import Foundation

/// One event on its way to one endpoint: the record of `sluice.deliveries`, the retry
/// tiers and (inside a ``DeadLetter``) the DLQ, keyed by endpoint id.
///
/// Invariant: `eventID` (the `webhook-id`) and `body` never change across attempts,
/// retries, replays and duplicates; `attempt` is the number of the next attempt (1 for
/// the first) and never exceeds the schedule's length.
///
/// ```swift
/// let delivery = Delivery(event: event, endpointID: "ep_1", now: Date())
/// let bytes = try delivery.wireBytes()     // header sluice-format: delivery/1
/// ```
public struct Delivery: WireRecord, Equatable {
    public static let kind = "delivery"
    public static let version = 1
    public static let knownKeys: Set<String> = [
        "event_id", "endpoint_id", "tenant", "event_type", "attempt", "first_attempt_at", "not_before", "replay_id",
        "body", "created_at", "history", "passes",
    ]

    public var eventID: String
    public var endpointID: String
    public var tenant: String
    public var eventType: String
    public var attempt: Int
    /// When the first attempt was made; nil until then.
    public var firstAttemptAt: Date?
    /// Not to be attempted before this time.
    public var notBefore: Date
    /// Set when an operator replayed this delivery from the DLQ.
    public var replayID: String?
    /// The webhook body: the event in CloudEvents structured JSON.
    public var body: [UInt8]
    /// When fanout created the delivery (or a replay re-created it): the maximum age
    /// counts from here, on every path (attempts and deferrals alike).
    public var createdAt: Date
    /// How many times dispatch wrote it to a retry tier (retries and deferrals): what
    /// bounds its recirculation (``RetryPolicy``) and what `sluice_dispatch_tier_passes`
    /// measures.
    public var passes = 0
    /// The attempts made so far, oldest first (what a dead letter summarises).
    public var history: [DeadLetter.AttemptSummary] = []
    public var extra: [String: JSONValue] = [:]

    public init(event: Event, endpointID: String, now: Date) {
        self.eventID = event.id
        self.endpointID = endpointID
        self.tenant = event.tenant
        self.eventType = event.type
        self.attempt = 1
        self.notBefore = now
        self.body = event.body
        self.createdAt = now
    }

    enum CodingKeys: String, CodingKey {
        case tenant, attempt, body
        case eventID = "event_id", endpointID = "endpoint_id", eventType = "event_type"
        case firstAttemptAt = "first_attempt_at", notBefore = "not_before", replayID = "replay_id"
        case createdAt = "created_at", history, passes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        eventID = try c.decode(String.self, forKey: .eventID)
        endpointID = try c.decode(String.self, forKey: .endpointID)
        tenant = try c.decode(String.self, forKey: .tenant)
        eventType = try c.decode(String.self, forKey: .eventType)
        attempt = try c.decode(Int.self, forKey: .attempt)
        firstAttemptAt = try c.decodeIfPresent(Date.self, forKey: .firstAttemptAt)
        notBefore = try c.decode(Date.self, forKey: .notBefore)
        replayID = try c.decodeIfPresent(String.self, forKey: .replayID)
        body = Array(try c.decode(String.self, forKey: .body).utf8)
        createdAt = try c.decode(Date.self, forKey: .createdAt)
        history = try c.decodeIfPresent([DeadLetter.AttemptSummary].self, forKey: .history) ?? []
        passes = try c.decodeIfPresent(Int.self, forKey: .passes) ?? 0
    }

    /// Times in the window, ids bounded, `attempt` within ``WireCheck/attempts``, the body
    /// and the history bounded.
    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try check.id(eventID, "event_id")
        try check.id(endpointID, "endpoint_id")
        try check.id(tenant, "tenant")
        try check.id(eventType, "event_type")
        if let replayID { try check.id(replayID, "replay_id") }
        try check.number(attempt, "attempt", in: WireCheck.attempts)
        try check.number(passes, "passes", in: 0...100_000)
        if let firstAttemptAt { try check.time(firstAttemptAt, "first_attempt_at") }
        try check.time(notBefore, "not_before")
        try check.time(createdAt, "created_at")
        guard body.count <= WireCheck.maxBodyBytes else { throw check.fail("body", "larger than \(WireCheck.maxBodyBytes) bytes") }
        try check.count(history.count, "history", max: WireCheck.attempts.upperBound)
        for summary in history { try summary.validate(check) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(endpointID, forKey: .endpointID)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(eventType, forKey: .eventType)
        try c.encode(attempt, forKey: .attempt)
        try c.encodeIfPresent(firstAttemptAt, forKey: .firstAttemptAt)
        try c.encode(notBefore, forKey: .notBefore)
        try c.encodeIfPresent(replayID, forKey: .replayID)
        // Event bodies are JSON text, so they travel as a string: exact bytes, readable.
        try c.encode(String(decoding: body, as: UTF8.self), forKey: .body)
        try c.encode(createdAt, forKey: .createdAt)
        if !history.isEmpty { try c.encode(history, forKey: .history) }
        if passes > 0 { try c.encode(passes, forKey: .passes) }
    }
}
