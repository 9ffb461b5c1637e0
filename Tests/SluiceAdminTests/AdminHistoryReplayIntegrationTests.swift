import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `POST /v1/endpoints/{id}/replay` and `GET /v1/tasks/{id}` against the real executables on
/// the shared Tansu: the history replay of `sluice events replay`, run as a task.
@Suite("sluice-admin history replay tasks (integration)")
struct AdminHistoryReplayIntegrationTests {
    @Test("an endpoint's past events replayed through the API: a dry run counts without sending, the replay delivers each once with its webhook-id and its task reaches completion with counts, the same replay again sends nothing, only_missing skips what was delivered; another tenant gets 404")
    func historyReplayTask() async throws {
        try await IntegrationTest.run { kafka in
            let pipeline = try await AdminPipeline(kafka, name: "history", schedule: "0s")
            defer { pipeline.kill() }
            let (fixture, receiver, key, other, admin) = (pipeline.fixture, pipeline.receiver, pipeline.key, pipeline.other, pipeline.admin)
            let (live, restored) = ("/\(fixture.prefix)hr/live", "/\(fixture.prefix)hr/restored")

            let created = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"\#(receiver.url(live))","types":["order.*"]}"#)
            let endpointID = try #require((created.json?["endpoint"] as? [String: Any])?["id"] as? String, "\(created)")
            // acme's matching events, one its filter does not take, and another tenant's.
            var eventIDs: [String] = []
            for n in 0..<3 {
                let published = try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"order.created","data":{"n":\#(n)}}"#)
                #expect(published.status == 202, "\(published)")
                eventIDs += (published.json?["ids"] as? [String]) ?? []
            }
            #expect(try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"invoice.paid","data":{}}"#).status == 202)
            #expect(try await admin.request("POST", "/v1/events", key: other, json: #"{"type":"order.created","data":{}}"#).status == 202)
            #expect(eventIDs.count == 3)
            let first = try await receiver.awaitRequests(prefix: live, atLeast: 3, timeout: .seconds(120))
            #expect(Set(first.compactMap { $0.headers["webhook-id"] }) == Set(eventIDs), "live deliveries; logs \(pipeline.logs)*")

            // The receiver lost what it got (say, a restored backup): it now listens elsewhere.
            #expect(try await admin.request("PATCH", "/v1/endpoints/\(endpointID)", key: key, json: #"{"url":"\#(receiver.url(restored))"}"#).status == 200)

            func run(_ body: String, key: String) async throws -> [String: Any] {
                let started = try await admin.request("POST", "/v1/endpoints/\(endpointID)/replay", key: key, json: body)
                guard started.status == 202, let id = started.json?["id"] as? String else { throw TestBrokerError("replay did not start: \(started)") }
                #expect(started.json?["kind"] as? String == "history_replay" && started.json?["endpoint_id"] as? String == endpointID, "\(started)")
                let done = try await admin.poll("GET", "/v1/tasks/\(id)", key: key, timeout: .seconds(300)) { $0.json?["state"] as? String != "running" }
                return done.json ?? [:]
            }
            func progress(_ task: [String: Any]) -> [String: Int] { (task["progress"] as? [String: Int]) ?? [:] }

            let dry = try await run(#"{"since":"1h","dry_run":true}"#, key: key)
            #expect(dry["state"] as? String == "succeeded" && dry["dry_run"] as? Bool == true, "\(dry)")
            #expect(progress(dry)["matched"] == 3 && progress(dry)["to_send"] == 3 && progress(dry)["sent"] == 0, "\(dry)")
            #expect((progress(dry)["read"] ?? 0) >= 5, "every record of the window read: \(dry)")
            #expect((dry["summary"] as? String)?.contains("would send 3 of 3") == true, "\(dry)")
            #expect(try receiver.received(prefix: restored).isEmpty, "a dry run sends nothing")

            let replay = try await run(#"{"since":"1h","rate":100}"#, key: key)
            #expect(replay["state"] as? String == "succeeded", "\(replay)")
            #expect(progress(replay)["matched"] == 3 && progress(replay)["to_send"] == 3 && progress(replay)["sent"] == 3, "\(replay)")
            let replayID = try #require(replay["replay_id"] as? String, "\(replay)")
            #expect(replayID.hasPrefix("hr_") && (replay["summary"] as? String)?.contains("sent 3 of 3") == true, "\(replay)")
            let delivered = try await receiver.awaitRequests(prefix: restored, atLeast: 3, timeout: .seconds(120))
            #expect(Set(delivered.compactMap { $0.headers["webhook-id"] }) == Set(eventIDs), "each event again with its webhook-id: \(delivered.map(\.headers))")

            // The same request names the same replay: nothing goes twice.
            let repeated = try await run(#"{"since":"1h","rate":100}"#, key: key)
            #expect(repeated["replay_id"] as? String == replayID, "\(repeated)")
            #expect(progress(repeated)["sent"] == 0 && progress(repeated)["already_sent"] == 3 && progress(repeated)["to_send"] == 0, "\(repeated)")
            // Every event has a 2xx attempt now: a replay of the missing ones has nothing to send.
            let attempts = try await admin.poll("GET", "/v1/attempts?endpoint_id=\(endpointID)&outcome=delivered", key: key, timeout: .seconds(120)) {
                (($0.json?["data"] as? [Any])?.count ?? 0) >= 6
            }
            #expect((attempts.json?["data"] as? [Any])?.count == 6, "three live and three replayed attempts: \(attempts)")
            let missing = try await run(#"{"since":"1h","only_missing":true,"replay_id":"missing-1"}"#, key: key)
            #expect(progress(missing)["already_delivered"] == 3 && progress(missing)["sent"] == 0, "\(missing)")

            // Scoped: another tenant's key neither replays acme's endpoint nor sees its task.
            let foreign = try await admin.request("POST", "/v1/endpoints/\(endpointID)/replay", key: other, json: #"{"since":"1h","dry_run":true}"#)
            #expect(foreign.status == 404 && foreign.contentType.hasPrefix("application/problem+json"), "\(foreign)")
            let taskID = try #require(replay["id"] as? String)
            #expect(try await admin.request("GET", "/v1/tasks/\(taskID)", key: other).status == 404)
            #expect(try await admin.request("GET", "/v1/tasks/\(taskID)", key: key).status == 200)

            // Refusals say what to do.
            let badTime = try await admin.request("POST", "/v1/endpoints/\(endpointID)/replay", key: key, json: #"{"since":"last tuesday"}"#)
            #expect(badTime.status == 422 && badTime.text.contains("is not a time"), "\(badTime)")
            let noSince = try await admin.request("POST", "/v1/endpoints/\(endpointID)/replay", key: key, json: "{}")
            #expect(noSince.status == 400 && noSince.contentType.hasPrefix("application/problem+json"), "\(noSince)")
            let gone = try await admin.request("POST", "/v1/endpoints/\(endpointID)/replay", key: key, json: #"{"since":"30d","until":"20d"}"#)
            #expect(gone.status == 422 && gone.text.contains("retention 7d"), "\(gone)")
            #expect(try await admin.request("POST", "/v1/endpoints/\(endpointID)/disable", key: key).status == 200)
            let disabled = try await admin.request("POST", "/v1/endpoints/\(endpointID)/replay", key: key, json: #"{"since":"1h","replay_id":"later"}"#)
            #expect(disabled.status == 409 && disabled.text.contains("/enable"), "\(disabled)")

            #expect(try receiver.received(prefix: restored).count == 3, "the repeat sent nothing, and no other tenant's event went")
            #expect(await pipeline.stopStages() == [0, 0], "the stages stop cleanly")
        }
    }
}
