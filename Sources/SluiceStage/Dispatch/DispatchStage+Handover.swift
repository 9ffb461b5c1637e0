import Foundation
import SluiceKafka

/// Giving partitions up: at a stop (every partition) and at a revoke (those going).
/// Deliveries still in flight after a bounded wait are left to the partitions' next
/// owners with their offsets uncommitted; none is written twice by this copy.
extension DispatchStage {
    /// At a stop: waits (bounded by ``Config/stopDrain``) for the deliveries being handled,
    /// then leaves the rest to the partitions' next owners: those waiting at their gates,
    /// and the requests still under way (the HTTP client abandons them, and no attempt is
    /// recorded). Their offsets stay uncommitted. Every outcome already concluded is
    /// written before the clients close; nothing is written after.
    func finishInFlight() async {
        await drain(timeout: config.stopDrain)
        leaveWaiting("stopping")
        // Still handled after the drain: requests under way (abandoned below) and outcomes
        // still being written (waited for after).
        let inFlight = handling.withLock { $0 }
        http.shutdown()
        if inFlight > 0 {
            runtime.logger.info(
                "stopping with deliveries in flight: requests still under way are left to the partitions' next owner",
                metadata: ["deliveries_in_flight": "\(inFlight)", "drained_for": "\(config.stopDrain)"])
        }
        await drain(timeout: .seconds(30))
    }

    /// Before revoked partitions go: wait (bounded) for their deliveries, commit, forget.
    /// Replays still waiting for their turn (``ReplayTurns``) and deliveries waiting at a
    /// gate (``leaveWaiting(_:where:)``) are abandoned, not waited for.
    func release(_ partitions: [TopicPartition], lost: Bool) async {
        let going = Set(partitions)
        let abandoned = turns.withLock { $0.revoke(partitions) }
            .merging(leaveWaiting("revoked", where: { going.contains($0.record.topicPartition) }), uniquingKeysWith: +)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, tracker.withLock({ t in partitions.contains { t.inFlight($0) > abandoned[$0] ?? 0 } }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !lost { try? await commit() }
        tracker.withLock { $0.revoked(partitions) }
    }

    /// Waits (bounded) for the deliveries being handled; replays waiting for their turn
    /// leave at once (``awaitTurn(_:)``).
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, handling.withLock({ $0 }) > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
