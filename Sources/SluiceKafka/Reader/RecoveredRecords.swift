/// What a ``KafkaTopicFollower`` does with a record its fetches jumped over and a gap
/// check found later (``KafkaTopicReader/checksGaps``: Tansu can skip a batch written at
/// the same time as a later one). Such a record comes after records of higher offsets.
///
/// ```swift
/// let follower = try await KafkaTopicFollower(topic: "sluice.endpoints", reader: reader, recovered: .unlessSuperseded)
/// ```
public enum RecoveredRecords: Sendable {
    /// Handed over unless a record of the same key at a higher offset of its partition was
    /// handed over already: for topics whose newest record of a key is that key's state
    /// (endpoints, failure streaks, API keys), where an older revision applied after a
    /// newer one, or after its tombstone, would bring back what was changed or deleted.
    case unlessSuperseded
    /// Handed over as found: for logs where every record counts on its own.
    case all
}

/// Per partition, the highest offset handed over for each record key: what decides
/// whether a record found late is superseded (``RecoveredRecords/unlessSuperseded``).
///
/// Invariant: an offset noted for a key only grows; records without a key are never
/// superseded. Kept only while gap checks are on, for topics with a bounded set of keys.
///
/// ```swift
/// var newest = NewestByKey()
/// newest.note(record)                          // offset 8, key "ep_1"
/// newest.supersedes(recovered)                 // offset 3, key "ep_1": true
/// ```
struct NewestByKey: Sendable {
    private var offsets: [TopicPartition: [[UInt8]: Int64]] = [:]

    /// Notes a record handed over.
    mutating func note(_ record: KafkaRecord) {
        guard let key = record.key else { return }
        offsets[record.topicPartition, default: [:]][key] = max(offsets[record.topicPartition]?[key] ?? -1, record.offset)
    }

    /// Whether a record of the same key at a higher offset was handed over.
    func supersedes(_ record: KafkaRecord) -> Bool {
        guard let key = record.key, let newest = offsets[record.topicPartition]?[key] else { return false }
        return newest > record.offset
    }
}
