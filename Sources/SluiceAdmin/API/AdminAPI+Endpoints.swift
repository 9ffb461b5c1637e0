import Foundation
import SluiceCore
import SluiceKafka

/// Endpoint routes: the operations of `sluice endpoints`, with the same checks
/// (``EndpointChange``, the destination policy, ``SealingKeyGuard``) and the same writer
/// (``EndpointStore``).
extension AdminAPI {
    func createEndpoint(_ input: Operations.CreateEndpoint.Input) async throws -> Operations.CreateEndpoint.Output {
        let scope = try AccessScope.required()
        guard case .json(let body) = input.body else { throw APIProblem.badRequest("send the endpoint as application/json") }
        let tenant: String
        switch scope {
        case .admin:
            guard let named = body.tenant else { throw APIProblem.unprocessable("with an admin key, name the endpoint's tenant (\"tenant\": \"acme\")") }
            tenant = named
        case .tenant(let own):
            guard body.tenant == nil || body.tenant == own else {
                throw APIProblem.unprocessable("this key creates endpoints for tenant \(own) only; leave \"tenant\" out")
            }
            tenant = own
        }
        var change = EndpointChange()
        change.url = body.url
        change.types = body.types ?? ["*"]
        change.note = body.description
        change.headers = body.headers?.additionalProperties ?? [:]
        change.timeout = body.timeout
        change.schedule = body.schedule
        change.rateLimit = body.rateLimit
        change.concurrency = body.concurrency
        let secret = try Self.secret(body.secret)
        let box = try await sealingBox()
        let id = Endpoint.newID()
        var endpoint = Endpoint(id: id, tenant: tenant, url: body.url, filter: .all, sealedSecret: box.seal(secret, endpointID: id))
        try Self.apply(change, to: &endpoint, destinations: deps.delivery.destinations)
        let stored = try await write(endpoint)
        return .created(.init(body: .json(.init(endpoint: .init(stored), secret: secret.encoded))))
    }

    func listEndpoints(_ input: Operations.ListEndpoints.Input) async throws -> Operations.ListEndpoints.Output {
        let scope = try AccessScope.required()
        let request = try PageRequest(limit: input.query.limit, iterator: input.query.iterator)
        let page = try await storeCall { try await deps.store.endpoints(scope: scope, tenant: input.query.tenant, page: request) }
        return .ok(.init(body: .json(.init(data: page.items.map { .init($0) }, iterator: page.iterator, done: page.done))))
    }

    func getEndpoint(_ input: Operations.GetEndpoint.Input) async throws -> Operations.GetEndpoint.Output {
        .ok(.init(body: .json(.init(try await existing(input.path.endpointId)))))
    }

    func updateEndpoint(_ input: Operations.UpdateEndpoint.Input) async throws -> Operations.UpdateEndpoint.Output {
        guard case .json(let body) = input.body else { throw APIProblem.badRequest("send the change as application/json") }
        var endpoint = try await existing(input.path.endpointId)
        var change = EndpointChange()
        change.url = body.url
        change.types = body.types
        change.note = body.description
        for (name, value) in body.headers?.additionalProperties ?? [:] {
            if value.isEmpty { change.removedHeaders.append(name) } else { change.headers[name] = value }
        }
        change.timeout = body.timeout
        change.schedule = body.schedule
        change.rateLimit = body.rateLimit
        change.concurrency = body.concurrency
        try Self.apply(change, to: &endpoint, destinations: deps.delivery.destinations)
        endpoint.revision += 1
        return .ok(.init(body: .json(.init(try await write(endpoint)))))
    }

    func deleteEndpoint(_ input: Operations.DeleteEndpoint.Input) async throws -> Operations.DeleteEndpoint.Output {
        let endpoint = try await existing(input.path.endpointId)
        let at = try await kafka { try await deps.endpoints.delete(id: endpoint.id) }
        try await deps.materialiser.waitUntilApplied(at)
        return .noContent(.init())
    }

