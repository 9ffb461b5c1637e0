import Foundation
import SluiceKafka
import Testing

@testable import SluiceStage

@Suite("Retry tier holds")
struct TierHoldsTests {
    let p0 = TopicPartition("sluice.retry.1m", 0)
    let p1 = TopicPartition("sluice.retry.1m", 1)
    let due = Date(timeIntervalSince1970: 1_000)

    @Test("a hold pauses at the head and schedules a wake-up; the wake resumes; only the head is accepted after it")
    func holdAndWake() throws {
        var holds = TierHolds()
        let actions = holds.hold(p0, at: 42, until: due)
        #expect(actions.first == .pause(p0))
        guard case .wake(let tp, let at, let generation) = actions.last else { Issue.record("no wake-up"); return }
        #expect(tp == p0 && at == due)
        #expect(holds.isHeld(p0) && !holds.isHeld(p1))
        let r1 = holds.accepts(p0, offset: 43)
        #expect(!r1, "a record fetched before the hold is stale")
        let r2 = holds.accepts(p1, offset: 7)
        #expect(r2, "other partitions are unaffected")
        #expect(holds.nextDue == due && holds.heldCount == 1)
        let r3 = holds.wake(p0, generation: generation)
        #expect(r3 == [.resume([p0]), .seek(p0, to: 42)])
        let r4 = holds.wake(p0, generation: generation)
        #expect(r4 == [], "a second wake-up does nothing")
        let r5 = holds.accepts(p0, offset: 44)
        #expect(!r5, "after the resume, still only the head")
        let r6 = holds.accepts(p0, offset: 42)
        #expect(r6)
        let r7 = holds.accepts(p0, offset: 43)
        #expect(r7, "past the head, the partition flows again")
        #expect(holds.heldCount == 0)
    }

    @Test("a head due at once wakes before the batch is routed on: the rest of the batch still waits for the head, and the commit never passes it")
    func wokenDuringBatch() throws {
        var holds = TierHolds()
        let hold = holds.hold(p0, at: 48, until: due)
        guard case .wake(_, _, let generation) = hold.last else { Issue.record("no wake-up"); return }
        _ = holds.wake(p0, generation: generation)  // the timer fired while the batch is still routed
        let skipped = holds.skipIfHeld(p0, offset: 49)
        #expect(skipped, "49 must not be routed before 48 comes back")
        #expect(holds.commitOffset(p0, next: 48) == 48)
        let head = holds.accepts(p0, offset: 48)
        #expect(head)
        holds.handled(p0, offset: 48)
        #expect(holds.commitOffset(p0, next: 49) == 49, "the skipped 49 is below nothing unhandled but itself")
        #expect(holds.commitOffset(p0, next: 50) == 49, "never past the skipped 49 until it is handled")
    }

    @Test("a partition revoked while held and assigned again is resumed; the old wake-up is ignored")
    func revokedWhilePaused() throws {
        var holds = TierHolds()
        guard case .wake(_, _, let old) = holds.hold(p0, at: 5, until: due).last else { Issue.record("no wake-up"); return }
        holds.revoked([p0])
        #expect(!holds.isHeld(p0))
        let r8 = holds.assigned([p0, p1])
        #expect(r8 == [.resume([p0, p1])], "every assignment starts unpaused")
        let r9 = holds.wake(p0, generation: old)
        #expect(r9 == [], "a timer from before the revocation does nothing")
        let r10 = holds.accepts(p0, offset: 5)
        #expect(r10)
    }

    @Test("a newer hold of the same partition replaces the older one's wake-up")
    func newerHold() throws {
        var holds = TierHolds()
        guard case .wake(_, _, let first) = holds.hold(p0, at: 5, until: due).last else { Issue.record("no wake-up"); return }
        guard case .wake(_, _, let second) = holds.hold(p0, at: 9, until: due.addingTimeInterval(5)).last else { Issue.record("no wake-up"); return }
        let r11 = holds.wake(p0, generation: first)
        #expect(r11 == [])
        let r12 = holds.wake(p0, generation: second)
        #expect(r12 == [.resume([p0]), .seek(p0, to: 9)])
        let r13 = holds.accepts(p0, offset: 9)
        #expect(r13)
    }

