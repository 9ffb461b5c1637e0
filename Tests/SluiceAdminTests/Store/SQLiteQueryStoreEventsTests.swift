import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceAdmin

@Suite("SQLite query store: attempt filters, the event index and retention")
struct SQLiteQueryStoreEventsTests {
    func makeStore() throws -> SQLiteQueryStore {
        try SQLiteQueryStore(path: Scratch.path("store") + "/store.sqlite")
    }

    func attempt(_ n: Int, tenant: String, status: Int?, outcome: Attempt.Outcome, at: TimeInterval) -> StoredAttempt {
        let event = Event.structured(id: "evt-\(n)", source: "/t", type: "t.x", tenant: tenant, data: .null)
        let delivery = Delivery(event: event, endpointID: "ep_\(tenant)", now: Date(timeIntervalSince1970: at))
        let a = Attempt(
            delivery: delivery, at: Date(timeIntervalSince1970: at), status: status, latencyMs: 5,
            errorClass: status == nil ? .timeout : (status == 200 ? .none : .httpStatus), outcome: outcome)
        return StoredAttempt(partition: 0, offset: Int64(n), attempt: a)
    }

    @Test("attempts filter by tenant, outcome and status class (none: no response), within the scope")
    func attemptFilters() async throws {
        let store = try makeStore()
        var batch = StoreBatch()
        batch.attempts = [
            attempt(1, tenant: "acme", status: 200, outcome: .delivered, at: 1_700_000_001),
            attempt(2, tenant: "acme", status: 503, outcome: .retrying, at: 1_700_000_002),
            attempt(3, tenant: "acme", status: nil, outcome: .deadLettered, at: 1_700_000_003),
            attempt(4, tenant: "globex", status: 404, outcome: .retrying, at: 1_700_000_004),
        ]
        try await store.apply(batch)
        func ids(_ scope: AccessScope, _ filter: AttemptFilter) async throws -> [String] {
            try await store.attempts(scope: scope, filter: filter, page: PageRequest()).items.map(\.attempt.eventID)
        }
        #expect(try await ids(.admin, AttemptFilter(tenant: "globex")) == ["evt-4"])
        #expect(try await ids(.tenant("acme"), AttemptFilter(tenant: "globex")).isEmpty, "a tenant filter cannot widen a tenant scope")
        #expect(try await ids(.admin, AttemptFilter(outcome: .retrying)) == ["evt-4", "evt-2"])
        #expect(try await ids(.tenant("acme"), AttemptFilter(outcome: .retrying)) == ["evt-2"])
        #expect(try await ids(.admin, AttemptFilter(statusClass: .serverError)) == ["evt-2"])
        #expect(try await ids(.admin, AttemptFilter(statusClass: .clientError)) == ["evt-4"])
        #expect(try await ids(.admin, AttemptFilter(statusClass: StatusClass.none)) == ["evt-3"])
        #expect(try await ids(.admin, AttemptFilter(outcome: .delivered, statusClass: .success)) == ["evt-1"])
    }

    @Test("events are found by id in the scope, newest first; retention deletes rows older than the cutoff and nothing newer")
    func eventsAndRetention() async throws {
        let store = try makeStore()
        var batch = StoreBatch()
        batch.events = [
            StoredEvent(topic: "t.events", partition: 1, offset: 7, eventID: "evt_1", tenant: "acme", eventType: "order.created", at: Date(timeIntervalSince1970: 1_700_000_000)),
            StoredEvent(topic: "t.events", partition: 2, offset: 3, eventID: "evt_1", tenant: "globex", eventType: "x", at: Date(timeIntervalSince1970: 1_700_000_500)),
            StoredEvent(topic: "t.deliveries", partition: 0, offset: 1, eventID: "test_1", tenant: "acme", eventType: "sluice.test", endpointID: "ep_a", at: Date(timeIntervalSince1970: 1_700_001_000)),
        ]
        batch.attempts = [attempt(1, tenant: "acme", status: 200, outcome: .delivered, at: 1_700_000_001), attempt(2, tenant: "acme", status: 200, outcome: .delivered, at: 1_700_001_001)]
        try await store.apply(batch)
        #expect(try await store.events(id: "evt_1", scope: .admin).map(\.tenant) == ["globex", "acme"])
        #expect(try await store.events(id: "evt_1", scope: .tenant("acme")).map(\.offset) == [7])
        #expect(try await store.events(id: "test_1", scope: .tenant("globex")).isEmpty)
        #expect(try await store.events(id: "test_1", scope: .admin).first?.endpointID == "ep_a")

        let removed = try await store.prune(olderThan: Date(timeIntervalSince1970: 1_700_000_600))
        #expect(removed == 3, "two events and one attempt were older")
        #expect(try await store.events(id: "evt_1", scope: .admin).isEmpty)
        #expect(try await store.events(id: "test_1", scope: .admin).count == 1)
        #expect(try await store.attempts(scope: .admin, filter: AttemptFilter(), page: PageRequest()).items.map(\.attempt.eventID) == ["evt-2"])
    }

    @Test("a test-send note indexes its event; any other ops record, or a note out of range, indexes nothing")
    func testSendNotes() throws {
        let fields = TestSendNote.fields(eventID: "test_1", eventType: "sluice.test", topic: "t.deliveries", partition: 3, offset: 9)
        var object: [String: JSONValue] = ["kind": .string("endpoint_test"), "endpoint_id": .string("ep_a"), "tenant": .string("acme"), "detail": .string("d"), "at": .number(1_700_000_000_000)]
        object.merge(fields) { a, _ in a }
        let bytes = Array(try JSONEncoder().encode(JSONValue.object(object)))
        let event = try #require(TestSendNote.event(in: bytes))
        #expect(event.eventID == "test_1" && event.endpointID == "ep_a" && event.partition == 3 && event.offset == 9 && event.topic == "t.deliveries")
        object["kind"] = .string("circuit_opened")
        #expect(TestSendNote.event(in: Array(try JSONEncoder().encode(JSONValue.object(object)))) == nil)
        object["kind"] = .string("endpoint_test")
        object["offset"] = .number(-1)
        #expect(TestSendNote.event(in: Array(try JSONEncoder().encode(JSONValue.object(object)))) == nil)
        #expect(TestSendNote.event(in: Array("not json".utf8)) == nil)
    }
}
