import Foundation
import SluiceCore
import Testing

@testable import SluiceAdmin

@Suite("Event delivery state")
struct EventDeliveryStateTests {
    func attempt(_ endpoint: String, _ n: Int, outcome: Attempt.Outcome, at: TimeInterval, next: TimeInterval? = nil) -> StoredAttempt {
        let event = Event.structured(id: "evt_1", source: "/t", type: "t.x", tenant: "acme", data: .null)
        var a = Attempt(
            delivery: Delivery(event: event, endpointID: endpoint, now: Date(timeIntervalSince1970: at)), at: Date(timeIntervalSince1970: at),
            status: outcome == .delivered ? 200 : 500, latencyMs: 1, errorClass: outcome == .delivered ? .none : .httpStatus, outcome: outcome)
        a.nextAttemptAt = next.map { Date(timeIntervalSince1970: $0) }
        return StoredAttempt(partition: 0, offset: Int64(n), attempt: a)
    }

    func letter(_ endpoint: String, at: TimeInterval) -> StoredDeadLetter {
        StoredDeadLetter(
            partition: 1, offset: 5, eventID: "evt_1", endpointID: endpoint, tenant: "acme", eventType: "t.x", reason: "max_age", finalError: "old",
            attempts: 2, deadAt: Date(timeIntervalSince1970: at), replayID: nil)
    }

    @Test("the newest record decides: delivered, retrying with its next time, dead (a dead letter at least as new), pending without any")
    func derive() {
        let states = EventDeliveryState.derive(
            attempts: [
                attempt("ep_ok", 2, outcome: .delivered, at: 20), attempt("ep_ok", 1, outcome: .retrying, at: 10, next: 20),
                attempt("ep_retry", 3, outcome: .retrying, at: 10, next: 70),
                attempt("ep_dead", 4, outcome: .retrying, at: 10, next: 70),
                attempt("ep_again", 5, outcome: .retrying, at: 200, next: 260),
            ],
            deadLetters: [letter("ep_dead", at: 90), letter("ep_again", at: 100)],
            expected: ["ep_new", "ep_ok"])
        let byID = Dictionary(uniqueKeysWithValues: states.map { ($0.endpointID, $0) })
        #expect(states.map(\.endpointID) == ["ep_new", "ep_ok", "ep_again", "ep_dead", "ep_retry"])
        #expect(byID["ep_new"]?.state == .pending && byID["ep_new"]?.attempts.isEmpty == true)
        #expect(byID["ep_ok"]?.state == .delivered && byID["ep_ok"]?.attempts.map(\.offset) == [1, 2], "attempts oldest first")
        #expect(byID["ep_retry"]?.state == .retrying && byID["ep_retry"]?.nextAttemptAt == Date(timeIntervalSince1970: 70))
        #expect(byID["ep_dead"]?.state == .dead && byID["ep_dead"]?.deadLetterID == "dlq_1_5")
        #expect(byID["ep_again"]?.state == .retrying, "a replay after the dead letter is retrying again")
    }
}
