import Foundation
import SluiceCore

/// `GET /v1/endpoints/{id}/stats`: how the endpoint's attempts went since a time.
extension AdminAPI {
    /// Attempts counted at most (the newest).
    static let statsSample = 100_000

    func getEndpointStats(_ input: Operations.GetEndpointStats.Input) async throws -> Operations.GetEndpointStats.Output {
        let scope = try AccessScope.required()
        let endpoint = try await existing(input.path.endpointId)
        let since = input.query.since ?? Date().addingTimeInterval(-86_400)
        let attempts = try await storeCall {
            try await deps.store.endpointAttempts(endpointID: endpoint.id, scope: scope, since: since, limit: Self.statsSample)
        }
        let stats = AttemptStats(attempts)
        return .ok(.init(body: .json(.init(
            endpointId: endpoint.id, since: since, attempts: stats.count, byOutcome: .init(additionalProperties: stats.byOutcome),
            byStatusClass: .init(additionalProperties: stats.byStatusClass), successRate: stats.successRate,
            latencyMs: .init(p50: stats.p50, p95: stats.p95, p99: stats.p99)))))
    }
}
