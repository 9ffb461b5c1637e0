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
/// is known when that event is fanned out. Bad endpoint records are logged and skipped.
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

    private init(follower: KafkaTopicFollower, logger: Logger) {
        self.follower = follower
        self.logger = logger
        self.state = Locked(EndpointRegistry())
    }

    /// Opens the topic and reads it to its end.
    public static func open(topic: String, reader: KafkaTopicReader, logger: Logger) async throws -> EndpointDirectory {
        let directory = EndpointDirectory(follower: try await KafkaTopicFollower(topic: topic, reader: reader), logger: logger)
        try await directory.catchUp()
        logger.info("endpoints loaded", metadata: ["count": "\(directory.registry.count)"])
        return directory
    }

    /// A snapshot of the registry.
    public var registry: EndpointRegistry { state.withLock { $0 } }

    /// Applies every endpoint change acknowledged before this call.
    public func catchUp() async throws {
        var changes: [KafkaRecord] = []
        try await follower.catchUp { changes.append($0) }
        guard !changes.isEmpty else { return }
        state.withLock { registry in
            for record in changes {
                do throws(WireError) { try registry.apply(record) } catch {
                    logger.warning("skipped a bad endpoint record", metadata: ["offset": "\(record.topicPartition)@\(record.offset)", "error": "\(error)"])
                }
            }
        }
    }

    public func close() async { await follower.close() }
}
