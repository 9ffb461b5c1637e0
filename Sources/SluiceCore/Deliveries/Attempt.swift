import Foundation

/// One HTTP attempt (or one refused without a request), as recorded in `sluice.attempts`.
///
/// Invariant: `status` is set exactly when a response arrived (`errorClass` is then
/// `.none` for 2xx or `.httpStatus`); `responseExcerpt` is at most a few KiB.
///
/// ```swift
/// let attempt = Attempt(delivery: d, at: start, status: 200, latencyMs: 12, errorClass: .none, outcome: .delivered)
/// ```
public struct Attempt: WireRecord, Equatable {
    public static let kind = "attempt"
    public static let version = 1
    public static let knownKeys: Set<String> = [
        "event_id", "endpoint_id", "tenant", "attempt", "at", "status", "latency_ms", "error_class", "error",
        "response_excerpt", "outcome", "replay_id", "next_attempt_at",
    ]

    /// What went wrong, coarse enough to count and alert on.
    public enum ErrorClass: String, Codable, Sendable, CaseIterable {
        case none, timeout, connect, dns, tls, reset, httpStatus = "http_status", redirect
        case refusedDestination = "refused_destination", endpointDeleted = "endpoint_deleted", other
    }

    /// What Sluice did with the delivery after this attempt.
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        case delivered, retrying, deadLettered = "dead_lettered", endpointDisabled = "endpoint_disabled", dropped
    }

    public var eventID: String
    public var endpointID: String
    public var tenant: String
    public var attempt: Int
    public var at: Date
    public var status: Int?
    public var latencyMs: Double
    public var errorClass: ErrorClass
    public var error: String?
    public var responseExcerpt: String?
    public var outcome: Outcome
    public var replayID: String?
    /// When `outcome` is `retrying`: when the next attempt is due (the delivery's `not_before`).
    public var nextAttemptAt: Date?
    public var extra: [String: JSONValue] = [:]

    public init(
        delivery: Delivery, at: Date, status: Int?, latencyMs: Double, errorClass: ErrorClass, error: String? = nil,
        responseExcerpt: String? = nil, outcome: Outcome
    ) {
        self.eventID = delivery.eventID
        self.endpointID = delivery.endpointID
        self.tenant = delivery.tenant
        self.attempt = delivery.attempt
        self.at = at
        self.status = status
        self.latencyMs = latencyMs
        self.errorClass = errorClass
        self.error = error?.truncated(toBytes: WireCheck.maxTextBytes)
        self.responseExcerpt = responseExcerpt?.truncated(toBytes: WireCheck.maxTextBytes)
        self.outcome = outcome
        self.replayID = delivery.replayID
    }

    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try check.id(eventID, "event_id")
        try check.id(endpointID, "endpoint_id")
        try check.id(tenant, "tenant")
        if let replayID { try check.id(replayID, "replay_id") }
        try check.number(attempt, "attempt", in: WireCheck.attempts)
        try check.time(at, "at")
        if let nextAttemptAt { try check.time(nextAttemptAt, "next_attempt_at") }
        try check.status(status, "status")
        try check.number(latencyMs, "latency_ms", in: 0...86_400_000)
        if let error { try check.text(error, "error") }
        if let responseExcerpt { try check.text(responseExcerpt, "response_excerpt") }
    }

    enum CodingKeys: String, CodingKey {
        case tenant, attempt, at, status, error, outcome
        case eventID = "event_id", endpointID = "endpoint_id", latencyMs = "latency_ms", errorClass = "error_class"
        case responseExcerpt = "response_excerpt", replayID = "replay_id", nextAttemptAt = "next_attempt_at"
    }
}
