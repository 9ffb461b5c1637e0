import Foundation
import OpenAPIRuntime
import SluiceCore
import SluiceKafka
import SluiceStage

/// `POST /v1/endpoints/{id}/test` and `POST /v1/events/{id}/endpoints/{endpoint_id}/resend`:
/// one delivery written straight to `sluice.deliveries` for one endpoint, so dispatch signs
/// and sends it as any other (and records the attempt); fanout and other endpoints never see it.
extension AdminAPI {
    /// The type of a test event unless the request names one.
    static let testEventType = "sluice.test"

    func testEndpoint(_ input: Operations.TestEndpoint.Input) async throws -> Operations.TestEndpoint.Output {
        let endpoint = try await existing(input.path.endpointId)
        try Self.requireEnabled(endpoint)
        var type = Self.testEventType
        var data: JSONValue = .object([
            "test": .bool(true), "endpoint_id": .string(endpoint.id),
            "note": .string("a test event sent through the Sluice admin API; nothing happened"),
        ])
        if case .json(let body)? = input.body {
            type = body._type ?? type
            if let given = body.data { data = try Self.jsonValue(given) }
        }
        let id = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let built = Event.structured(id: id, source: "/sluice/admin/test", type: type, tenant: endpoint.tenant, data: data, time: Date())
        // Fanout's rules (one set): what it would reject is refused here too.
        let event: Event
        switch EventDecoder(maxBytes: deps.delivery.maxEventBytes).decode(key: Array(endpoint.tenant.utf8), value: built.body, headers: [:]) {
        case .success(let checked): event = checked
        case .failure(let why): throw APIProblem.unprocessable("the test event is not one fanout would take: \(why.description)")
        }
        let stored = try await sendDelivery(Delivery(event: event, endpointID: endpoint.id, now: Date()))
        // Index the test event through sluice.ops, so a store rebuilt from the topics finds it too.
        let note = OpsEvent.record(
            topic: deps.topicPrefix + "ops", kind: TestSendNote.kind, endpointID: endpoint.id, tenant: endpoint.tenant,
            detail: "test event \(id) sent through the admin API", at: Date(),
            fields: TestSendNote.fields(eventID: id, eventType: type, topic: stored.topic, partition: stored.partition, offset: stored.offset))
        let noted = try await kafka { try await deps.producer.send(note) }
        try await deps.materialiser.waitUntilApplied(noted)
        return .accepted(.init(body: .json(.init(eventId: id, endpointId: endpoint.id))))
    }

    func resendEvent(_ input: Operations.ResendEvent.Input) async throws -> Operations.ResendEvent.Output {
        let endpoint = try await existing(input.path.endpointId)
        let (stored, payload) = try await event(input.path.eventId)
        guard stored.tenant == endpoint.tenant else {
            throw APIProblem.notFound("no endpoint \(endpoint.id) of tenant \(stored.tenant); GET /v1/events/\(stored.eventID) lists the event's endpoints")
        }
        try Self.requireEnabled(endpoint)
        guard let body = payload?.body else {
            throw APIProblem.gone("event \(stored.eventID) is no longer on \(stored.topic) (its retention removed it); it cannot be sent again")
        }
        let replayID = "rs_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        var delivery = Delivery(
            event: Event(id: stored.eventID, source: "/sluice/admin/resend", type: stored.eventType, tenant: stored.tenant, body: body),
            endpointID: endpoint.id, now: Date())
        delivery.replayID = replayID
        _ = try await sendDelivery(delivery)
        return .accepted(.init(body: .json(.init(eventId: stored.eventID, endpointId: endpoint.id, replayId: replayID))))
    }

    /// Writes `delivery` to `sluice.deliveries` (keyed by its endpoint); where the broker put it.
    func sendDelivery(_ delivery: Delivery) async throws -> KafkaRecordMetadata {
        let record: KafkaProducerRecord
        do { record = try KafkaProducerRecord(topic: deps.topicPrefix + "deliveries", key: delivery.endpointID, wire: delivery) } catch {
            throw APIProblem.unprocessable("the delivery cannot be written: \(error)")
        }
        do { return try await deps.producer.send(record) } catch {
            deps.logger.warning("writing a delivery failed", metadata: ["error": "\(error)"])
            throw APIProblem.unavailable("the broker did not acknowledge the delivery (\(error.message)); try again")
        }
    }

    static func requireEnabled(_ endpoint: Endpoint) throws {
        guard endpoint.enabled else {
            throw APIProblem.conflict("endpoint \(endpoint.id) is disabled (\(endpoint.disabledReason ?? "no reason given")); POST /v1/endpoints/\(endpoint.id)/enable first")
        }
    }

    /// A JSON value of the request as the domain's ``JSONValue``.
    static func jsonValue(_ container: OpenAPIValueContainer) throws -> JSONValue {
        guard let bytes = try? JSONEncoder().encode(container), let value = try? JSONDecoder().decode(JSONValue.self, from: bytes) else {
            throw APIProblem.unprocessable("data must be JSON")
        }
        return value
    }
}
