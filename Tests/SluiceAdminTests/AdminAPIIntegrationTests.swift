import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `sluice-admin` over HTTP, with keys made by the real `sluice keys create`,
/// on the shared Tansu.
@Suite("sluice-admin over HTTP (integration)", .serialized)
struct AdminAPIIntegrationTests {
    @Test("health, the document, 401 without a key; a tenant key creates an endpoint, publishes, and reads the attempt dispatch made")
    func publishAndReadTheLog() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let key = try await AdminHarness.createKey(fixture: fixture, tenant: "acme")
            let admin = try await AdminHarness(fixture: fixture)
            defer { admin.kill() }
            var env = fixture.environment(instance: "flow")
            env["SLUICE_ALLOW_PRIVATE"] = "1"
            env["SLUICE_ALLOW_HTTP"] = "1"
            let logs = NSTemporaryDirectory() + "sluice-admin-flow-\(fixture.prefix)"
            var pids = [
                try fixture.spawn("sluice-dispatch", [], environment: env, log: logs + "dispatch.log"),
                try fixture.spawn("sluice-fanout", [], environment: env, log: logs + "fanout.log"),
            ]
            defer { for pid in pids { kill(pid, SIGKILL) } }

            #expect(try await admin.request("GET", "/healthz").status == 200)
            let document = try await admin.request("GET", "/v1/openapi.yaml")
            #expect(document.status == 200 && document.text.hasPrefix("openapi: 3.1"), "\(document)")
            let anonymous = try await admin.request("GET", "/v1/endpoints")
            #expect(anonymous.status == 401 && anonymous.contentType.hasPrefix("application/problem+json"), "\(anonymous)")
            #expect((anonymous.json?["detail"] as? String)?.contains("sluice keys create") == true, "\(anonymous)")
            #expect(try await admin.request("GET", "/v1/endpoints", key: "sk_unknown").status == 401)

