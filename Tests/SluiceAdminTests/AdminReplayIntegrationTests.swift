import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `POST /v1/dead-letters/replay` and `GET /v1/tasks/{id}` against the real executables:
/// the replay of `sluice dlq replay`, run as a task.
@Suite("sluice-admin dead-letter replay tasks (integration)")
struct AdminReplayIntegrationTests {
    @Test("dead letters replayed through the API: a dry run counts, a replay task reports progress to completion and delivers each once, a repeat sends nothing; another tenant sees no task")
    func replayTask() async throws {
        try await IntegrationTest.run { kafka in
            let pipeline = try await AdminPipeline(kafka, name: "replay", schedule: "0s")  // one attempt, then the DLQ
            defer { pipeline.kill() }
            let (fixture, receiver, key, other, admin) = (pipeline.fixture, pipeline.receiver, pipeline.key, pipeline.other, pipeline.admin)

            let created = try await admin.request("POST", "/v1/endpoints", key: key, json: #"{"url":"\#(receiver.url("/\(fixture.prefix)rp/status/500"))"}"#)
            let endpointID = try #require((created.json?["endpoint"] as? [String: Any])?["id"] as? String, "\(created)")
            var eventIDs: [String] = []
            for n in 0..<3 {
                let published = try await admin.request("POST", "/v1/events", key: key, json: #"{"type":"order.created","data":{"n":\#(n)}}"#)
                eventIDs += (published.json?["ids"] as? [String]) ?? []
            }
            let letters = try await admin.poll("GET", "/v1/dead-letters?endpoint_id=\(endpointID)", key: key, timeout: .seconds(120)) {
                (($0.json?["data"] as? [Any])?.count ?? 0) >= 3
            }
            #expect((letters.json?["data"] as? [Any])?.count == 3, "three dead letters; logs \(pipeline.logs)*: \(letters)")
            for (query, count) in [("type=order.*", 3), ("type=order.created", 3), ("type=invoice.*", 0), ("tenant=globex", 0)] {
                let listed = try await admin.request("GET", "/v1/dead-letters?endpoint_id=\(endpointID)&\(query)", key: key)
                #expect((listed.json?["data"] as? [Any])?.count == count, "\(query): \(listed)")
            }
            let fixed = receiver.url("/\(fixture.prefix)rp/fixed")
            #expect(try await admin.request("PATCH", "/v1/endpoints/\(endpointID)", key: key, json: #"{"url":"\#(fixed)"}"#).status == 200)

            func run(_ body: String, key: String) async throws -> [String: Any] {
                let started = try await admin.request("POST", "/v1/dead-letters/replay", key: key, json: body)
                guard started.status == 202, let id = started.json?["id"] as? String else { throw TestBrokerError("replay did not start: \(started)") }
                let done = try await admin.poll("GET", "/v1/tasks/\(id)", key: key, timeout: .seconds(120)) { $0.json?["state"] as? String != "running" }
                return done.json ?? [:]
            }
            let dry = try await run(#"{"endpoint_id":"\#(endpointID)","dry_run":true}"#, key: key)
            #expect(dry["state"] as? String == "succeeded" && dry["dry_run"] as? Bool == true, "\(dry)")
            #expect((dry["progress"] as? [String: Int])?["to_send"] == 3 && (dry["progress"] as? [String: Int])?["sent"] == 0, "\(dry)")

            let replay = try await run(#"{"endpoint_id":"\#(endpointID)","rate":100}"#, key: key)
            #expect(replay["state"] as? String == "succeeded" && (replay["progress"] as? [String: Int])?["sent"] == 3, "\(replay)")
            #expect((replay["replay_id"] as? String)?.hasPrefix("rp_") == true, "\(replay)")
            let delivered = try await receiver.awaitRequests(prefix: "/\(fixture.prefix)rp/fixed", atLeast: 3, timeout: .seconds(120))
            #expect(Set(delivered.compactMap { $0.headers["webhook-id"] }) == Set(eventIDs), "each dead letter delivered with its webhook-id")

            let repeated = try await run(#"{"endpoint_id":"\#(endpointID)","rate":100}"#, key: key)
            #expect((repeated["progress"] as? [String: Int])?["sent"] == 0 && (repeated["progress"] as? [String: Int])?["already_sent"] == 3, "\(repeated)")

            // Scoped: another tenant neither sees the task nor replays acme's dead letters.
            let taskID = try #require(replay["id"] as? String)
            let foreignTask = try await admin.request("GET", "/v1/tasks/\(taskID)", key: other)
            #expect(foreignTask.status == 404, "\(foreignTask)")
            let foreign = try await run(#"{"endpoint_id":"\#(endpointID)","dry_run":true}"#, key: other)
            #expect((foreign["progress"] as? [String: Int])?["matched"] == 0, "\(foreign)")
            let unfiltered = try await admin.request("POST", "/v1/dead-letters/replay", key: key, json: "{}")
            #expect(unfiltered.status == 422 && unfiltered.text.contains("dry_run"), "\(unfiltered)")
            #expect(try await admin.request("GET", "/v1/tasks/task_nothing", key: key).status == 404)
            #expect(try receiver.received(prefix: "/\(fixture.prefix)rp/fixed").count == 3, "the repeat sent nothing")
            #expect(!admin.log.contains("skipped a bad record"), "replay markers on the DLQ topic are not bad dead letters: \(admin.log.suffix(2000))")
            #expect(await pipeline.stopStages() == [0, 0], "the stages stop cleanly")
        }
    }
}
