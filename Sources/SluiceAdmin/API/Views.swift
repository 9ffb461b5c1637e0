import Foundation
import SluiceCore

/// How domain records appear in the API (the generated schemas): never a sealed secret.
extension Components.Schemas.Endpoint {
    init(_ e: Endpoint) {
        self.init(
            id: e.id, tenant: e.tenant, url: e.url, types: e.filter.patterns, enabled: e.enabled, disabledReason: e.disabledReason,
            description: e.note, headers: .init(additionalProperties: e.headers), timeoutMs: e.timeoutMs, schedule: e.schedule,
            rateLimit: e.rateLimit, concurrency: e.concurrency, revision: e.revision, createdAt: e.createdAt, updatedAt: e.updatedAt)
    }
}

extension Components.Schemas.Attempt {
    init(_ stored: StoredAttempt) {
        let a = stored.attempt
        self.init(
            id: stored.id, eventId: a.eventID, endpointId: a.endpointID, tenant: a.tenant, attempt: a.attempt, at: a.at, status: a.status,
            latencyMs: a.latencyMs, errorClass: a.errorClass.rawValue, error: a.error, responseExcerpt: a.responseExcerpt,
            outcome: .init(rawValue: a.outcome.rawValue) ?? .dropped, replayId: a.replayID, nextAttemptAt: a.nextAttemptAt)
    }
}
