import SluiceKafka
import Testing

@testable import SluiceStage

@Suite("Replay turns across rebalances")
struct ReplayTurnsTests {
    let p0 = TopicPartition("sluice.redeliveries", 0)
    let p1 = TopicPartition("sluice.redeliveries", 1)

    @Test("waiters of a revoked partition abandon their records, and the rebalance is told how many not to wait for")
    func revokeAbandons() {
        var turns = ReplayTurns()
        let a = turns.enqueue(p0)
        let b = turns.enqueue(p0)
        let c = turns.enqueue(p1)
        let aGoes = turns.begin(a)  // its turn came before the rebalance: it delivers
        let abandoned = turns.revoke([p0])
        let bGoes = turns.begin(b)
        let cGoes = turns.begin(c)  // another partition is untouched
        #expect(aGoes)
        #expect(abandoned == [p0: 1])  // only b still waited
        #expect(!turns.isCurrent(b) && !bGoes)
        #expect(cGoes)
        #expect(turns.waiting(p1) == 0)
    }

    @Test("a partition assigned again starts a fresh count; stale waiters never touch it")
    func reassigned() {
        var turns = ReplayTurns()
        let old = turns.enqueue(p0)
        _ = turns.revoke([p0])
        let fresh = turns.enqueue(p0)
        #expect(turns.waiting(p0) == 1)
        turns.leave(old)  // a stale waiter leaving changes nothing
        let oldGoes = turns.begin(old)
        #expect(!oldGoes)
        #expect(turns.waiting(p0) == 1)
        let freshGoes = turns.begin(fresh)
        #expect(freshGoes)
        #expect(turns.waiting(p0) == 0)
        let abandoned = turns.revoke([p0])
        #expect(abandoned == [p0: 0])
    }

    @Test("a waiter that leaves at shutdown leaves the count")
    func leaveAtShutdown() {
        var turns = ReplayTurns()
        let a = turns.enqueue(p0)
        _ = turns.enqueue(p0)
        turns.leave(a)
        #expect(turns.waiting(p0) == 1)
        let abandoned = turns.revoke([p0, p1])
        #expect(abandoned == [p0: 1, p1: 0])
    }
}
