import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// Keeps a replay's writes no further ahead of dispatch than `ahead` deliveries: before
/// each chunk, the replay waits while the dispatch group's backlog on
/// `sluice.redeliveries` (records past its committed offsets) would exceed it.
///
/// Dispatch reads replays at the pace live traffic allows (``ReplayLane``), but writing a
/// large replay costs the broker too: measured with `make bench-replay`, 50,000 replayed
/// deliveries written at 500/s that dispatch never read still took live deliveries from
/// p50 133 ms to 965 ms on a 2-core machine. Following dispatch puts the whole replay, its
/// writes included, under the lane's control.
///
/// If dispatch takes nothing for `patience` (it is not running, or is stopped), the replay
/// writes the rest without waiting, after one warning: it must end, and the topic keeps the
/// deliveries until dispatch comes back.
///
/// Invariant: a chunk is sent only while the backlog plus the chunk is at most `ahead`, or
/// the backlog is empty, or pacing gave up.
///
/// ```swift
/// let pace = try ReplayPace.followingDispatch(runtime: runtime)
/// try await pace.waitForRoom(100)   // before sending 100 deliveries
/// await pace.close()
/// ```
public final class ReplayPace: Sendable {
    public let ahead: Int
    public let patience: Duration
    /// How often the backlog is read while waiting.
    public let interval: Duration
    private let backlog: @Sendable () async throws -> Int
    private let onClose: @Sendable () async -> Void
    private let logger: Logger
    private let gaveUp = Locked(false)

    public init(
        ahead: Int = 1_000, patience: Duration = .seconds(60), interval: Duration = .milliseconds(250), logger: Logger,
        backlog: @escaping @Sendable () async throws -> Int, onClose: @escaping @Sendable () async -> Void = {}
    ) {
        self.ahead = max(1, ahead)
        self.patience = patience
        self.interval = interval
        self.logger = logger
        self.backlog = backlog
        self.onClose = onClose
    }

    /// Follows the dispatch group of `runtime`'s deployment, through a consumer of that group
    /// that never joins it: it reads the group's committed offsets and, for the partitions
    /// dispatch has committed on, the broker's high watermarks.
    ///
    /// Watermarks, not the end markers a full read uses: a marker written at every check
    /// (four times a second, on 32 partitions) would itself fill the replay lane, and no
    /// commit ever passes a marker that ends a partition, so the backlog could only grow.
    /// On Tansu a watermark can fall short by up to one batch (a replay chunk): the pace
    /// may run that much further ahead. `reader` (the caller's) lists the topic's partitions.
    public static func followingDispatch(runtime: StageRuntime, reader: KafkaTopicReader, ahead: Int = 1_000) throws -> ReplayPace {
        let topic = runtime.settings.topicPrefix + "redeliveries"
        let consumer = try KafkaConsumer(config: runtime.consumerConfig(group: DispatchStage.group), logger: runtime.logger)
        let partitions = Locked<[TopicPartition]?>(nil)
        return ReplayPace(
            ahead: ahead, logger: runtime.logger,
            backlog: {
                let all: [TopicPartition]
                if let known = partitions.withLock({ $0 }) {
                    all = known
                } else {
                    all = try await reader.partitions(of: topic)
                    partitions.withLock { $0 = all }
                }
                // A partition dispatch never committed on counts as caught up: its first
                // commit, a moment after it starts reading, brings it in.
                let committed = try await consumer.committed(all).compactMapValues { $0 }
                let ends = try await consumer.highWatermarks(Array(committed.keys))
                return ends.reduce(0) { sum, end in sum + Int(max(0, end.value - (committed[end.key] ?? end.value))) }
            },
            onClose: { try? await consumer.close() })
    }

    /// Waits until `count` more deliveries fit within `ahead` of dispatch.
    public func waitForRoom(_ count: Int) async throws {
        guard !gaveUp.withLock({ $0 }) else { return }
        var last = try await backlog()
        var progressed = ContinuousClock.now
        while last > 0, last + count > ahead {
            if ContinuousClock.now - progressed > patience {
                gaveUp.withLock { $0 = true }
                logger.warning(
                    "dispatch took nothing from sluice.redeliveries for \(DurationText.format(patience)); writing the rest of the replay without waiting for it (is sluice-dispatch running? it delivers them when it is)",
                    metadata: ["backlog": "\(last)"])
                return
            }
            try await Task.sleep(for: interval)
            let now = try await backlog()
            if now < last { progressed = .now }
            last = now
        }
    }

    public func close() async { await onClose() }

    /// Runs `send` with a pace from `make` (none when `make` is nil or nothing is to be
    /// sent), and closes the pace on every path.
    ///
    /// ```swift
    /// let sent = try await ReplayPace.pacing(plan.toSend.isEmpty ? nil : makePace) { pace in
    ///     try await replay.run(plan, producer: producer, pace: pace) { _ in }
    /// }
    /// ```
    public static func pacing<Result>(
        _ make: (@Sendable () throws -> ReplayPace)?, _ send: (ReplayPace?) async throws -> Result
    ) async throws -> Result {
        let pace = try make?()
        do {
            let result = try await send(pace)
            await pace?.close()
            return result
        } catch {
            await pace?.close()
            throw error
        }
    }
}
