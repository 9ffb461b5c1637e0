import Foundation
import SluiceCore
import Testing

@Suite("Dead-letter filters, replay ids and time text")
struct DeadLetterFilterTests {
    let now = Date(timeIntervalSince1970: 1_764_064_800)

    func dead(endpoint: String = "ep_1", tenant: String = "acme", type: String = "order.created", id: String = "e1") -> DeadLetter {
        let event = Event.structured(id: id, source: "/t", type: type, tenant: tenant, data: .object([:]))
        return DeadLetter(delivery: Delivery(event: event, endpointID: endpoint, now: now), reason: "exhausted", finalError: "HTTP 500", attempts: [], deadAt: now)
    }

    @Test("each filter narrows; an empty filter takes everything; since is inclusive, until exclusive")
    func matching() {
        #expect(DeadLetterFilter().matches(dead(), parkedAt: nil))
        #expect(DeadLetterFilter(endpointID: "ep_1").matches(dead(), parkedAt: nil))
        #expect(!DeadLetterFilter(endpointID: "ep_2").matches(dead(), parkedAt: nil))
        #expect(!DeadLetterFilter(tenant: "globex").matches(dead(), parkedAt: nil))
        #expect(DeadLetterFilter(eventType: "order.*").matches(dead(), parkedAt: nil))
        #expect(!DeadLetterFilter(eventType: "invoice.paid").matches(dead(), parkedAt: nil))
        #expect(!DeadLetterFilter(eventID: "e2").matches(dead(), parkedAt: nil))
        let window = DeadLetterFilter(since: now, until: now.addingTimeInterval(60))
        #expect(window.matches(dead(), parkedAt: now))
        #expect(!window.matches(dead(), parkedAt: now.addingTimeInterval(60)))
        #expect(!window.matches(dead(), parkedAt: now.addingTimeInterval(-0.001)))
        #expect(window.matches(dead(), parkedAt: nil), "without a record time, dead_at decides")
    }

    @Test("the same filters give the same replay id; different ones a different id")
    func replayIDs() {
        let a = DeadLetterFilter.replayID(for: ["endpoint=ep_1"])
        #expect(a == DeadLetterFilter.replayID(for: ["endpoint=ep_1"]))
        #expect(a != DeadLetterFilter.replayID(for: ["endpoint=ep_2"]))
        #expect(a.hasPrefix("rp_") && a.count == 15)
    }

    @Test("a replayed delivery keeps its event id and body, resets its attempts, and is due now")
    func replayed() {
        var delivery = dead().delivery
        delivery.attempt = 5
        delivery.firstAttemptAt = now.addingTimeInterval(-3600)
        delivery.history = [.init(attempt: 1, at: now, status: 500, errorClass: .httpStatus)]
        let again = delivery.replayed(id: "rp_x", now: now)
        #expect(again.eventID == delivery.eventID && again.body == delivery.body && again.endpointID == delivery.endpointID)
        #expect(again.attempt == 1 && again.firstAttemptAt == nil && again.notBefore == now && again.replayID == "rp_x" && again.history.isEmpty)
    }

    @Test("times: ISO 8601, dates, unix seconds and durations ago; anything else is nil")
    func times() {
        #expect(TimeText.parse("2h", now: now) == now.addingTimeInterval(-7200))
        #expect(TimeText.parse("1764064800", now: now) == now)
        #expect(TimeText.parse("2025-11-25T10:00:00Z", now: now) == now)
        #expect(TimeText.parse("2025-11-25T10:00:00.500Z", now: now) == now.addingTimeInterval(0.5))
        #expect(TimeText.parse("2025-11-25", now: now) == now.addingTimeInterval(-36000))
        #expect(TimeText.parse("yesterday", now: now) == nil)
    }
}
