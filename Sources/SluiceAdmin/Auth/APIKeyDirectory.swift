import Foundation
import Logging
import SluiceCore
import SluiceKafka
import SluiceStage

/// The admin API's view of `sluice.api-keys`: an ``APIKeyRegistry`` kept in step with the
/// topic (read to its end at start, then followed).
///
/// Invariant: a key acknowledged by the broker before a request arrived is known when the
/// request is checked: a key not found triggers a catch-up to the topic's end (at most one
/// every 200 ms, shared by the requests waiting), so `sluice keys create` followed at once by
/// a request works; random keys cannot make the server write more than 5 markers a second.
///
/// ```swift
/// let keys = try await APIKeyDirectory.open(topic: "sluice.api-keys", reader: reader, logger: logger)
/// let key = try await keys.authenticate("sk_…")
/// ```
public final class APIKeyDirectory: Sendable {
    private let follower: KafkaTopicFollower
    private let state = Locked(APIKeyRegistry())
    private let lastCatchUp = Locked(ContinuousClock.now - .seconds(1))
    private let serial = SerialTasks()
    private let logger: Logger

    private init(follower: KafkaTopicFollower, logger: Logger) {
        self.follower = follower
        self.logger = logger
    }

    public static func open(topic: String, reader: KafkaTopicReader, logger: Logger) async throws -> APIKeyDirectory {
        let directory = APIKeyDirectory(follower: try await KafkaTopicFollower(topic: topic, reader: reader, recovered: .unlessSuperseded), logger: logger)
        try await directory.catchUp()
        return directory
    }

    /// The live key `presented` stands for, or nil.
    public func authenticate(_ presented: String) async throws -> APIKey? {
        if let key = state.withLock({ $0.key(presented: presented) }) { return key }
        guard presented.hasPrefix(APIKey.prefix) else { return nil }
        let due = lastCatchUp.withLock { last in
            guard ContinuousClock.now - last >= .milliseconds(200) else { return false }
            last = .now
            return true
        }
        if due { try await catchUp() } else { try await refresh() }
        return state.withLock { $0.key(presented: presented) }
    }

    /// Applies every key change acknowledged before the call.
    public func catchUp() async throws {
        try await serial.join { [self] in
            var records: [KafkaRecord] = []
            try await follower.catchUp { records.append($0) }
            apply(records)
        }
    }

    /// Applies what has arrived, without markers.
    public func refresh() async throws {
        try await serial.append { [self] in
            var records: [KafkaRecord] = []
            try await follower.drain { records.append($0) }
            apply(records)
        }
    }

    /// Refreshes every `interval` until cancelled (a revoke reaches this replica within it).
    public func follow(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do { try await refresh() } catch { logger.warning("could not read api key changes", metadata: ["error": "\(error)"]) }
        }
    }

    private func apply(_ records: [KafkaRecord]) {
        guard !records.isEmpty else { return }
        state.withLock { registry in
            for record in records {
                guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }) else { continue }
                do throws(WireError) { try registry.apply(key: key, value: record.value) } catch {
                    logger.warning("skipped a bad api key record", metadata: ["offset": "\(record.topicPartition)@\(record.offset)", "error": "\(error)"])
                }
            }
        }
    }

    public func close() async { await follower.close() }
}
