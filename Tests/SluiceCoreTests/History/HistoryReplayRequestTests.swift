import Foundation
import SluiceCore
import Testing

@Suite("History replay requests: which events go, and replay ids")
struct HistoryReplayRequestTests {
    let now = Date(timeIntervalSince1970: 1_764_064_800)

    func endpoint(tenant: String = "acme", filter: String = "order.*") throws -> Endpoint {
        Endpoint(id: "ep_1", tenant: tenant, url: "https://hooks.acme.test/in", filter: try EventTypeFilter(parsing: filter), sealedSecret: "sealed")
    }

    func event(tenant: String = "acme", type: String = "order.created") -> Event {
        Event.structured(id: "e1", source: "/t", type: type, tenant: tenant, data: .object([:]))
    }

    @Test("only the endpoint's tenant's events, of types its filter takes (narrowed by --types), published in the window")
    func selection() throws {
        let request = try HistoryReplayRequest(endpointID: "ep_1", since: "1h", until: nil, types: nil, onlyMissing: false, now: now)
        let at = now.addingTimeInterval(-60)
        #expect(request.selects(event(), publishedAt: at, endpoint: try endpoint()) == .take)
        #expect(request.selects(event(tenant: "globex"), publishedAt: at, endpoint: try endpoint()) == .otherTenant)
        #expect(request.selects(event(type: "invoice.paid"), publishedAt: at, endpoint: try endpoint()) == .otherType)
        #expect(request.selects(event(), publishedAt: now.addingTimeInterval(-7200), endpoint: try endpoint()) == .outsideWindow)
        let narrowed = try HistoryReplayRequest(endpointID: "ep_1", since: "1h", until: nil, types: "order.paid", onlyMissing: false, now: now)
        #expect(narrowed.selects(event(), publishedAt: at, endpoint: try endpoint()) == .otherType)
        #expect(narrowed.selects(event(type: "order.paid"), publishedAt: at, endpoint: try endpoint()) == .take)
        let wider = try HistoryReplayRequest(endpointID: "ep_1", since: "1h", until: nil, types: "invoice.*", onlyMissing: false, now: now)
        #expect(wider.selects(event(type: "invoice.paid"), publishedAt: at, endpoint: try endpoint()) == .otherType, "--types never widens the endpoint's filter")
    }

    @Test("the same flags give the same hr_ id on every run; other flags another; --replay-id names it and is checked")
    func replayIDs() throws {
        func id(_ since: String, onlyMissing: Bool = false, replayID: String? = nil) throws -> String {
            try HistoryReplayRequest(endpointID: "ep_1", since: since, until: nil, types: nil, onlyMissing: onlyMissing, replayID: replayID, now: now).replayID
        }
        let a = try id("2h")
        #expect(a.hasPrefix("hr_") && a.count == 15)
        #expect(try id("2h") == a)
        #expect(try HistoryReplayRequest(endpointID: "ep_1", since: "2h", until: nil, types: nil, onlyMissing: false, now: now.addingTimeInterval(600)).replayID == a)
        #expect(try id("3h") != a)
        #expect(try id("2h", onlyMissing: true) != a)
        #expect(try id("2h", replayID: "restore-2026-11-25") == "restore-2026-11-25")
        #expect(throws: HistoryReplayError.badReplayID("two words")) { try id("2h", replayID: "two words") }
        #expect(throws: HistoryReplayError.self) { try HistoryReplayRequest(endpointID: "ep_1", since: "2h", until: nil, types: "order*", onlyMissing: false, now: now) }
    }
}
