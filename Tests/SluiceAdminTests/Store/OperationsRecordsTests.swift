import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage
import SluiceTestSupport
import Testing

@testable import SluiceAdmin

@Suite("Dead letters and ops events in the query store")
struct OperationsRecordsTests {
    func store() throws -> SQLiteQueryStore {
        try SQLiteQueryStore(path: Scratch.path("store") + "/store.sqlite")
    }

    func letter(_ n: Int, tenant: String, at: TimeInterval) -> StoredDeadLetter {
        let event = Event.structured(id: "evt-\(n)", source: "/t", type: "order.created", tenant: tenant, data: .null)
        var delivery = Delivery(event: event, endpointID: "ep_\(tenant)", now: Date(timeIntervalSince1970: at))
        delivery.attempt = 3
        let dead = DeadLetter(delivery: delivery, reason: "exhausted", finalError: "500", attempts: [], deadAt: Date(timeIntervalSince1970: at))
        return StoredDeadLetter(partition: 1, offset: Int64(n), letter: dead)
    }

    @Test("an ops record as the stages write it decodes; one out of bounds or not JSON is refused")
    func opsDecoding() throws {
        let record = OpsEvent.record(topic: "t.ops", kind: "endpoint_disabled", endpointID: "ep_1", tenant: "acme", detail: "410 Gone", at: Date(timeIntervalSince1970: 1_700_000_000))
        let event = try StoredOpsEvent(partition: 2, offset: 9, bytes: try #require(record.value))
        #expect(event.kind == "endpoint_disabled" && event.endpointID == "ep_1" && event.tenant == "acme" && event.id == "ops_2_9")
        #expect(event.at == Date(timeIntervalSince1970: 1_700_000_000))
        for bad in [#"{"kind":"x","endpoint_id":"e","tenant":"t","detail":"d","at":1e300}"#, "[]", #"{"kind":""}"#] {
            #expect(throws: WireError.self) { try StoredOpsEvent(partition: 0, offset: 0, bytes: Array(bad.utf8)) }
        }
    }

    @Test("lists are scoped, filtered and paged newest first")
    func lists() async throws {
        let store = try store()
        var batch = StoreBatch()
        batch.deadLetters = [letter(1, tenant: "acme", at: 1_700_000_000), letter(2, tenant: "acme", at: 1_700_000_001), letter(3, tenant: "globex", at: 1_700_000_002)]
        batch.opsEvents = [
            StoredOpsEvent(partition: 0, offset: 1, kind: "circuit_opened", endpointID: "ep_acme", tenant: "acme", detail: "5 failures", at: Date(timeIntervalSince1970: 1_700_000_000)),
            StoredOpsEvent(partition: 0, offset: 2, kind: "endpoint_disabled", endpointID: "ep_globex", tenant: "globex", detail: "410", at: Date(timeIntervalSince1970: 1_700_000_001)),
        ]
        try await store.apply(batch)
        let acme = try await store.deadLetters(scope: .tenant("acme"), filter: AttemptFilter(), page: PageRequest(limit: 1))
        #expect(acme.items.map(\.eventID) == ["evt-2"] && acme.items.first?.attempts == 3 && acme.items.first?.eventType == "order.created")
        let next = try await store.deadLetters(scope: .tenant("acme"), filter: AttemptFilter(), page: PageRequest(limit: 1, iterator: acme.iterator))
        #expect(next.items.map(\.eventID) == ["evt-1"] && next.done)
        #expect(try await store.deadLetters(scope: .admin, filter: AttemptFilter(endpointID: "ep_globex"), page: PageRequest()).items.map(\.id) == ["dlq_1_3"])
        func letters(_ scope: AccessScope, _ filter: AttemptFilter) async throws -> [String] {
            try await store.deadLetters(scope: scope, filter: filter, page: PageRequest()).items.map(\.eventID)
        }
        #expect(try await letters(.admin, AttemptFilter(tenant: "globex")) == ["evt-3"])
        #expect(try await letters(.tenant("acme"), AttemptFilter(tenant: "globex")).isEmpty, "a tenant filter cannot widen a tenant scope")
        for (type, expected) in [("order.*", ["evt-3", "evt-2", "evt-1"]), ("order.created", ["evt-3", "evt-2", "evt-1"]), ("order.paid", []), ("invoice.*", []), ("*", ["evt-3", "evt-2", "evt-1"]), ("orde.*", [])] {
            var filter = AttemptFilter()
            filter.eventType = type
            #expect(try await letters(.admin, filter) == expected, "type \(type)")
        }
        #expect(try await store.opsEvents(scope: .tenant("acme"), filter: OpsFilter(), page: PageRequest()).items.map(\.kind) == ["circuit_opened"])
        #expect(try await store.opsEvents(scope: .admin, filter: OpsFilter(kind: "endpoint_disabled"), page: PageRequest()).items.map(\.tenant) == ["globex"])
    }
}
