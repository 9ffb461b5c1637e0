import Foundation
import SluiceCore

/// `GET /v1/dead-letters` and `GET /v1/ops-events`: what the operators of an endpoint need
/// to see when deliveries stop, from the query store, newest first.
extension AdminAPI {
    func listDeadLetters(_ input: Operations.ListDeadLetters.Input) async throws -> Operations.ListDeadLetters.Output {
        let scope = try AccessScope.required()
        let query = input.query
        let request = try PageRequest(limit: query.limit, iterator: query.iterator)
        try Self.checkWindow(since: query.since, until: query.until)
        var filter = AttemptFilter(endpointID: query.endpointId, eventID: query.eventId, tenant: query.tenant, since: query.since, until: query.until)
        filter.eventType = query._type
        let page = try await storeCall { try await deps.store.deadLetters(scope: scope, filter: filter, page: request) }
        return .ok(.init(body: .json(.init(data: page.items.map { .init($0) }, iterator: page.iterator, done: page.done))))
    }

    func listOpsEvents(_ input: Operations.ListOpsEvents.Input) async throws -> Operations.ListOpsEvents.Output {
        let scope = try AccessScope.required()
        let query = input.query
        let request = try PageRequest(limit: query.limit, iterator: query.iterator)
        try Self.checkWindow(since: query.since, until: query.until)
        let filter = OpsFilter(endpointID: query.endpointId, kind: query.kind, since: query.since, until: query.until)
        let page = try await storeCall { try await deps.store.opsEvents(scope: scope, filter: filter, page: request) }
        return .ok(.init(body: .json(.init(data: page.items.map { .init($0) }, iterator: page.iterator, done: page.done))))
    }

    static func checkWindow(since: Date?, until: Date?) throws {
        if let since, let until, since >= until { throw APIProblem.badRequest("since must be before until") }
    }
}

extension Components.Schemas.DeadLetter {
    init(_ d: StoredDeadLetter) {
        self.init(
            id: d.id, eventId: d.eventID, endpointId: d.endpointID, tenant: d.tenant, _type: d.eventType, reason: d.reason,
            finalError: d.finalError, attempts: d.attempts, deadAt: d.deadAt, replayId: d.replayID, partition: Int(d.partition),
            offset: d.offset)
    }
}

extension Components.Schemas.OpsEvent {
    init(_ o: StoredOpsEvent) {
        self.init(id: o.id, kind: o.kind, endpointId: o.endpointID, tenant: o.tenant, detail: o.detail, at: o.at)
    }
}
