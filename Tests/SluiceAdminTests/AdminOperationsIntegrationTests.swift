import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Dead letters and ops events as dispatch writes them, read over HTTP from `sluice-admin`.
@Suite("sluice-admin dead letters and ops events (integration)")
struct AdminOperationsIntegrationTests {
    @Test("an endpoint answering 500 parks the delivery (GET /v1/dead-letters); one answering 410 is disabled (GET /v1/ops-events); another tenant sees neither")
    func deadLettersAndOps() async throws {
        try await IntegrationTest.run { kafka in
            let pipeline = try await AdminPipeline(kafka, name: "ops", schedule: "0s")  // one attempt, then the DLQ
            defer { pipeline.kill() }
            let (fixture, receiver, key, other, admin) = (pipeline.fixture, pipeline.receiver, pipeline.key, pipeline.other, pipeline.admin)

            func create(_ path: String) async throws -> String {
                let created = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"\#(receiver.url("/\(fixture.prefix)\(path)"))"}"#)
                guard let id = (created.json?["endpoint"] as? [String: Any])?["id"] as? String else { throw TestBrokerError("create failed: \(created)") }
                return id
            }
            let failing = try await create("ops/status/500")
            let gone = try await create("ops/status/410")
            let published = try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"order.created","data":{}}"#)
            let eventID = try #require((published.json?["ids"] as? [String])?.first, "\(published)")

            let letters = try await admin.poll("GET", "/v1/dead-letters?endpoint_id=\(failing)", key: key) {
                (($0.json?["data"] as? [[String: Any]])?.count ?? 0) >= 1
            }
            let letter = try #require((letters.json?["data"] as? [[String: Any]])?.first, "no dead letter; logs \(pipeline.logs)*: \(letters)")
            #expect(letter["event_id"] as? String == eventID && letter["reason"] as? String == "exhausted" && letter["attempts"] as? Int == 1, "\(letter)")
            #expect(letter["partition"] is Int && letter["offset"] is Int)

            let ops = try await admin.poll("GET", "/v1/ops-events?kind=endpoint_disabled", key: key) {
                (($0.json?["data"] as? [[String: Any]])?.count ?? 0) >= 1
            }
            let disabled = try #require((ops.json?["data"] as? [[String: Any]])?.first, "no ops event; logs \(pipeline.logs)*: \(ops)")
            #expect(disabled["endpoint_id"] as? String == gone, "\(disabled)")
            let endpoint = try await admin.poll("GET", "/v1/endpoints/\(gone)", key: key) { $0.json?["enabled"] as? Bool == false }
            #expect(endpoint.json?["enabled"] as? Bool == false, "the 410 disabled it: \(endpoint)")

            for path in ["/v1/dead-letters", "/v1/ops-events"] {
                let foreign = try await admin.request("GET", path, key: other)
                #expect(foreign.status == 200 && (foreign.json?["data"] as? [Any])?.isEmpty == true, "\(path) for another tenant: \(foreign)")
            }
            let badWindow = try await admin.request("GET", "/v1/dead-letters?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z", key: key)
            #expect(badWindow.status == 400, "\(badWindow)")
            #expect(await pipeline.stopStages() == [0, 0], "the stages stop cleanly")
        }
    }
}
