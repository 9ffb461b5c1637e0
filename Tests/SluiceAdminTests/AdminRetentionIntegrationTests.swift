import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage
import SluiceTestSupport
import Testing

/// Retention by age as `sluice-admin` applies it to what it reads from the topics.
@Suite("sluice-admin store retention (integration)")
struct AdminRetentionIntegrationTests {
    @Test("with SLUICE_ADMIN_RETENTION=1d, an attempt three days old on the topic is not in the store; one from now is")
    func oldRowsAreLeftOut() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let key = try await AdminHarness.createKey(fixture: fixture, tenant: "acme")
            let producer = try kafka.producer()
            for (id, age) in [("evt_old", 3.0 * 86_400), ("evt_new", 0.0)] {
                let at = Date().addingTimeInterval(-age)
                let event = Event.structured(id: id, source: "/t", type: "order.created", tenant: "acme", data: .null)
                let attempt = Attempt(
                    delivery: Delivery(event: event, endpointID: "ep_retention", now: at), at: at, status: 200, latencyMs: 3, errorClass: .none,
                    outcome: .delivered)
                _ = try await producer.send(try KafkaProducerRecord(topic: fixture.topic("attempts"), key: "ep_retention", wire: attempt))
            }
            try await producer.close()
            let admin = try await AdminHarness(fixture: fixture, environment: ["SLUICE_ADMIN_RETENTION": "1d"])
            defer { admin.kill() }
            // Ready means caught up: both records were read, and only the new one kept.
            let listed = try await admin.request("GET", "/v1/attempts?endpoint_id=ep_retention", key: key)
            let ids = (listed.json?["data"] as? [[String: Any]])?.compactMap { $0["event_id"] as? String }
            #expect(ids == ["evt_new"], "\(listed)")
            #expect(await admin.stop() == 0)
        }
    }
}
