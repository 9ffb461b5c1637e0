import Foundation
import OpenAPIRuntime
import SluiceCore
import SluiceKafka

/// `GET /v1/events/{id}`: the event, read from its topic by the coordinates the store
/// indexed, and per endpoint how its delivery went (from the attempts and dead letters).
extension AdminAPI {
    /// An event's bytes as fetched from its topic.
    struct Payload {
        /// The webhook body: the event in CloudEvents structured JSON.
        var body: [UInt8]
    }

    /// Most rows one event's detail reads of attempts or dead letters.
    static let eventDetailRows = 1000

    func getEvent(_ input: Operations.GetEvent.Input) async throws -> Operations.GetEvent.Output {
        let (stored, payload, deliveries) = try await eventDetail(input.path.eventId)
        var detail = Components.Schemas.EventDetail(
            id: stored.eventID, tenant: stored.tenant, _type: stored.eventType, receivedAt: stored.at, topic: stored.topic,
            partition: Int(stored.partition), offset: stored.offset, deliveries: deliveries.map { .init($0) })
        if let payload {
            detail.payload = (try? JSONDecoder().decode(OpenAPIValueContainer.self, from: Data(payload.body)))
                ?? (try? OpenAPIValueContainer(unvalidatedValue: String(decoding: payload.body, as: UTF8.self)))
        }
        return .ok(.init(body: .json(detail)))
    }

    /// The event, its payload and how its delivery stands per endpoint, in the request's scope.
    func eventDetail(_ id: String) async throws -> (StoredEvent, Payload?, [EventDeliveryState]) {
        let scope = try AccessScope.required()
        let (stored, payload) = try await event(id)
        let byEvent = AttemptFilter(eventID: stored.eventID, tenant: stored.tenant)
        let rows = PageRequest(limit: Self.eventDetailRows)
        let attempts = try await storeCall { try await deps.store.attempts(scope: scope, filter: byEvent, page: rows) }.items
        let letters = try await storeCall { try await deps.store.deadLetters(scope: scope, filter: byEvent, page: rows) }.items
            .filter { $0.tenant == stored.tenant }
        var expected: [String] = []
        if let only = stored.endpointID {
            expected = [only]
        } else {
            expected = try await matchingEndpoints(of: stored, scope: scope)
        }
        return (stored, payload, EventDeliveryState.derive(attempts: attempts, deadLetters: letters, expected: expected))
    }

    /// The newest indexed event `id` in the request's scope and its payload (nil once its
    /// topic no longer holds it); 404 when the scope sees no such event.
    func event(_ id: String) async throws -> (StoredEvent, Payload?) {
        let scope = try AccessScope.required()
        guard let stored = try await storeCall({ try await deps.store.events(id: id, scope: scope) }).first else {
            throw APIProblem.notFound("no event \(id); GET /v1/attempts lists the events delivered lately (events older than the store's retention are not kept)")
        }
        let record: KafkaRecord?
        do { record = try await deps.reader.record(at: stored.offset, partition: stored.partition, topic: stored.topic) } catch {
            deps.logger.warning("fetching an event failed", metadata: ["error": "\(error)", "event": "\(id)"])
            throw APIProblem.unavailable("the broker did not hand over event \(id) from \(stored.topic) (\(error)); try again")
        }
        guard let record, let value = record.value else { return (stored, nil) }
        if stored.topic == deps.topicPrefix + "deliveries" {
            guard let delivery = try? Delivery(wireBytes: value), delivery.eventID == stored.eventID else { return (stored, nil) }
            return (stored, Payload(body: delivery.body))
        }
        var headers: [String: [UInt8]] = [:]
        for header in record.headers { headers[header.key] = header.value ?? [] }
        guard case .success(let event) = EventDecoder(maxBytes: deps.delivery.maxEventBytes).decode(key: record.key, value: value, headers: headers),
            event.id == stored.eventID
        else { return (stored, nil) }
        return (stored, Payload(body: event.body))
    }

    /// The tenant's endpoints that took the event's type when it arrived and are enabled:
    /// the ones fanout gave it to (pending until their first attempt).
    func matchingEndpoints(of stored: StoredEvent, scope: AccessScope) async throws -> [String] {
        var ids: [String] = []
        var request = PageRequest(limit: PageRequest.limits.upperBound)
        for _ in 0..<8 {
            let page = try await storeCall { try await deps.store.endpoints(scope: scope, tenant: stored.tenant, page: request) }
            ids += page.items.filter { $0.enabled && $0.filter.matches(stored.eventType) && $0.createdAt <= stored.at }.map(\.id)
            guard let next = page.iterator else { break }
            request.iterator = next
        }
        return ids
    }
}

extension Components.Schemas.EventDelivery {
    init(_ d: EventDeliveryState) {
        self.init(
            endpointId: d.endpointID, state: .init(rawValue: d.state.rawValue) ?? .pending, nextAttemptAt: d.nextAttemptAt,
            deadLetterId: d.deadLetterID, attempts: d.attempts.map { .init($0) })
    }
}
