import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Test sends, event detail and resends over HTTP against the real `sluice-admin`,
/// `sluice-fanout` and `sluice-dispatch` on the shared Tansu.
@Suite("sluice-admin test sends, events and resends (integration)")
struct AdminEventsIntegrationTests {
    @Test("a test send reaches that endpoint alone, signed, and shows as an attempt and in GET /v1/events; resend sends it again; a fanned-out event shows each endpoint's state")
    func testSendEventDetailAndResend() async throws {
        try await IntegrationTest.run { kafka in
            let pipeline = try await AdminPipeline(kafka, name: "events", schedule: "0s,10m")  // a failure waits in a tier: the event shows it retrying
            defer { pipeline.kill() }
            let (fixture, receiver, key, other, admin) = (pipeline.fixture, pipeline.receiver, pipeline.key, pipeline.other, pipeline.admin)

            func create(_ path: String, types: String) async throws -> (id: String, secret: Secret) {
                let created = try await admin.request(
                    "POST", "/v1/endpoints", key: key, json: #"{"url":"\#(receiver.url("/\(fixture.prefix)\(path)"))","types":\#(types)}"#)
                guard let id = (created.json?["endpoint"] as? [String: Any])?["id"] as? String, let secret = created.json?["secret"] as? String else {
                    throw TestBrokerError("create failed: \(created)")
                }
                return (id, try Secret(encoded: secret))
            }
            let tested = try await create("ev/tested", types: #"["order.*"]"#)
            let bystander = try await create("ev/bystander", types: #"["*"]"#)
            let failing = try await create("ev/status/500", types: #"["order.*"]"#)

            // The test send: 202 with the event id, one signed request to that endpoint only.
            let sent = try await admin.request("POST", "/v1/endpoints/\(tested.id)/test", key: key)
            #expect(sent.status == 202 && sent.json?["endpoint_id"] as? String == tested.id, "\(sent)")
            let testID = try #require(sent.json?["event_id"] as? String, "\(sent)")
            let arrived = try await receiver.awaitRequests(prefix: "/\(fixture.prefix)ev/tested", atLeast: 1, timeout: .seconds(120))
            let request = try #require(arrived.first, "no test webhook arrived; logs \(pipeline.logs)*")
            #expect(request.headers["webhook-id"] == testID)
            try WebhookVerifier(secrets: [tested.secret]).verify(
                id: request.headers["webhook-id"] ?? "", timestamp: request.headers["webhook-timestamp"] ?? "",
                signatureHeader: request.headers["webhook-signature"] ?? "", body: request.body, now: Date())
            #expect(String(decoding: request.body, as: UTF8.self).contains(#""type":"sluice.test""#))
            let logged = try await admin.poll("GET", "/v1/attempts?event_id=\(testID)", key: key) { (($0.json?["data"] as? [Any])?.count ?? 0) >= 1 }
            let attempt = try #require((logged.json?["data"] as? [[String: Any]])?.first, "the test attempt is not in the log: \(logged)")
            #expect(attempt["endpoint_id"] as? String == tested.id && attempt["outcome"] as? String == "delivered", "\(attempt)")
            let detail = try await admin.request("GET", "/v1/events/\(testID)", key: key)
            #expect(detail.status == 200 && detail.json?["type"] as? String == "sluice.test", "\(detail)")
            #expect((detail.json?["payload"] as? [String: Any])?["id"] as? String == testID, "the payload is read from its topic: \(detail)")
            let testDeliveries = try #require(detail.json?["deliveries"] as? [[String: Any]], "\(detail)")
            #expect(testDeliveries.count == 1 && testDeliveries.first?["endpoint_id"] as? String == tested.id && testDeliveries.first?["state"] as? String == "delivered", "\(detail)")
            #expect(try receiver.received(prefix: "/\(fixture.prefix)ev/bystander").isEmpty, "only the tested endpoint gets a test send")

            // Resend: the same webhook-id again, its attempt carrying the resend's id.
            let resent = try await admin.request("POST", "/v1/events/\(testID)/endpoints/\(tested.id)/resend", key: key)
            #expect(resent.status == 202 && (resent.json?["replay_id"] as? String)?.hasPrefix("rs_") == true, "\(resent)")
            let twice = try await receiver.awaitRequests(prefix: "/\(fixture.prefix)ev/tested", atLeast: 2, timeout: .seconds(120))
            #expect(twice.count == 2 && twice.allSatisfy { $0.headers["webhook-id"] == testID }, "\(twice.map(\.headers))")
            let again = try await admin.poll("GET", "/v1/events/\(testID)", key: key) {
                (($0.json?["deliveries"] as? [[String: Any]])?.first?["attempts"] as? [Any])?.count == 2
            }
            #expect(((again.json?["deliveries"] as? [[String: Any]])?.first?["attempts"] as? [Any])?.count == 2, "\(again)")

            // A published event: fanned out to all three; each endpoint's state.
            let published = try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"order.created","data":{"order":1}}"#)
            let eventID = try #require((published.json?["ids"] as? [String])?.first, "\(published)")
            let states = try await admin.poll("GET", "/v1/events/\(eventID)", key: key) { answer in
                let deliveries = (answer.json?["deliveries"] as? [[String: Any]]) ?? []
                return deliveries.count == 3 && deliveries.allSatisfy { ($0["state"] as? String) != "pending" }
            }
            let byEndpoint = Dictionary(
                uniqueKeysWithValues: ((states.json?["deliveries"] as? [[String: Any]]) ?? []).compactMap { d in (d["endpoint_id"] as? String).map { ($0, d) } })
            #expect(byEndpoint[tested.id]?["state"] as? String == "delivered" && byEndpoint[bystander.id]?["state"] as? String == "delivered", "\(states)")
            #expect(byEndpoint[failing.id]?["state"] as? String == "retrying" && byEndpoint[failing.id]?["next_attempt_at"] is String, "\(states)")
            #expect(states.json?["topic"] as? String == fixture.topic("events"))
            #expect(((states.json?["payload"] as? [String: Any])?["data"] as? [String: Any])?["order"] as? Int == 1, "\(states)")

            // The delivery log's filters.
            func logEndpoints(_ query: String, key: String = key) async throws -> [String] {
                let page = try await admin.request("GET", "/v1/attempts?\(query)", key: key)
                guard page.status == 200, let data = page.json?["data"] as? [[String: Any]] else { throw TestBrokerError("\(query): \(page)") }
                return data.compactMap { $0["endpoint_id"] as? String }
            }
            #expect(try await logEndpoints("event_id=\(eventID)&outcome=retrying") == [failing.id])
            #expect(try await logEndpoints("event_id=\(eventID)&status_class=5xx") == [failing.id])
            #expect(Set(try await logEndpoints("event_id=\(eventID)&status_class=2xx")) == [tested.id, bystander.id])
            #expect(try await logEndpoints("event_id=\(eventID)&tenant=globex").isEmpty, "a tenant key's tenant filter cannot widen its scope")
            let badClass = try await admin.request("GET", "/v1/attempts?status_class=6xx", key: key)
            #expect(badClass.status == 400, "\(badClass)")

            // Another tenant: every one of these is a 404 that reveals nothing.
            for (method, path) in [
                ("POST", "/v1/endpoints/\(tested.id)/test"), ("GET", "/v1/events/\(testID)"), ("GET", "/v1/events/\(eventID)"),
                ("POST", "/v1/events/\(eventID)/endpoints/\(tested.id)/resend"),
            ] {
                let answer = try await admin.request(method, path, key: other)
                #expect(answer.status == 404 && !answer.text.contains("order.created") && !answer.text.contains(fixture.prefix), "\(method) \(path): \(answer)")
            }
            let foreignLog = try await admin.request("GET", "/v1/attempts?event_id=\(eventID)", key: other)
            #expect((foreignLog.json?["data"] as? [Any])?.isEmpty == true, "\(foreignLog)")

            // Refusals.
            _ = try await admin.request("POST", "/v1/endpoints/\(bystander.id)/disable", key: key)
            let disabled = try await admin.request("POST", "/v1/endpoints/\(bystander.id)/test", key: key)
            #expect(disabled.status == 409 && disabled.text.contains("/enable"), "\(disabled)")
            #expect(try await admin.request("GET", "/v1/events/evt_nothing", key: key).status == 404)
            #expect(await pipeline.stopStages() == [0, 0], "the stages stop cleanly")
        }
    }
}
