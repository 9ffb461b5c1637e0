import Foundation
import OpenAPIRuntime
import SluiceCore
import SluiceKafka

/// `POST /v1/events`: ingest, checked by the rules fanout applies (``EventLine`` and
/// ``EventDecoder``), answered after the broker acknowledged every event.
extension AdminAPI {
    /// How long an `Idempotency-Key` answer is replayed.
    static let idempotencyWindow: TimeInterval = 86_400

    func publishEvents(_ input: Operations.PublishEvents.Input) async throws -> Operations.PublishEvents.Output {
        let scope = try AccessScope.required()
        guard case .json(let payload) = input.body else { throw APIProblem.badRequest("send the event as application/json") }
        let items: [Components.Schemas.EventInput]
        switch payload {
        case .EventInput(let one): items = [one]
        case .case2(let many): items = many
        }
        guard (1...100).contains(items.count) else { throw APIProblem.unprocessable("a batch holds 1…100 events, this one \(items.count)") }
        let tenant = try Self.tenant(of: items, scope: scope)
        let key = input.headers.idempotencyKey
        let now = Date()
        if let key, let ids = try await deps.store.idempotentAnswer(
            scope: scope, tenant: tenant, key: key, since: now.addingTimeInterval(-Self.idempotencyWindow))
        {
            return .accepted(.init(body: .json(.init(ids: ids))))
        }
        var events: [Event] = []
        var problems: [String] = []
        let decoder = EventDecoder(maxBytes: deps.delivery.maxEventBytes)
        for (index, item) in items.enumerated() {
            switch Self.event(item, tenant: tenant, idempotencyKey: key, index: index, decoder: decoder) {
            case .success(let event): events.append(event)
            case .failure(let why): problems.append(items.count == 1 ? why.description : "event \(index): \(why)")
            }
        }
        guard problems.isEmpty else {
            throw APIProblem.unprocessable(problems.prefix(10).joined(separator: "; ") + "; nothing was published")
        }
        let records = events.map {
            KafkaProducerRecord(
                topic: deps.eventsTopic, key: Array($0.tenant.utf8), value: $0.body,
                headers: [KafkaHeader("content-type", "application/cloudevents+json")])
        }
        do { _ = try await deps.producer.send(records) } catch {
            deps.logger.warning("publishing events failed", metadata: ["error": "\(error)"])
            throw APIProblem.unavailable("the broker did not acknowledge the events (\(error)); send them again (with the same Idempotency-Key)")
        }
        let ids = events.map(\.id)
        if let key { try await deps.store.rememberIdempotent(scope: scope, tenant: tenant, key: key, ids: ids, at: now) }
        return .accepted(.init(body: .json(.init(ids: ids))))
    }

    /// The one tenant the request publishes for: a tenant key's own (events may not name
    /// another), or, with an admin key, the one every event names.
    static func tenant(of items: [Components.Schemas.EventInput], scope: AccessScope) throws -> String {
        let named = Set(items.compactMap(\.tenant))
        switch scope {
        case .tenant(let own):
            guard named.isSubset(of: [own]) else {
                throw APIProblem.unprocessable("this key publishes for tenant \(own) only; leave \"tenant\" out of the events")
            }
            return own
        case .admin:
            guard named.count == 1, let tenant = named.first, items.allSatisfy({ $0.tenant != nil }) else {
                throw APIProblem.unprocessable("with an admin key, every event names its tenant (\"tenant\": \"acme\"), the same in one request")
            }
            return tenant
        }
    }

    /// The event `item` stands for, as fanout will read it.
    static func event(
        _ item: Components.Schemas.EventInput, tenant: String, idempotencyKey: String?, index: Int, decoder: EventDecoder
    ) -> Result<Event, IngestRefusal> {
        guard let encoded = try? JSONEncoder().encode(item),
            case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: encoded)
        else { return .failure(IngestRefusal("the event is not a JSON object")) }
        object["tenant"] = .string(tenant)
        if let idempotencyKey {
            let derived = IdempotentEventID.make(tenant: tenant, key: idempotencyKey, index: index)
            if let given = object["id"], given != .string(derived) {
                return .failure(IngestRefusal("give either an id or an Idempotency-Key (its ids derive from it), not both"))
            }
            object["id"] = .string(derived)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let line = try? encoder.encode(JSONValue.object(object)) else { return .failure(IngestRefusal("the event cannot be encoded")) }
        let parsed = EventLine.parse(String(decoding: line, as: UTF8.self), defaults: .init(tenant: tenant, source: "/sluice/admin"), decoder: decoder)
        return parsed.mapError { IngestRefusal($0.description) }
    }
}

/// Why one event of a request is refused (the rules are fanout's: ``EventRejection``).
struct IngestRefusal: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
