import Foundation
import SluiceCore

/// The admin API's writes and composite reads as plain Swift calls, for modules that serve
/// people rather than programs (the dashboard): each call runs the API's own handler in the
/// given ``AccessScope``, with its checks, writer and problems (``APIProblem``).
///
/// Invariant: there is no second implementation of an action: what a dashboard button
/// does is exactly what its `/v1` route does for a key of the same scope.
///
/// ```swift
/// let endpoint = try await actions.setEnabled("ep_1", false, scope: .tenant("acme"))
/// ```
public struct AdminActions: Sendable {
    let api: AdminAPI

    public init(api: AdminAPI) { self.api = api }

    /// An event as the API's `GET /v1/events/{id}` sees it.
    public struct EventDetail: Sendable {
        public var event: StoredEvent
        /// The webhook body; nil once the event's topic no longer holds it.
        public var body: [UInt8]?
        public var deliveries: [EventDeliveryState]
    }

    private func scoped<T: Sendable>(_ scope: AccessScope, _ body: () async throws -> T) async throws -> T {
        try await AccessScope.$current.withValue(scope) { try await body() }
    }

    /// The endpoint `id` in the scope; ``APIProblem`` 404 when the scope does not see it.
    public func endpoint(_ id: String, scope: AccessScope) async throws -> Endpoint {
        try await scoped(scope) { try await api.existing(id) }
    }

    /// Creates an endpoint; returns it and its secret (shown once).
    public func createEndpoint(tenant: String?, url: String, types: [String], description: String?, scope: AccessScope) async throws -> (Endpoint, String) {
        try await scoped(scope) {
            let body = Components.Schemas.EndpointCreate(url: url, types: types, description: description, tenant: tenant)
            let created = try await api.createEndpoint(.init(body: .json(body))).created.body.json
            return (try await api.existing(created.endpoint.id), created.secret)
        }
    }

    public func setEnabled(_ id: String, _ enabled: Bool, scope: AccessScope) async throws -> Endpoint {
        try await scoped(scope) {
            try await api.setEnabled(id, enabled, reason: enabled ? nil : "disabled in the dashboard")
        }
    }

    /// Rotates the endpoint's secret (the old one stays valid for `overlap`); the new secret.
    public func rotateSecret(_ id: String, overlap: String = "24h", scope: AccessScope) async throws -> String {
        try await scoped(scope) {
            let input = Operations.RotateEndpointSecret.Input(path: .init(endpointId: id), body: .json(.init(overlap: overlap)))
            return try await api.rotateEndpointSecret(input).ok.body.json.secret
        }
    }

    /// Sends a test event to the endpoint; the test event's id.
    public func sendTest(_ id: String, scope: AccessScope) async throws -> String {
        try await scoped(scope) {
            try await api.testEndpoint(.init(path: .init(endpointId: id))).accepted.body.json.eventId
        }
    }

    /// Sends the event again to one endpoint; the resend's replay id.
    public func resend(eventID: String, endpointID: String, scope: AccessScope) async throws -> String {
        try await scoped(scope) {
            let input = Operations.ResendEvent.Input(path: .init(eventId: eventID, endpointId: endpointID))
            return try await api.resendEvent(input).accepted.body.json.replayId ?? ""
        }
    }

    public func event(_ id: String, scope: AccessScope) async throws -> EventDetail {
        try await scoped(scope) {
            let (stored, payload, deliveries) = try await api.eventDetail(id)
            return EventDetail(event: stored, body: payload?.body, deliveries: deliveries)
        }
    }

    /// Starts a dead-letter replay (or its dry run) as a task, as `POST /v1/dead-letters/replay`.
    public func replayDeadLetters(
        endpointID: String?, tenant: String?, eventType: String?, eventID: String?, since: Date?, until: Date?, all: Bool, dryRun: Bool,
        scope: AccessScope
    ) async throws -> TaskBoard.Entry {
        try await scoped(scope) {
            let body = Components.Schemas.ReplayRequest(
                endpointId: endpointID, tenant: tenant, _type: eventType, eventId: eventID, since: since, until: until, dryRun: dryRun, all: all ? true : nil)
            let task = try await api.replayDeadLetters(.init(body: .json(body))).accepted.body.json
            guard let entry = api.deps.tasks.entry(task.id, scope: scope) else { throw APIProblem.internal("the replay task \(task.id) vanished") }
            return entry
        }
    }

    /// Starts a history replay of one endpoint (or its dry run) as a task, as
    /// `POST /v1/endpoints/{id}/replay`: `since` and `until` in any form the CLI takes.
    public func replayHistory(
        endpointID: String, since: String, until: String?, types: [String]?, onlyMissing: Bool, dryRun: Bool, scope: AccessScope
    ) async throws -> TaskBoard.Entry {
        try await scoped(scope) {
            let body = Components.Schemas.HistoryReplayRequest(
                since: since, until: until, types: types, onlyMissing: onlyMissing ? true : nil, dryRun: dryRun ? true : nil)
            let input = Operations.ReplayEndpointHistory.Input(path: .init(endpointId: endpointID), body: .json(body))
            let task = try await api.replayEndpointHistory(input).accepted.body.json
            guard let entry = api.deps.tasks.entry(task.id, scope: scope) else { throw APIProblem.internal("the replay task \(task.id) vanished") }
            return entry
        }
    }

    /// The task `id` if the scope sees it.
    public func task(_ id: String, scope: AccessScope) -> TaskBoard.Entry? { api.deps.tasks.entry(id, scope: scope) }

    /// Whether the store has caught up with the topics (what `/readyz` waits for).
    public var isCaughtUp: Bool { api.deps.materialiser.isCaughtUp }
}