    @Test("a resumed partition whose head does not come back is sought to it again, not before the patience runs out")
    func stalled() throws {
        var holds = TierHolds()
        guard case .wake(_, _, let generation) = holds.hold(p0, at: 5, until: due).last else { Issue.record("no wake-up"); return }
        _ = holds.wake(p0, generation: generation, now: due)
        let early = holds.stalled(now: due.addingTimeInterval(1), patience: 5)
        #expect(early == [])
        let late = holds.stalled(now: due.addingTimeInterval(6), patience: 5)
        #expect(late == [.seek(p0, to: 5)])
        let accepted = holds.accepts(p0, offset: 5)
        #expect(accepted)
        let after = holds.stalled(now: due.addingTimeInterval(20), patience: 5)
        #expect(after == [], "nothing to seek once the head came back")
    }

    @Test("a head that keeps not coming back is sought at growing intervals (each seek discards the fetch in flight), up to the cap")
    func stalledBacksOff() throws {
        var holds = TierHolds()
        guard case .wake(_, _, let generation) = holds.hold(p0, at: 5, until: due).last else { Issue.record("no wake-up"); return }
        _ = holds.wake(p0, generation: generation, now: due)
        var seeks: [TimeInterval] = []
        var t: TimeInterval = 0
        while t < 20 {
            t += 0.01
            if !holds.stalled(now: due.addingTimeInterval(t), patience: 0.3, maxPatience: 2).isEmpty { seeks.append(t) }
        }
        let gaps = zip(seeks.dropFirst(), seeks).map { $0 - $1 }
        #expect(seeks.first.map { $0 >= 0.3 && $0 < 0.32 } == true, "the first after 0.3 s: \(seeks)")
        #expect(zip(gaps.dropFirst(), gaps).allSatisfy { $0 >= $1 - 0.02 }, "never sooner than the last gap: \(gaps)")
        #expect(gaps.prefix(3).map { ($0 * 10).rounded() / 10 } == [0.6, 1.2, 2.0] && gaps.last.map { abs($0 - 2) < 0.02 } == true, "\(gaps)")
    }

    @Test("a hold whose wake-up never came is woken once its head is overdue by the grace; a head that keeps not coming back is resumed again every third seek")
    func lostWakeUpAndResume() throws {
        var holds = TierHolds()
        _ = holds.hold(p0, at: 7, until: due)
        #expect(holds.stalled(now: due.addingTimeInterval(1.9), grace: 2) == [], "not before the grace")
        let overdue = holds.stalled(now: due.addingTimeInterval(2), grace: 2)
        #expect(overdue == [.resume([p0]), .seek(p0, to: 7)])
        #expect(holds.overdueWakes == 1 && !holds.isHeld(p0))
        var actions: [[TierHolds.Action]] = []
        var t: TimeInterval = 2
        while actions.count < 6 {
            t += 0.05
            let next = holds.stalled(now: due.addingTimeInterval(t), patience: 0.3, maxPatience: 1)
            if !next.isEmpty { actions.append(next) }
        }
        let seek: [TierHolds.Action] = [.seek(p0, to: 7)], both: [TierHolds.Action] = [.resume([p0]), .seek(p0, to: 7)]
        #expect(actions == [seek, seek, both, seek, seek, both], "\(actions)")
        #expect(holds.accepts(p0, offset: 7) && holds.overdueWakes == 1)
    }

    @Test("an aborted batch restarts its partitions unheld")
    func restart() {
        var holds = TierHolds()
        _ = holds.hold(p0, at: 5, until: due)
        let r14 = holds.restart([p0])
        #expect(r14 == [.resume([p0])])
        let r15 = holds.accepts(p0, offset: 3)
        #expect(r15)
    }
}