            let path = "/\(fixture.prefix)admin/ok"
            let created = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"\#(receiver.url(path))","types":["order.*"],"description":"orders"}"#)
            #expect(created.status == 201, "\(created)")
            let endpoint = try #require(created.json?["endpoint"] as? [String: Any])
            let endpointID = try #require(endpoint["id"] as? String)
            #expect(endpoint["tenant"] as? String == "acme" && endpoint["description"] as? String == "orders")
            let secret = try Secret(encoded: try #require(created.json?["secret"] as? String))
            let got = try await admin.request("GET", "/v1/endpoints/\(endpointID)", key: key)
            #expect(got.status == 200 && !got.text.contains("whsec_") && !got.text.contains("sealed"), "\(got)")

            let published = try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"order.created","data":{"order":42}}"#)
            #expect(published.status == 202, "\(published)")
            let eventID = try #require((published.json?["ids"] as? [String])?.first)

            // Dispatch delivers it, signed with the secret the API showed; the log shows the attempt.
            let requests = try await receiver.awaitRequests(prefix: path, atLeast: 1, timeout: .seconds(90))
            let request = try #require(requests.first, "no webhook arrived; logs \(logs)*")
            #expect(request.headers["webhook-id"] == eventID)
            try WebhookVerifier(secrets: [secret]).verify(
                id: request.headers["webhook-id"] ?? "", timestamp: request.headers["webhook-timestamp"] ?? "",
                signatureHeader: request.headers["webhook-signature"] ?? "", body: request.body, now: Date())
            let log = try await admin.poll("GET", "/v1/attempts?endpoint_id=\(endpointID)", key: key) {
                (($0.json?["data"] as? [[String: Any]])?.count ?? 0) >= 1
            }
            let attempts = try #require(log.json?["data"] as? [[String: Any]], "\(log)")
            #expect(attempts.count == 1 && attempts.first?["event_id"] as? String == eventID, "\(log)")
            #expect(attempts.first?["outcome"] as? String == "delivered" && attempts.first?["status"] as? Int == 200)
            #expect(log.json?["done"] as? Bool == true)
            let stats = try await admin.request("GET", "/v1/endpoints/\(endpointID)/stats", key: key)
            #expect(stats.status == 200 && stats.json?["attempts"] as? Int == 1 && stats.json?["success_rate"] as? Double == 1, "\(stats)")
            #expect((stats.json?["by_status_class"] as? [String: Int]) == ["2xx": 1] && (stats.json?["by_outcome"] as? [String: Int]) == ["delivered": 1])
            let byEvent = try await admin.request("GET", "/v1/attempts?event_id=\(eventID)&limit=1", key: key)
            #expect((byEvent.json?["data"] as? [[String: Any]])?.count == 1, "\(byEvent)")

            // Refusals say what to do.
            let noType = try await admin.request("POST", "/v1/events", key: key, json: #"{"data":{}}"#)
            #expect(noType.status == 422 && noType.text.contains("type"), "\(noType)")
            let notJSON = try await admin.request("POST", "/v1/events", key: key, json: "{nope")
            #expect(notJSON.status == 400 && notJSON.contentType.hasPrefix("application/problem+json"), "\(notJSON)")
            let badIterator = try await admin.request("GET", "/v1/attempts?iterator=forged", key: key)
            #expect(badIterator.status == 400 && badIterator.text.contains("iterator"), "\(badIterator)")
            let fractional = try await admin.request("GET", "/v1/attempts?since=2020-01-01T00:00:00.250Z&until=2099-01-01T02:00:00%2B02:00", key: key)
            #expect(fractional.status == 200 && (fractional.json?["data"] as? [Any])?.count == 1, "RFC 3339 times with fractions and offsets: \(fractional)")
            let badLimit = try await admin.request("GET", "/v1/attempts?limit=0", key: key)
            #expect(badLimit.status == 400, "\(badLimit)")
            let noRoute = try await admin.request("GET", "/v1/nothing", key: key)
            #expect(noRoute.status == 404 && noRoute.contentType.hasPrefix("application/problem+json"), "\(noRoute)")
            let ready = try await admin.request("GET", "/readyz")
            #expect(ready.status == 200 && ready.json?["status"] as? String == "ready", "\(ready)")
            let metrics = try await admin.request("GET", "/metrics")
            #expect(metrics.status == 200 && metrics.text.contains("sluice_admin_http_requests_total") && metrics.text.contains("sluice_admin_broker_reachable 1"), "\(metrics)")

            for pid in pids { #expect(await AdminHarness.stop(pid) == 0) }
            pids = []
            #expect(await admin.stop() == 0, "sluice-admin did not exit 0 on SIGTERM; log \(admin.logPath)")
        }
    }

    @Test("endpoint routes: patch, disable, enable, rotate-secret, delete; bad values and unusable URLs refused, saying what to do")
    func endpointRoutes() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let key = try await AdminHarness.createKey(fixture: fixture, tenant: "acme")
            let admin = try await AdminHarness(fixture: fixture)
            defer { admin.kill() }
            let created = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"https://hooks.example.com/in"}"#)
            #expect(created.status == 201, "\(created)")
            let id = try #require((created.json?["endpoint"] as? [String: Any])?["id"] as? String)

            let patched = try await admin.request("PATCH", "/v1/endpoints/\(id)", key: key, json: #"{"timeout":"5s","headers":{"x-team":"pay"},"types":["order.*"]}"#)
            #expect(patched.status == 200 && patched.json?["timeout_ms"] as? Int == 5000 && patched.json?["revision"] as? Int == 2, "\(patched)")
            let badTimeout = try await admin.request("PATCH", "/v1/endpoints/\(id)", key: key, json: #"{"timeout":"soon"}"#)
            #expect(badTimeout.status == 422 && badTimeout.text.contains("timeout"), "\(badTimeout)")
            let bare = try await admin.request("PATCH", "/v1/endpoints/\(id)", key: key)
            #expect(bare.status == 400 && bare.contentType.hasPrefix("application/problem+json"), "a PATCH needs its body: \(bare)")
            let unknownField = try await admin.request("PATCH", "/v1/endpoints/\(id)", key: key, json: #"{"colour":"red"}"#)
            #expect(unknownField.status == 400, "\(unknownField)")

            let disabled = try await admin.request("POST", "/v1/endpoints/\(id)/disable", key: key, json: #"{"reason":"maintenance"}"#)
            #expect(disabled.status == 200 && disabled.json?["enabled"] as? Bool == false && disabled.json?["disabled_reason"] as? String == "maintenance", "\(disabled)")
            let enabled = try await admin.request("POST", "/v1/endpoints/\(id)/enable", key: key)
            #expect(enabled.status == 200 && enabled.json?["enabled"] as? Bool == true, "\(enabled)")
            let rotated = try await admin.request("POST", "/v1/endpoints/\(id)/rotate-secret", key: key, json: #"{"overlap":"1h"}"#)
            #expect(rotated.status == 200 && (rotated.json?["secret"] as? String)?.hasPrefix("whsec_") == true, "\(rotated)")
            #expect(rotated.json?["secret"] as? String != created.json?["secret"] as? String)

            // The topic has what the API answered (the CLI's store reads the same records).
            let stored = try #require(try await fixture.store().load()[id])
            #expect(stored.timeoutMs == 5000 && stored.headers == ["x-team": "pay"] && stored.previousSecret != nil && stored.enabled)

            let notURL = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"hooks example"}"#)
            #expect(notURL.status == 422 && notURL.contentType.hasPrefix("application/problem+json"), "\(notURL)")
            let badFilter = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"https://hooks.example.com/x","types":["or*der"]}"#)
            #expect(badFilter.status == 422 && badFilter.text.contains("order.*"), "\(badFilter)")

            #expect(try await admin.request("DELETE", "/v1/endpoints/\(id)", key: key).status == 204)
            let gone = try await admin.request("GET", "/v1/endpoints/\(id)", key: key)
            #expect(gone.status == 404 && gone.text.contains("GET /v1/endpoints"), "\(gone)")
            #expect(try await admin.request("POST", "/v1/endpoints/\(id)/enable", key: key).status == 404)
        }
    }

    @Test("two tenants: another tenant's endpoint is a 404 on every route and absent from lists; an admin key sees both; a revoked key is refused")
    func tenantIsolation() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let acme = try await AdminHarness.createKey(fixture: fixture, tenant: "acme")
            let globex = try await AdminHarness.createKey(fixture: fixture, tenant: "globex")
            let root = try await AdminHarness.createKey(fixture: fixture, tenant: nil)
            let admin = try await AdminHarness(fixture: fixture)
            defer { admin.kill() }
            let created = try await admin.request("POST", "/v1/endpoints", key: acme, json: #"{"url":"https://hooks.example.com/acme"}"#)
            let id = try #require((created.json?["endpoint"] as? [String: Any])?["id"] as? String, "\(created)")
            let foreign = try await admin.request("POST", "/v1/endpoints", key: globex, json: #"{"url":"https://hooks.example.com/g","tenant":"acme"}"#)
            #expect(foreign.status == 422, "a tenant key cannot create for another tenant: \(foreign)")

            for (method, path, body) in [
                ("GET", "/v1/endpoints/\(id)", nil), ("PATCH", "/v1/endpoints/\(id)", #"{"timeout":"5s"}"#), ("DELETE", "/v1/endpoints/\(id)", nil),
                ("POST", "/v1/endpoints/\(id)/enable", nil), ("POST", "/v1/endpoints/\(id)/disable", nil), ("POST", "/v1/endpoints/\(id)/rotate-secret", nil),
                ("GET", "/v1/endpoints/\(id)/stats", nil),
            ] as [(String, String, String?)] {
                let answer = try await admin.request(method, path, key: globex, json: body)
                #expect(answer.status == 404 && !answer.text.contains("hooks.example.com"), "\(method) \(path): \(answer)")
            }
            let globexList = try await admin.request("GET", "/v1/endpoints", key: globex)
            #expect(globexList.status == 200 && (globexList.json?["data"] as? [Any])?.isEmpty == true, "\(globexList)")
            let snooping = try await admin.request("GET", "/v1/endpoints?tenant=acme", key: globex)
            #expect((snooping.json?["data"] as? [Any])?.isEmpty == true, "\(snooping)")
            let acmeList = try await admin.request("GET", "/v1/endpoints", key: acme)
            #expect((acmeList.json?["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id], "\(acmeList)")
            #expect(try await admin.request("GET", "/v1/endpoints/\(id)", key: root).status == 200, "an admin key sees every tenant")
            let adminCreate = try await admin.request("POST", "/v1/endpoints", key: root, json: #"{"url":"https://hooks.example.com/x"}"#)
            #expect(adminCreate.status == 422 && adminCreate.text.contains("tenant"), "\(adminCreate)")

            // Revoked: refused within a bound (every replica follows the keys topic).
            let listed = try await AdminHarness.run([executablePath("sluice"), "keys", "list", "--json"], environment: fixture.environment(instance: "cli"))
            let keyIDs = try #require(listed.output.range(of: "[").map { try JSONSerialization.jsonObject(with: Data(listed.output[$0.lowerBound...].utf8)) as? [[String: Any]] } ?? nil)
            let globexID = try #require(keyIDs.first { $0["tenant"] as? String == "globex" }?["id"] as? String, "\(listed.output)")
            let revoke = try await AdminHarness.run([executablePath("sluice"), "keys", "revoke", globexID], environment: fixture.environment(instance: "cli"))
            #expect(revoke.status == 0 && revoke.output.contains("revoked \(globexID)"), "\(revoke.output)")
            let refused = try await admin.poll("GET", "/v1/endpoints", key: globex, timeout: .seconds(60)) { $0.status == 401 }
            #expect(refused.status == 401, "\(refused)")
            #expect(try await admin.request("GET", "/v1/endpoints", key: acme).status == 200)
        }
    }

    @Test("an Idempotency-Key repeated gives the same ids and one event on the topic; a deleted store is rebuilt from the topics")
    func idempotentIngestAndRebuild() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let key = try await AdminHarness.createKey(fixture: fixture, tenant: "acme")
            var admin = try await AdminHarness(fixture: fixture)
            defer { admin.kill() }
            let body = #"{"type":"order.created","data":{"order":7}}"#
            let first = try await admin.request("POST", "/v1/events", key: key, json: body, headers: ["Idempotency-Key": "order-7"])
            let again = try await admin.request("POST", "/v1/events", key: key, json: body, headers: ["Idempotency-Key": "order-7"])
            #expect(first.status == 202 && again.status == 202, "\(first) \(again)")
            let ids = try #require(first.json?["ids"] as? [String])
            #expect(again.json?["ids"] as? [String] == ids && ids == [IdempotentEventID.make(tenant: "acme", key: "order-7", index: 0)])
            let conflicting = try await admin.request("POST", "/v1/events", key: key, json: #"{"id":"mine","type":"t"}"#, headers: ["Idempotency-Key": "k2"])
            #expect(conflicting.status == 422, "\(conflicting)")
            // A sentinel after them: the tenant's events share a partition, so once it is read, so is all before it.
            let sentinel = try #require(try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"sentinel"}"#).json?["ids"] as? [String]).first
            let consumer = try kafka.consumer(group: kafka.uniqueName("reader"), topics: [fixture.topic("events")])
            var records: [KafkaRecord] = []
            let deadline = ContinuousClock.now + .seconds(90)
            while !records.contains(where: { $0.text.contains(sentinel ?? "-") }), ContinuousClock.now < deadline {
                for event in try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(200)) {
                    if case .record(let record) = event { records.append(record) }
                }
            }
            try await consumer.close()
            #expect(records.contains { $0.text.contains(sentinel ?? "-") }, "the sentinel event never arrived")
            #expect(records.filter { $0.text.contains(ids[0]) }.count == 1, "one event on the topic for the repeated key")

            _ = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"https://hooks.example.com/a"}"#)
            _ = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"https://hooks.example.com/b"}"#)
            let before = try await admin.request("GET", "/v1/endpoints", key: key)
            #expect((before.json?["data"] as? [Any])?.count == 2, "\(before)")
            #expect(await admin.stop() == 0)
            try FileManager.default.removeItem(atPath: URL(fileURLWithPath: admin.storePath).deletingLastPathComponent().path)
            admin = try await AdminHarness(fixture: fixture, storePath: admin.storePath)
            let after = try await admin.request("GET", "/v1/endpoints", key: key)
            #expect(after.text == before.text, "the rebuilt store answers as the one that ran")
        }
    }
}
