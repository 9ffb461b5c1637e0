import Foundation
import SluiceCore
import Testing

@Suite("Delivery priority: live first attempts against background traffic")
struct DeliveryPriorityTests {
    let now = Date(timeIntervalSince1970: 1_764_064_800)

    @Test("a fanned-out first attempt is live; retries, deferred deliveries and replays (DLQ or history) are background")
    func background() {
        let event = Event.structured(id: "e1", source: "/t", type: "order.created", tenant: "acme", data: .object([:]))
        let live = Delivery(event: event, endpointID: "ep_1", now: now)
        #expect(!live.isBackground)
        var retry = live
        retry.attempt = 2
        #expect(retry.isBackground)
        var deferred = live
        deferred.passes = 1
        #expect(deferred.isBackground)
        let replayed = live.replayed(id: "hr_1a2b3c4d5e6f", now: now)
        #expect(replayed.attempt == 1 && replayed.passes == 0 && replayed.isBackground, "a replay stays background though its attempt count starts again")
    }
}
