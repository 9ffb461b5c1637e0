import Foundation

/// The fast path of `sluice.attempts`: dispatch writes one record per request, and the
/// admin store reads every one.
extension Attempt {
    public static func flatRecord(_ object: FlatJSONObject) -> Attempt? {
        guard object.hasOnly(knownKeys),
            let eventID = object.text("event_id"), let endpointID = object.text("endpoint_id"),
            let tenant = object.text("tenant"), let attempt = object.integer("attempt"), let at = object.milliseconds("at"),
            let latencyMs = object.number("latency_ms"),
            let errorClass = object.text("error_class").flatMap(ErrorClass.init(rawValue:)),
            let outcome = object.text("outcome").flatMap(Outcome.init(rawValue:)),
            case .some(let status) = object.optional("status", object.integer),
            case .some(let error) = object.optional("error", object.text),
            case .some(let responseExcerpt) = object.optional("response_excerpt", object.text),
            case .some(let replayID) = object.optional("replay_id", object.text),
            case .some(let nextAttemptAt) = object.optional("next_attempt_at", object.milliseconds)
        else { return nil }
        var record = Attempt(
            eventID: eventID, endpointID: endpointID, tenant: tenant, attempt: attempt, at: at, status: status,
            latencyMs: latencyMs, errorClass: errorClass, outcome: outcome)
        record.error = error
        record.responseExcerpt = responseExcerpt
        record.replayID = replayID
        record.nextAttemptAt = nextAttemptAt
        return record
    }

    public func flatWireBytes() -> [UInt8]? {
        guard extra.isEmpty else { return nil }
        var json = JSONBytesWriter(capacity: 320 + (error?.utf8.count ?? 0) + (responseExcerpt?.utf8.count ?? 0))
        json.member("at", milliseconds: at)
        json.member("attempt", attempt)
        json.member("endpoint_id", endpointID)
        if let error { json.member("error", error) }
        json.member("error_class", errorClass.rawValue)
        json.member("event_id", eventID)
        json.member("latency_ms", latencyMs)
        if let nextAttemptAt { json.member("next_attempt_at", milliseconds: nextAttemptAt) }
        json.member("outcome", outcome.rawValue)
        if let replayID { json.member("replay_id", replayID) }
        if let responseExcerpt { json.member("response_excerpt", responseExcerpt) }
        if let status { json.member("status", status) }
        json.member("tenant", tenant)
        json.member("v", Self.version)
        return json.finish()
    }

    private init(
        eventID: String, endpointID: String, tenant: String, attempt: Int, at: Date, status: Int?, latencyMs: Double,
        errorClass: ErrorClass, outcome: Outcome
    ) {
        self.eventID = eventID
        self.endpointID = endpointID
        self.tenant = tenant
        self.attempt = attempt
        self.at = at
        self.status = status
        self.latencyMs = latencyMs
        self.errorClass = errorClass
        self.outcome = outcome
    }
}
