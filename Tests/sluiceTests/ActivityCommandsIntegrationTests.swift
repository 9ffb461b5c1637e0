import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage
import SluiceTestSupport
import Testing

@Suite("sluice attempts, ops and events show, reading the topics (integration)")
struct ActivityCommandsIntegrationTests {
    let sluice = executablePath("sluice")

    @Test("attempts list filters by endpoint and failures; events show gives each endpoint's state; ops list shows circuits")
    func readWhatHappened() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let now = Date()
            let event = Event.structured(id: "evt-shown", source: "/s", type: "order.created", tenant: "acme", data: .object([:]))
            let ok = Delivery(event: event, endpointID: "ep_ok", now: now)
            let bad = Delivery(event: event, endpointID: "ep_bad", now: now)
            let attempts = [
                Attempt(delivery: ok, at: now, status: 200, latencyMs: 12, errorClass: .none, outcome: .delivered),
                Attempt(delivery: bad, at: now, status: 500, latencyMs: 30, errorClass: .httpStatus, error: "HTTP 500", outcome: .retrying),
            ]
            var records = try attempts.map { try KafkaProducerRecord(topic: fixture.topic("attempts"), key: $0.endpointID, wire: $0) }
            let dead = DeadLetter(delivery: bad, reason: "exhausted", finalError: "HTTP 500", attempts: [], deadAt: now)
            records.append(try KafkaProducerRecord(topic: fixture.topic("dlq"), key: "ep_bad", wire: dead))
            records.append(OpsEvent.record(topic: fixture.topic("ops"), kind: "circuit_opened", endpointID: "ep_bad", tenant: "acme", detail: "after 5 consecutive failures", at: now))
            try await fixture.producer.send(records)
            let env = fixture.environment(instance: "cli")

            let failures = try runCommand([sluice, "attempts", "list", "--failures"], environment: env)
            #expect(failures.status == 0, "\(failures.output)")
            #expect(failures.output.contains("ep_bad  evt-shown  #1  HTTP 500") && !failures.output.contains("ep_ok"), "\(failures.output)")
            #expect(failures.output.contains("1 records since"))
            let byEndpoint = try runCommand([sluice, "attempts", "list", "--endpoint", "ep_ok", "--json"], environment: env)
            #expect(byEndpoint.output.contains("\"endpoint_id\":\"ep_ok\"") && !byEndpoint.output.contains("ep_bad"), "\(byEndpoint.output)")
            #expect(byEndpoint.output.contains("\"at\":\"20"), "times in ISO 8601: \(byEndpoint.output)")

            let shown = try runCommand([sluice, "events", "show", "evt-shown"], environment: env)
            #expect(shown.status == 0, "\(shown.output)")
            #expect(shown.output.contains("ep_ok: delivered") && shown.output.contains("ep_bad: dead-lettered"), "\(shown.output)")
            let missing = try runCommand([sluice, "events", "show", "evt-nope"], environment: env)
            #expect(missing.status == 1 && missing.output.contains("no attempt of event evt-nope"), "\(missing.output)")

            let ops = try runCommand([sluice, "ops", "list"], environment: env)
            #expect(ops.output.contains("circuit_opened ep_bad  after 5 consecutive failures"), "\(ops.output)")
            let badSince = try runCommand([sluice, "attempts", "list", "--since", "last tuesday"], environment: env)
            #expect(badSince.status != 0 && badSince.output.contains("is not a time"), "\(badSince.output)")
        }
    }
}
