import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceAdmin

@Suite("activity counts of the SQLite store")
struct ActivityStoreTests {
    func attempt(_ n: Int, tenant: String, endpoint: String, at: TimeInterval, status: Int?) -> StoredAttempt {
        let event = Event.structured(id: "evt-\(n)", source: "/t", type: "t.x", tenant: tenant, data: .null)
        let delivery = Delivery(event: event, endpointID: endpoint, now: Date(timeIntervalSince1970: at))
        let a = Attempt(
            delivery: delivery, at: Date(timeIntervalSince1970: at), status: status, latencyMs: 5, errorClass: status == nil ? .timeout : .none,
            outcome: status == 200 ? .delivered : .retrying)
        return StoredAttempt(partition: 0, offset: Int64(n), attempt: a)
    }

    @Test("counts per endpoint and bucket, in the scope, kept by the triggers through retention")
    func counts() async throws {
        let store = try SQLiteQueryStore(path: Scratch.path("activity") + "/store.sqlite")
        let hour: TimeInterval = 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 3600)
        var batch = StoreBatch()
        batch.attempts = [
            attempt(1, tenant: "acme", endpoint: "ep_a", at: hour + 10, status: 200),
            attempt(2, tenant: "acme", endpoint: "ep_a", at: hour + 70, status: 503),
            attempt(3, tenant: "acme", endpoint: "ep_a", at: hour + 3700, status: nil),
            attempt(4, tenant: "globex", endpoint: "ep_g", at: hour + 20, status: 204),
        ]
        try await store.apply(batch)
        let since = Date(timeIntervalSince1970: hour)

        let hourly = try await store.activity(scope: .admin, filter: ActivityFilter(since: since), bucketSeconds: 3600)
        #expect(hourly.map { [$0.endpointID, "\($0.start)", "\($0.attempts)", "\($0.succeeded)"] } == [
            ["ep_a", "\(Int64(hour))", "2", "1"], ["ep_g", "\(Int64(hour))", "1", "1"], ["ep_a", "\(Int64(hour) + 3600)", "1", "0"],
        ])
        let minutes = try await store.activity(scope: .tenant("acme"), filter: ActivityFilter(since: since, endpointID: "ep_a"), bucketSeconds: 60)
        #expect(minutes.map(\.attempts) == [1, 1, 1])
        #expect(minutes.allSatisfy { $0.tenant == "acme" })
        let later = try await store.activity(scope: .admin, filter: ActivityFilter(since: since.addingTimeInterval(3600)), bucketSeconds: 86_400)
        #expect(later.map(\.attempts) == [1])

        _ = try await store.prune(olderThan: since.addingTimeInterval(60))  // attempts 1 and 4 go
        let pruned = try await store.activity(scope: .admin, filter: ActivityFilter(since: since), bucketSeconds: 3600)
        #expect(pruned.map { [$0.endpointID, "\($0.attempts)", "\($0.succeeded)"] } == [["ep_a", "1", "0"], ["ep_a", "1", "0"]])
    }

    @Test("an attempt applied again (a feed read again from an older position) is counted once")
    func appliedTwice() async throws {
        let store = try SQLiteQueryStore(path: Scratch.path("activity") + "/store.sqlite")
        let hour: TimeInterval = 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 3600)
        var batch = StoreBatch()
        batch.attempts = [attempt(1, tenant: "acme", endpoint: "ep_a", at: hour + 10, status: 200), attempt(2, tenant: "acme", endpoint: "ep_a", at: hour + 20, status: 503)]
        try await store.apply(batch)
        try await store.apply(batch)
        let counts = try await store.activity(scope: .admin, filter: ActivityFilter(since: Date(timeIntervalSince1970: hour)), bucketSeconds: 3600)
        #expect(counts.map { [$0.attempts, $0.succeeded] } == [[2, 1]])
    }

    @Test("an attempt by its id, in the scope only; malformed ids are nil")
    func pointRead() async throws {
        let store = try SQLiteQueryStore(path: Scratch.path("activity") + "/store.sqlite")
        var batch = StoreBatch()
        batch.attempts = [attempt(7, tenant: "acme", endpoint: "ep_a", at: 1_800_000_000, status: 200)]
        try await store.apply(batch)
        #expect(try await store.attempt(id: "att_0_7", scope: .tenant("acme"))?.attempt.eventID == "evt-7")
        #expect(try await store.attempt(id: "att_0_7", scope: .tenant("globex")) == nil)
        for bad in ["att_0", "att_x_7", "att_0_7_1", "", "att_99999999999_7"] {
            #expect(try await store.attempt(id: bad, scope: .admin) == nil)
        }
        #expect(try await store.deadLetterCount(scope: .admin, tenant: nil) == 0)
    }
}
