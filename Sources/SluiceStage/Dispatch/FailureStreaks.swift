import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// Dispatch's view of `sluice.endpoint-health`: when each failing endpoint started
/// failing (``FailureStreak``), read to its end at start and followed, so a dispatcher
/// that takes over an endpoint (a restart, a rebalance) counts its disable window from
/// the streak's real start.
///
/// Invariant: ``since(_:)`` is the latest streak start written for the endpoint that this
/// copy has read or written, or nil after its tombstone. Bad records are counted
/// (`sluice_rejected_total{reason="bad_failure_streak"}`), logged and skipped.
///
/// ```swift
/// let streaks = try await FailureStreaks.open(topic: "sluice.endpoint-health", reader: reader, logger: logger)
/// gate.finish(endpoint, success: false, now: now, failingSince: streaks.since(endpoint.id))
/// ```
final class FailureStreaks: Sendable {
    let topic: String
    private let follower: KafkaTopicFollower
    private let state = Locked<[String: Date]>([:])
    private let logger: Logger

    private init(topic: String, follower: KafkaTopicFollower, logger: Logger) {
        self.topic = topic
        self.follower = follower
        self.logger = logger
    }

    static func open(topic: String, reader: KafkaTopicReader, logger: Logger) async throws -> FailureStreaks {
        let streaks = FailureStreaks(topic: topic, follower: try await KafkaTopicFollower(topic: topic, reader: reader, recovered: .unlessSuperseded), logger: logger)
        try await streaks.follower.catchUp { streaks.apply($0) }
        return streaks
    }

    func since(_ endpointID: String) -> Date? { state.withLock { $0[endpointID] } }

    /// Applies what arrived since the last call (another copy's writes before a rebalance).
    func refresh() async throws { try await follower.drain { apply($0) } }

    /// Refreshes every `interval` until the task is cancelled, as ``EndpointDirectory/follow(every:)`` does.
    func follow(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do { try await refresh() } catch {
                logger.warning("could not read failure streaks", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The record that starts (or, with nil, ends) `endpointID`'s streak; remembered at once.
    func record(_ endpointID: String, failingSince: Date?) -> KafkaProducerRecord? {
        state.withLock { $0[endpointID] = failingSince }
        guard let failingSince else { return KafkaProducerRecord(topic: topic, key: Array(endpointID.utf8), value: nil) }
        return try? KafkaProducerRecord(topic: topic, key: endpointID, wire: FailureStreak(endpointID: endpointID, failingSince: failingSince))
    }

    private func apply(_ record: KafkaRecord) {
        guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }) else {
            return skip(record, "no UTF-8 key")
        }
        guard let value = record.value else {
            state.withLock { $0[key] = nil }
            return
        }
        do throws(WireError) {
            let streak = try FailureStreak(wireBytes: value)
            guard streak.endpointID == key else { return skip(record, "key \(key) differs from endpoint_id") }
            state.withLock { $0[key] = streak.failingSince }
        } catch {
            skip(record, error.description)
        }
    }

    private func skip(_ record: KafkaRecord, _ why: String) {
        Rejection.count(topic: record.topic, reason: "bad_failure_streak")
        logger.warning("skipped a bad failure-streak record", metadata: ["offset": "\(record.topicPartition)@\(record.offset)", "error": "\(why)"])
    }

    func close() async { await follower.close() }
}
