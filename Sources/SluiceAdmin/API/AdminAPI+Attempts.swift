import Foundation
import SluiceCore

/// `GET /v1/attempts`: the delivery log from the query store, newest first.
extension AdminAPI {
    func listAttempts(_ input: Operations.ListAttempts.Input) async throws -> Operations.ListAttempts.Output {
        let scope = try AccessScope.required()
        let query = input.query
        let request = try PageRequest(limit: query.limit, iterator: query.iterator)
        try Self.checkWindow(since: query.since, until: query.until)
        let filter = AttemptFilter(
            endpointID: query.endpointId, eventID: query.eventId, tenant: query.tenant, outcome: query.outcome.flatMap { Attempt.Outcome(rawValue: $0.rawValue) },
            statusClass: query.statusClass.flatMap { StatusClass(rawValue: $0.rawValue) }, since: query.since, until: query.until)
        let page = try await storeCall { try await deps.store.attempts(scope: scope, filter: filter, page: request) }
        return .ok(.init(body: .json(.init(data: page.items.map { .init($0) }, iterator: page.iterator, done: page.done))))
    }
}
