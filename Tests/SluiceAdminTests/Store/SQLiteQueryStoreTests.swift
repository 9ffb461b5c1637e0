import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceAdmin

@Suite("SQLite query store")
struct SQLiteQueryStoreTests {
    func makeStore() throws -> (SQLiteQueryStore, String) {
        let path = Scratch.path("store") + "/store.sqlite"
        return (try SQLiteQueryStore(path: path), path)
    }

    func endpoint(_ id: String, tenant: String, createdAt: TimeInterval, revision: Int = 1) -> Endpoint {
        var e = Endpoint(
            id: id, tenant: tenant, url: "https://hooks.example.com/\(id)", filter: .all, sealedSecret: "sbox1:k1:sealed",
            now: Date(timeIntervalSince1970: createdAt))
        e.revision = revision
        return e
    }

    func attempt(_ n: Int, tenant: String, endpoint: String, at: TimeInterval) -> StoredAttempt {
        let event = Event.structured(id: "evt-\(n)", source: "/t", type: "t.x", tenant: tenant, data: .null)
        let delivery = Delivery(event: event, endpointID: endpoint, now: Date(timeIntervalSince1970: at))
        let a = Attempt(delivery: delivery, at: Date(timeIntervalSince1970: at), status: 200, latencyMs: 5, errorClass: .none, outcome: .delivered)
        return StoredAttempt(partition: Int32(n % 2), offset: Int64(n), attempt: a)
    }

    @Test("a tenant scope sees only its tenant's rows; another tenant's id is as missing")
    func scoping() async throws {
        let (store, _) = try makeStore()
        var batch = StoreBatch()
        batch.endpoints = [.upsert(endpoint("ep_a", tenant: "acme", createdAt: 1_700_000_000)), .upsert(endpoint("ep_g", tenant: "globex", createdAt: 1_700_000_001))]
        batch.attempts = [attempt(1, tenant: "acme", endpoint: "ep_a", at: 1_700_000_010), attempt(2, tenant: "globex", endpoint: "ep_g", at: 1_700_000_011)]
        try await store.apply(batch)

        #expect(try await store.endpoint(id: "ep_a", scope: .tenant("acme"))?.id == "ep_a")
        #expect(try await store.endpoint(id: "ep_g", scope: .tenant("acme")) == nil)
        #expect(try await store.endpoint(id: "ep_g", scope: .admin)?.tenant == "globex")
        #expect(try await store.endpoints(scope: .tenant("acme"), tenant: nil, page: PageRequest()).items.map(\.id) == ["ep_a"])
        #expect(try await store.endpoints(scope: .tenant("acme"), tenant: "globex", page: PageRequest()).items.isEmpty)
        #expect(try await store.endpoints(scope: .admin, tenant: nil, page: PageRequest()).items.map(\.id) == ["ep_g", "ep_a"])
        #expect(try await store.attempts(scope: .tenant("globex"), filter: AttemptFilter(), page: PageRequest()).items.map(\.attempt.eventID) == ["evt-2"])
        #expect(try await store.attempts(scope: .tenant("globex"), filter: AttemptFilter(endpointID: "ep_a"), page: PageRequest()).items.isEmpty)
        await #expect(throws: QueryStoreError.self) {
            try await store.idempotentAnswer(scope: .tenant("acme"), tenant: "globex", key: "k", since: .distantPast)
        }
    }

    @Test("pages are newest first and the iterator continues exactly; a forged iterator is refused")
    func paging() async throws {
        let (store, _) = try makeStore()
        var batch = StoreBatch()
        batch.attempts = (0..<7).map { attempt($0, tenant: "acme", endpoint: "ep_a", at: 1_700_000_000 + Double($0 / 2)) }
        try await store.apply(batch)
        var seen: [String] = []
        var iterator: String?
        var pages = 0
        repeat {
            let page = try await store.attempts(scope: .admin, filter: AttemptFilter(), page: PageRequest(limit: 3, iterator: iterator))
            seen += page.items.map(\.attempt.eventID)
            iterator = page.iterator
            pages += 1
        } while iterator != nil && pages < 10
        #expect(seen == (0..<7).reversed().map { "evt-\($0)" })
        #expect(pages == 3)
        let window = try await store.attempts(
            scope: .admin, filter: AttemptFilter(since: Date(timeIntervalSince1970: 1_700_000_001), until: Date(timeIntervalSince1970: 1_700_000_002)),
            page: PageRequest())
        #expect(window.items.map(\.attempt.eventID) == ["evt-3", "evt-2"] && window.done)
        await #expect(throws: QueryStoreError.badIterator) {
            try await store.attempts(scope: .admin, filter: AttemptFilter(), page: PageRequest(iterator: "bm9wZQ"))
        }
    }

    @Test("a lower revision never replaces a higher one; a tombstone deletes; positions are kept with the rows")
    func revisionsAndPositions() async throws {
        let (store, path) = try makeStore()
        var batch = StoreBatch()
        batch.endpoints = [.upsert(endpoint("ep_a", tenant: "acme", createdAt: 1_700_000_000, revision: 3))]
        batch.positions = [TopicPartition("t.endpoints", 0): 5]
        try await store.apply(batch)
        var stale = StoreBatch()
        var old = endpoint("ep_a", tenant: "acme", createdAt: 1_700_000_000, revision: 2)
        old.url = "https://hooks.example.com/old"
        stale.endpoints = [.upsert(old)]
        try await store.apply(stale)
        #expect(try await store.endpoint(id: "ep_a", scope: .admin)?.revision == 3)
        #expect(try await store.sealingKeyIDs() == ["k1"])

        var delete = StoreBatch()
        delete.endpoints = [.delete(id: "ep_a")]
        delete.positions = [TopicPartition("t.endpoints", 0): 9]
        try await store.apply(delete)
        #expect(try await store.endpoint(id: "ep_a", scope: .admin) == nil)
        let reopened = try SQLiteQueryStore(path: path)
        #expect(try await reopened.positions(topic: "t.endpoints") == [TopicPartition("t.endpoints", 0): 9])
        #expect(try await reopened.positions(topic: "t.attempts").isEmpty)
    }

    @Test("idempotency answers are kept per tenant and key, within their window")
    func idempotency() async throws {
        let (store, _) = try makeStore()
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        try await store.rememberIdempotent(scope: .tenant("acme"), tenant: "acme", key: "k1", ids: ["evt_1", "evt_2"], at: at)
        #expect(try await store.idempotentAnswer(scope: .tenant("acme"), tenant: "acme", key: "k1", since: at.addingTimeInterval(-1)) == ["evt_1", "evt_2"])
        #expect(try await store.idempotentAnswer(scope: .admin, tenant: "acme", key: "k1", since: at.addingTimeInterval(1)) == nil)
        #expect(try await store.idempotentAnswer(scope: .admin, tenant: "globex", key: "k1", since: .distantPast) == nil)
    }
}
