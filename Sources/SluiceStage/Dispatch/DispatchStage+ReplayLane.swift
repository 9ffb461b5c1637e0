import Foundation
import SluiceCore
import SluiceKafka

extension DispatchStage {
    /// How often the lane's window and hold are checked.
    static let laneTick: Duration = .milliseconds(50)

    /// Feeds a polled record to the ``ReplayLane``: a replayed delivery gets its turn (how
    /// long it waits before it is handled); a live one reports its pickup lag. Returns the wait.
    func paced(_ record: KafkaRecord) -> Duration {
        let now = Date()
        if record.topic == replayTopic {
            let (wait, action) = lane.withLock { $0.admit(now: now) }
            if action != nil { syncLane() }
            return wait
        }
        if let written = record.timestampMs {
            // Clocks of producer and dispatcher may differ a little: a negative lag counts as none.
            let lag = Duration.milliseconds(max(0, Int64(now.timeIntervalSince1970 * 1000) - written))
            metrics.pickupLag.recordNanoseconds(Int64(lag.timeInterval * 1e9))
            if lane.withLock({ $0.live(lag: lag, now: now) }) != nil { syncLane() }
        }
        return .zero
    }

    /// Waits for a replay's turn; false when the stage began stopping or the record's
    /// partition was revoked first (the record is then left to the next owner).
    func awaitTurn(_ wait: Duration, _ ticket: ReplayTurns.Ticket) async -> Bool {
        let until = ContinuousClock.now + wait
        while ContinuousClock.now < until {
            if stopping.withLock({ $0 }) { break }
            if !turns.withLock({ $0.isCurrent(ticket) }) { return false }
            try? await Task.sleep(for: min(.milliseconds(100), until - .now))
        }
        if stopping.withLock({ $0 }) {
            turns.withLock { $0.leave(ticket) }
            return false
        }
        return turns.withLock { $0.begin(ticket) }
    }

    /// Ticks the lane until cancelled: ends its windows, publishes its rate, and applies its
    /// pause state (at most one tick late, whoever changed it).
    func paceReplays() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.laneTick)
            let rate = lane.withLock { lane in
                _ = lane.tick(now: Date())
                return lane.rate
            }
            metrics.replayRate.record(rate)
            syncLane()
        }
    }

    /// Makes the consumer's redelivery partitions paused exactly when the lane says so.
    /// The lane's current state is read under `laneHeld`, so concurrent callers cannot
    /// leave an outdated pause applied last.
    func syncLane() {
        laneHeld.withLock { held in
            let wanted = lane.withLock { $0.paused }
            guard wanted != held else { return }
            let owned = ((try? consumer.assignment()) ?? []).filter { $0.topic == replayTopic }
            held = wanted
            if wanted {
                try? consumer.pause(owned)
            } else {
                // Partitions at their in-flight bound stay paused until the tracker resumes them.
                try? consumer.resume(owned.filter { tp in !tracker.withLock { $0.isPaused(tp) } })
            }
        }
    }

    /// Newly assigned redelivery partitions start unpaused: hold them if the lane is holding.
    func holdIfPaced(_ assigned: [TopicPartition]) {
        laneHeld.withLock { held in
            guard held else { return }
            try? consumer.pause(assigned.filter { $0.topic == replayTopic })
        }
    }
}
