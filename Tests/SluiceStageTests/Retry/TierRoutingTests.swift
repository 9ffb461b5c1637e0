import Foundation
import SluiceCore
import SluiceKafka
import Testing

@testable import SluiceStage

@Suite("Retry tier routing")
struct TierRoutingTests {
    let tiers = try! RetryTiers(parsing: "1m=2s,10m=5s,1h=10s")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func record(dueIn seconds: TimeInterval, headers: [KafkaHeader] = []) throws -> KafkaRecord {
        let event = Event.structured(id: "e1", source: "/t", type: "t.x", tenant: "acme", data: .object([:]))
        var delivery = Delivery(event: event, endpointID: "ep_1", now: now)
        delivery.notBefore = now.addingTimeInterval(seconds)
        return KafkaRecord(
            topic: "sluice.retry.1m", partition: 3, offset: 7, key: Array("ep_1".utf8), value: try delivery.wireBytes(),
            headers: [KafkaHeader("sluice-format", "delivery/1")] + headers)
    }

    @Test("a due delivery goes back to sluice.deliveries byte for byte, with how late it is")
    func due() throws {
        let routing = TierRouting(tier: .oneMinute, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
        let r = try record(dueIn: -0.25)
        guard case .forward(let out, let late) = routing.route(r, now: now) else { Issue.record("not forwarded"); return }
        #expect(out.topic == "sluice.deliveries" && out.key == r.key && out.value == r.value && out.headers == r.headers)
        #expect(abs(late - 0.25) < 0.001)
    }

    @Test("not yet due within the tier's delay: hold until not_before")
    func hold() throws {
        let routing = TierRouting(tier: .oneMinute, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
        guard case .hold(let until) = routing.route(try record(dueIn: 1.5), now: now) else { Issue.record("not held"); return }
        #expect(until == now.addingTimeInterval(1.5))
    }

    @Test("due later than a larger tier's delay: moved to the largest tier that fits")
    func move() throws {
        let routing = TierRouting(tier: .oneMinute, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
        guard case .move(let out, let to) = routing.route(try record(dueIn: 7), now: now) else { Issue.record("not moved"); return }
        #expect(to == .tenMinutes && out.topic == "sluice.retry.10m")
        guard case .move(_, let far) = routing.route(try record(dueIn: 60), now: now) else { Issue.record("not moved"); return }
        #expect(far == .oneHour)
    }

    @Test("the largest tier sends a much later delivery round again, and holds it only until its revisit time")
    func largestTier() throws {
        let routing = TierRouting(tier: .oneHour, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
        guard case .move(let out, let to) = routing.route(try record(dueIn: 100), now: now) else { Issue.record("not moved"); return }
        #expect(to == .oneHour && out.topic == "sluice.retry.1h")
        let revisit = try #require(out.headers[header: TierRouting.revisitHeader]?.stringValue)
        #expect(revisit == String(Int64((now.timeIntervalSince1970 + 10) * 1000)))
        let again = try record(dueIn: 100, headers: [KafkaHeader(TierRouting.revisitHeader, revisit)])
        guard case .hold(let until) = routing.route(again, now: now.addingTimeInterval(1)) else { Issue.record("not held"); return }
        #expect(until == now.addingTimeInterval(10))
        guard case .move(let third, _) = routing.route(again, now: now.addingTimeInterval(10.5)) else { Issue.record("not moved"); return }
        #expect(third.headers.filter { $0.key == TierRouting.revisitHeader }.count == 1, "one revisit header, replaced")
    }

    @Test("a record that is not a delivery is rejected with the reason and its source")
    func reject() throws {
        let routing = TierRouting(tier: .oneMinute, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
        let bad = KafkaRecord(topic: "sluice.retry.1m", partition: 0, offset: 9, key: nil, value: Array("not json".utf8), headers: [])
        guard case .reject(let out, let reason) = routing.route(bad, now: now) else { Issue.record("not rejected"); return }
        #expect(out.topic == "sluice.rejected" && out.value == bad.value && reason.contains("not a delivery"))
        #expect(out.headers[header: Rejection.reasonHeader]?.stringValue == "bad_delivery")
        #expect(out.headers[header: "sluice-source"]?.stringValue == "sluice.retry.1m/0/9")
    }

    @Test("past its max age a delivery goes on to dispatch (which parks it), whatever its not_before")
    func expired() throws {
        let routing = TierRouting(tier: .oneHour, tiers: tiers, maxAge: .seconds(30), prefix: "sluice.")
        // Created at `now`, due in a year: at now + 31 s it is past its 30 s age.
        guard case .forward(let out, _) = routing.route(try record(dueIn: 365 * 86_400), now: now.addingTimeInterval(31)) else { Issue.record("not forwarded"); return }
        #expect(out.topic == "sluice.deliveries")
        guard case .hold(let until) = routing.route(try record(dueIn: 8), now: now) else { Issue.record("not held"); return }
        #expect(until == now.addingTimeInterval(8))
    }

    @Test("a forged revisit header far ahead cannot hold the partition; a delivery created in the future is rejected")
    func forgedHeaders() throws {
        let routing = TierRouting(tier: .oneHour, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
        let farAhead = String(Int64((now.timeIntervalSince1970 + 86_400 * 300) * 1000))
        let forged = try record(dueIn: 100, headers: [KafkaHeader(TierRouting.revisitHeader, farAhead)])
        guard case .move(let out, _) = routing.route(forged, now: now) else { Issue.record("held by a forged header"); return }
        #expect(out.headers.filter { $0.key == TierRouting.revisitHeader }.count == 1)
        let event = Event.structured(id: "e1", source: "/t", type: "t.x", tenant: "acme", data: .object([:]))
        let future = Delivery(event: event, endpointID: "ep_1", now: now.addingTimeInterval(86_400 * 100))
        let r = KafkaRecord(topic: "sluice.retry.1h", partition: 0, offset: 1, key: nil, value: try future.wireBytes())
        guard case .reject(_, let reason) = routing.route(r, now: now) else { Issue.record("not rejected"); return }
        #expect(reason.contains("created_at"))
    }
}
