import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// A stage's view of `sluice.endpoints`: an ``EndpointRegistry`` kept in step with the
/// topic by a ``KafkaTopicFollower``.
///
/// Ordering contract: ``catchUp()`` applies every endpoint change the broker
/// acknowledged before the call. A stage calls it after polling a batch and before
/// acting on it, so an endpoint created (and acknowledged) before an event was published
/// is known when that event is fanned out. Bad endpoint records (no key, not an endpoint,
/// out of bounds) are logged, counted in `sluice_rejected_total{reason="bad_endpoint"}` and
/// skipped; they never half-apply.
///
/// ```swift
/// let directory = try await EndpointDirectory.open(topic: "sluice.endpoints", reader: reader, logger: logger)
/// try await directory.catchUp()
/// directory.registry.endpoints(tenant: "acme", type: "order.created")
/// ```
public final class EndpointDirectory: Sendable {
    private let follower: KafkaTopicFollower
    private let state: Locked<EndpointRegistry>
    private let logger: Logger
    private let chain = SerialTasks()

    private init(follower: KafkaTopicFollower, logger: Logger) {
        self.follower = follower
        self.logger = logger
        self.state = Locked(EndpointRegistry())
    }

    /// Opens the topic and reads it to its end.
    public static func open(topic: String, reader: KafkaTopicReader, logger: Logger) async throws -> EndpointDirectory {
        let directory = EndpointDirectory(follower: try await KafkaTopicFollower(topic: topic, reader: reader, recovered: .unlessSuperseded), logger: logger)
        try await directory.catchUp()
        logger.info("endpoints loaded", metadata: ["count": "\(directory.registry.count)"])
        return directory
    }

    /// A snapshot of the registry.
    public var registry: EndpointRegistry { state.withLock { $0 } }

    /// Applies every endpoint change acknowledged before this call. Calls run one after
    /// another (the follower reads with one consumer), and a call joins a catch-up that is
    /// queued but not started yet (it starts after the call, so it sees as much): under a
    /// flood of deliveries for unknown endpoints at most two catch-ups exist at once.
    public func catchUp() async throws {
        try await chain.join { [self] in try await apply(follower.catchUp) }
    }

    /// Applies what has arrived on the topic so far, without markers (see
    /// ``KafkaTopicFollower/drain(_:)``).
    public func refresh() async throws {
        try await chain.append { [self] in try await apply(follower.drain) }
    }

    /// Refreshes every `interval` until the task is cancelled, so changes (a new URL, a
    /// disable, a rotated secret) reach a running stage within about that long. Writes
    /// nothing to the topic.
    public func follow(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do { try await refresh() } catch {
                logger.warning("could not read endpoint changes", metadata: ["error": "\(error)"])
            }
        }
    }

    private func apply(_ read: ((KafkaRecord) throws -> Void) async throws -> Void) async throws {
        var changes: [KafkaRecord] = []
        try await read { changes.append($0) }
        guard !changes.isEmpty else { return }
        state.withLock { registry in
            for record in changes {
                // A bad record changes nothing (decoded whole before it is applied); it is
                // read once per stage, so it is logged and counted once.
                do throws(WireError) { try registry.apply(record) } catch {
                    Rejection.count(topic: record.topic, reason: "bad_endpoint")
                    logger.warning("skipped a bad endpoint record", metadata: ["offset": "\(record.topicPartition)@\(record.offset)", "error": "\(error)"])
                }
            }
        }
    }

    public func close() async { await follower.close() }
}
