import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two tenants with endpoints, events, attempts, dead letters, ops events and a task,
/// against the real executables: neither reaches the other's objects on any route, and a
/// store deleted and rebuilt from the topics answers exactly as the one that ran.
@Suite("sluice-admin tenant isolation and store rebuild (integration)")
struct AdminIsolationIntegrationTests {
    /// One tenant's objects, made over HTTP.
    struct Tenant {
        var name: String
        var key: String
        var endpoints: [String] = []
        var events: [String] = []
        var task = ""
    }

    @Test("every route called with the other tenant's ids answers 404 and lists leak nothing; the store rebuilt from the topics equals the one that ran")
    func isolationAndRebuild() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let root = try await AdminHarness.createKey(fixture: fixture, tenant: nil)
            var tenants = [
                Tenant(name: "acme", key: try await AdminHarness.createKey(fixture: fixture, tenant: "acme")),
                Tenant(name: "globex", key: try await AdminHarness.createKey(fixture: fixture, tenant: "globex")),
            ]
            var admin = try await AdminHarness(fixture: fixture)
            defer { admin.kill() }
            var env = fixture.environment(instance: "iso")
            env["SLUICE_ALLOW_PRIVATE"] = "1"
            env["SLUICE_ALLOW_HTTP"] = "1"
            env["SLUICE_RETRY_SCHEDULE"] = "0s"  // one attempt, then the DLQ
            let logs = NSTemporaryDirectory() + "sluice-admin-iso-\(fixture.prefix)"
            var pids = [
                try fixture.spawn("sluice-dispatch", [], environment: env, log: logs + "dispatch.log"),
                try fixture.spawn("sluice-fanout", [], environment: env, log: logs + "fanout.log"),
            ]
            defer { for pid in pids { kill(pid, SIGKILL) } }