    func enableEndpoint(_ input: Operations.EnableEndpoint.Input) async throws -> Operations.EnableEndpoint.Output {
        .ok(.init(body: .json(.init(try await setEnabled(input.path.endpointId, true, reason: nil)))))
    }

    func disableEndpoint(_ input: Operations.DisableEndpoint.Input) async throws -> Operations.DisableEndpoint.Output {
        var reason = "disabled through the admin API"
        if case .json(let body)? = input.body, let given = body.reason, !given.isEmpty {
            guard given.count <= 1024 else { throw APIProblem.unprocessable("reason takes at most 1024 characters") }
            reason = given
        }
        return .ok(.init(body: .json(.init(try await setEnabled(input.path.endpointId, false, reason: reason)))))
    }

    func rotateEndpointSecret(_ input: Operations.RotateEndpointSecret.Input) async throws -> Operations.RotateEndpointSecret.Output {
        var overlapText = "24h"
        var given: String?
        if case .json(let body)? = input.body {
            overlapText = body.overlap ?? overlapText
            given = body.secret
        }
        guard let overlap = DurationText.parse(overlapText) else {
            throw APIProblem.unprocessable("overlap takes a duration like 24h, or 0s to stop the old secret at once")
        }
        var endpoint = try await existing(input.path.endpointId)
        let secret = try Self.secret(given)
        let box = try await sealingBox()
        endpoint.rotateSecret(to: box.seal(secret, endpointID: endpoint.id), overlap: overlap, now: Date())
        let stored = try await write(endpoint)
        return .ok(.init(body: .json(.init(endpoint: .init(stored), secret: secret.encoded))))
    }

    // MARK: shared steps

    /// The endpoint `id` if the request's scope sees it; else 404 (also for another
    /// tenant's endpoint: its existence is not revealed).
    func existing(_ id: String) async throws -> Endpoint {
        let scope = try AccessScope.required()
        guard let endpoint = try await storeCall({ try await deps.store.endpoint(id: id, scope: scope) }) else {
            throw APIProblem.notFound("no endpoint \(id); GET /v1/endpoints lists yours")
        }
        return endpoint
    }

    func setEnabled(_ id: String, _ enabled: Bool, reason: String?) async throws -> Endpoint {
        var endpoint = try await existing(id)
        endpoint.enabled = enabled
        endpoint.disabledReason = enabled ? nil : reason
        endpoint.revision += 1
        do { try endpoint.validate() } catch { throw APIProblem.unprocessable(error.problem) }
        return try await write(endpoint)
    }

    /// Writes `endpoint` and waits until the store has it, so the next read sees it.
    func write(_ endpoint: Endpoint) async throws -> Endpoint {
        let (stored, at) = try await kafka { try await deps.endpoints.write(endpoint) }
        try await deps.materialiser.waitUntilApplied(at)
        return stored
    }

    func kafka<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as KafkaError {
            deps.logger.warning("endpoint write failed", metadata: ["error": "\(error)"])
            throw APIProblem.unavailable("the broker did not acknowledge the change (\(error.message)); try again")
        }
    }

    func sealingBox() async throws -> SecretBox {
        let inUse = try await deps.store.sealingKeyIDs()
        do { return try SealingKeyGuard.box(delivery: deps.delivery, keyIDsInUse: inUse, topic: deps.endpoints.topic, newKey: false) } catch {
            deps.logger.error("cannot seal endpoint secrets", metadata: ["error": "\(error)"])
            throw APIProblem.unavailable("this server cannot seal endpoint secrets: \(error.description)")
        }
    }

    static func secret(_ text: String?) throws -> Secret {
        guard let text else { return Secret.generate() }
        do { return try Secret(encoded: text) } catch { throw APIProblem.unprocessable("secret: \(error.description)") }
    }

    static func apply(_ change: EndpointChange, to endpoint: inout Endpoint, destinations: DestinationPolicy) throws {
        do { try change.apply(to: &endpoint, destinations: destinations) } catch {
            throw APIProblem.unprocessable(error.description)
        }
    }
}
