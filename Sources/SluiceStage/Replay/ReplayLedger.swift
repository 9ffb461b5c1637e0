import SluiceCore
import SluiceKafka

/// What history replays already sent: the ``ReplayMarker``s of `sluice.replays`, each
/// written in the transaction that sent the deliveries it names.
///
/// Invariant: only committed markers count (read_committed), so a source is "sent" exactly
/// when its delivery was committed; records that are not markers are counted, never thrown.
///
/// ```swift
/// let sent = try await ReplayLedger(topic: "sluice.replays", reader: reader).sources(of: "hr_1a2b")
/// ```
public struct ReplayLedger: Sendable {
    /// The sources one replay sent, and the records of the topic that were not markers.
    public struct Entry: Sendable {
        public var sources: Set<String> = []
        public var unreadable = 0
    }

    public let topic: String
    public let reader: KafkaTopicReader

    public init(topic: String, reader: KafkaTopicReader) {
        self.topic = topic
        self.reader = reader
    }

    /// Every source (`partition:offset` of `sluice.events`) that replay `id` sent so far.
    public func sources(of id: String) async throws -> Entry {
        var entry = Entry()
        try await reader.readToEnd(topic: topic) { record in
            guard case .marker(let marker) = DeadLetterArchive.classify(record) else {
                entry.unreadable += 1
                return
            }
            if marker.replayID == id { entry.sources.formUnion(marker.sources) }
        }
        return entry
    }
}