            for i in tenants.indices {
                let t = tenants[i]
                for path in ["ok", "status/500", "status/410"] {
                    let url = receiver.url("/\(fixture.prefix)iso/\(t.name)/\(path)")
                    let created = try await admin.request("POST", "/v1/endpoints", key: t.key, json: #"{"url":"\#(url)"}"#)
                    tenants[i].endpoints.append(try #require((created.json?["endpoint"] as? [String: Any])?["id"] as? String, "\(created)"))
                }
                let published = try await admin.request("POST", "/v1/events", key: t.key, json: #"{"type":"order.created","data":{"tenant":"\#(t.name)"}}"#)
                tenants[i].events += try #require(published.json?["ids"] as? [String], "\(published)")
                let tested = try await admin.request("POST", "/v1/endpoints/\(tenants[i].endpoints[0])/test", key: t.key)
                tenants[i].events.append(try #require(tested.json?["event_id"] as? String, "\(tested)"))
            }
            // Everything has happened: 3 + 1 attempts, a dead letter from the 500, and the 410's ops event per tenant.
            for t in tenants {
                let done = await waitUntil(timeout: .seconds(120), interval: .milliseconds(250)) {
                    func count(_ path: String) async -> Int { ((try? await admin.request("GET", path, key: t.key))?.json?["data"] as? [Any])?.count ?? 0 }
                    let (attempts, letters, disabled) = (
                        await count("/v1/attempts"), await count("/v1/dead-letters"), await count("/v1/ops-events?kind=endpoint_disabled")
                    )
                    return attempts >= 4 && letters >= 2 && disabled >= 1
                }
                #expect(done, "\(t.name)'s deliveries did not all finish; logs \(logs)*")
            }
            for i in tenants.indices {
                let started = try await admin.request("POST", "/v1/dead-letters/replay", key: tenants[i].key, json: #"{"dry_run":true}"#)
                tenants[i].task = try #require(started.json?["id"] as? String, "\(started)")
            }
            for pid in pids { #expect(await AdminHarness.stop(pid) == 0) }
            pids = []

            for (me, other) in [(tenants[0], tenants[1]), (tenants[1], tenants[0])] {
                let (endpoint, event) = (other.endpoints[0], other.events[0])
                var calls: [(String, String, String?)] = [("GET", "/v1/tasks/\(other.task)", nil)]
                for id in other.endpoints {
                    calls += [
                        ("GET", "/v1/endpoints/\(id)", nil), ("PATCH", "/v1/endpoints/\(id)", #"{"timeout":"5s"}"#), ("DELETE", "/v1/endpoints/\(id)", nil),
                        ("POST", "/v1/endpoints/\(id)/enable", nil), ("POST", "/v1/endpoints/\(id)/disable", nil),
                        ("POST", "/v1/endpoints/\(id)/rotate-secret", nil), ("POST", "/v1/endpoints/\(id)/test", nil), ("GET", "/v1/endpoints/\(id)/stats", nil),
                        ("POST", "/v1/endpoints/\(id)/replay", #"{"since":"1h"}"#), ("POST", "/v1/endpoints/\(id)/replay", #"{"since":"1h","dry_run":true}"#),
                    ]
                }
                for id in other.events {
                    calls += [("GET", "/v1/events/\(id)", nil), ("POST", "/v1/events/\(id)/endpoints/\(endpoint)/resend", nil)]
                }
                calls.append(("POST", "/v1/events/\(event)/endpoints/\(me.endpoints[0])/resend", nil))
                for (method, path, body) in calls {
                    let answer = try await admin.request(method, path, key: me.key, json: body)
                    #expect(answer.status == 404, "\(me.name) \(method) \(path): \(answer)")
                    #expect(!answer.text.contains(other.name) && !answer.text.contains("/iso/"), "\(me.name) \(method) \(path) leaks: \(answer)")
                }
                var lists = ["/v1/endpoints", "/v1/attempts", "/v1/dead-letters", "/v1/ops-events", "/v1/endpoints?tenant=\(other.name)", "/v1/attempts?tenant=\(other.name)"]
                for id in other.endpoints { lists += ["/v1/attempts?endpoint_id=\(id)", "/v1/dead-letters?endpoint_id=\(id)", "/v1/ops-events?endpoint_id=\(id)"] }
                for id in other.events { lists += ["/v1/attempts?event_id=\(id)", "/v1/dead-letters?event_id=\(id)"] }
                for path in lists {
                    let answer = try await admin.request("GET", path, key: me.key)
                    #expect(answer.status == 200 && !answer.text.contains(other.name) && !other.endpoints.contains(where: answer.text.contains), "\(me.name) GET \(path) leaks: \(answer)")
                }
                let foreignReplay = try await admin.request("POST", "/v1/dead-letters/replay", key: me.key, json: #"{"tenant":"\#(other.name)","dry_run":true}"#)
                #expect(foreignReplay.status == 422, "\(foreignReplay)")
            }

            // The store, deleted and rebuilt from the topics, answers as the one that ran.
            var reads = ["/v1/endpoints?limit=250", "/v1/attempts?limit=250", "/v1/dead-letters?limit=250", "/v1/ops-events?limit=250"]
            for t in tenants { reads += t.events.map { "/v1/events/\($0)" } + t.endpoints.map { "/v1/endpoints/\($0)" } }
            var before: [String: String] = [:]
            for path in reads { before[path] = try await admin.request("GET", path, key: root).text }
            #expect(before["/v1/attempts?limit=250"]?.contains("globex") == true && before["/v1/attempts?limit=250"]?.contains("acme") == true)
            #expect(await admin.stop() == 0)
            try FileManager.default.removeItem(atPath: URL(fileURLWithPath: admin.storePath).deletingLastPathComponent().path)
            admin = try await AdminHarness(fixture: fixture, storePath: admin.storePath)
            for path in reads {
                let after = try await admin.request("GET", path, key: root)
                #expect(after.text == before[path], "\(path) differs after the rebuild:\nbefore \(before[path] ?? "")\nafter  \(after.text)")
            }
        }
    }
}
