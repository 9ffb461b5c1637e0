import Foundation
import SluiceCore
import Testing

@Suite("replay lane: replays at the pace live traffic allows")
struct ReplayLaneTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func lane(rate: Double = 100) -> ReplayLane {
        var config = ReplayLane.Config()
        config.initialRate = rate
        return ReplayLane(config: config, now: t0)
    }

    @Test("turns are handed out at the rate, with no burst credit after a quiet spell")
    func turns() {
        var lane = lane(rate: 100)
        // Waits are whole milliseconds rounded up: within 1 ms of the turn.
        func near(_ wait: Duration, _ ms: Int64) -> Bool { wait >= .milliseconds(ms) && wait <= .milliseconds(ms + 1) }
        let waits = (0..<5).map { _ in lane.admit(now: t0).wait }
        #expect(zip(waits, [0, 10, 20, 30, 40]).allSatisfy { near($0, $1) }, "\(waits)")
        // A minute later the next one goes at once, and the one after waits a full turn.
        let later = t0.addingTimeInterval(60)
        #expect(lane.admit(now: later).wait == .zero)
        #expect(near(lane.admit(now: later).wait, 10))
    }

    @Test("reading pauses once more than holdAhead of turns are handed out, and resumes below half of it")
    func holdAndResume() {
        var lane = lane(rate: 100)  // 500 ms ahead = 50 turns
        var actions: [ReplayLane.Action] = []
        for _ in 0..<60 { if let action = lane.admit(now: t0).action { actions.append(action) } }
        #expect(actions == [.pause] && lane.paused)
        #expect(lane.tick(now: t0.addingTimeInterval(0.2)) == nil, "still 400 ms of turns ahead")
        #expect(lane.tick(now: t0.addingTimeInterval(0.4)) == .resume)
        #expect(!lane.paused)
    }

    @Test("late live deliveries halve the rate once per window; on-time ones let waiting replays speed up")
    func adapts() {
        var lane = lane(rate: 100)
        // A window in which 2 of 10 live deliveries were late: halved, once.
        for n in 0..<10 { _ = lane.live(lag: .milliseconds(n < 2 ? 900 : 20), now: t0.addingTimeInterval(0.5)) }
        _ = lane.tick(now: t0.addingTimeInterval(1))
        #expect(lane.rate == 50)
        // One late in 20 is within the 90th percentile: no change without waiting replays either.
        for n in 0..<20 { _ = lane.live(lag: .milliseconds(n == 0 ? 900 : 20), now: t0.addingTimeInterval(1.5)) }
        _ = lane.tick(now: t0.addingTimeInterval(2))
        #expect(lane.rate == 50)
        // Replays waited and live traffic was on time: a tenth more, at least the minimum.
        _ = lane.admit(now: t0.addingTimeInterval(2.1))
        _ = lane.admit(now: t0.addingTimeInterval(2.1))
        _ = lane.tick(now: t0.addingTimeInterval(3.1))
        #expect(lane.rate == 60)
    }

    @Test("the rate stays between its minimum and maximum")
    func bounds() {
        var config = ReplayLane.Config()
        config.initialRate = 20
        config.maximumRate = 25
        var lane = ReplayLane(config: config, now: t0)
        var now = t0
        for _ in 0..<10 {
            now = now.addingTimeInterval(1)
            _ = lane.live(lag: .seconds(5), now: now)
        }
        #expect(lane.rate == config.minimumRate)
        for _ in 0..<10 {
            now = now.addingTimeInterval(1.5)
            _ = lane.admit(now: now)
            _ = lane.admit(now: now)
            _ = lane.tick(now: now)
        }
        #expect(lane.rate == 25)
    }
}
