import Foundation
import SluiceCore
import SluiceKafka

/// Reads what happened from `sluice.attempts`, `sluice.ops` and `sluice.dlq` (no admin
/// API needed): the lines since a time, oldest first, then, when following, each new one
/// as it arrives. What `sluice attempts`, `sluice ops`, `sluice events show` and the
/// failure lines of `sluice dev` print.
///
/// Invariant: history is printed in time order across the topics; followed lines in the
/// order they arrive. It writes nothing but the end markers that find each topic's end.
///
/// ```swift
/// let feed = ActivityFeed(reader: try runtime.reader(), topics: ["sluice.attempts", "sluice.ops"])
/// try await feed.run(since: Date().addingTimeInterval(-3600), filter: ActivityFilter(failuresOnly: true), follow: true) { print($0.formatted) }
/// ```
public struct ActivityFeed: Sendable {
    public let reader: KafkaTopicReader
    public let topics: [String]

    public init(reader: KafkaTopicReader, topics: [String]) {
        self.reader = reader
        self.topics = topics
    }

    /// The matching lines since `since`, oldest first; with `follow`, then every new one
    /// until the task is cancelled (each `poll` apart).
    public func run(
        since: Date, filter: ActivityFilter, follow: Bool, poll: Duration = .milliseconds(500),
        _ handle: @Sendable (ActivityLine) async throws -> Void
    ) async throws {
        var followers: [KafkaTopicFollower] = []
        defer { for follower in followers { Task { await follower.close() } } }
        var history: [ActivityLine] = []
        for topic in topics {
            let start = try await reader.offsets(atOrAfter: since, topic: topic)
            let follower = try await KafkaTopicFollower(topic: topic, reader: reader, from: start, recovered: .all)
            try await follower.catchUp { record in
                if let line = ActivityLine(record), line.at >= since, filter.matches(line) { history.append(line) }
            }
            followers.append(follower)
        }
        for line in history.sorted(by: { $0.at < $1.at }) { try await handle(line) }
        while follow, !Task.isCancelled {
            for follower in followers {
                var fresh: [ActivityLine] = []
                try await follower.drain { record in
                    if let line = ActivityLine(record), filter.matches(line) { fresh.append(line) }
                }
                for line in fresh { try await handle(line) }
            }
            try? await Task.sleep(for: poll)
        }
    }
}
