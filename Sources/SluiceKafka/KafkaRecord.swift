/// A topic and partition.
///
/// Invariant: `partition` is a real partition number (≥ 0).
///
/// ```swift
/// let tp = TopicPartition("sluice.deliveries", 3)
/// ```
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// One Kafka record header. Headers keep their order and may repeat.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    /// The header's bytes, or nil for a null value.
    public var value: [UInt8]?

    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(_ key: String, _ value: String) {
        self.init(key, Array(value.utf8))
    }

    /// The value as UTF-8 text, if it is present and valid.
    public var stringValue: String? { value.flatMap { String(validating: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The last header named `key` (Kafka allows repeats; the last one wins).
    public subscript(header key: String) -> KafkaHeader? { last { $0.key == key } }
}

/// A record to produce.
///
/// `partition` nil lets librdkafka's partitioner choose from the key (murmur2-compatible
/// `consistent_random` by default). A nil `value` is a tombstone.
///
/// ```swift
/// let record = KafkaProducerRecord(topic: "sluice.events", key: Array("tenant-1".utf8), value: body)
/// ```
public struct KafkaProducerRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; nil lets the client stamp the send time.
    public var timestampMs: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestampMs: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }
}

/// A record as consumed: its bytes, copied out of librdkafka, and where it was.
public struct KafkaRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// The record's timestamp in milliseconds since the epoch (create or log-append time), if any.
    public var timestampMs: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestampMs: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// True for the no-op records that ``KafkaTopicReader`` writes to find a topic's end:
    /// the marker key, no value and the marker header, all three. A record that only
    /// carries the header (a producer's forgery) is an ordinary record, so a header cannot
    /// make a record with content vanish; a true marker has no content to lose.
    public var isEndMarker: Bool {
        value == nil && key == EndMarker.key && headers[header: EndMarker.header] != nil
    }
}

/// Where the broker stored a produced record.
public struct KafkaRecordMetadata: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}

/// The no-op record written to each partition to find where a topic ends (brief §1:
/// watermarks are wrong on Tansu). Every consumer in this layer skips these.
enum EndMarker {
    static let header = "sluice-end-marker"
    static let key = Array("sluice.end-marker".utf8)

    /// The marker for `partition` of `topic`.
    static func record(topic: String, partition: Int32) -> KafkaProducerRecord {
        KafkaProducerRecord(topic: topic, partition: partition, key: key, value: nil, headers: [KafkaHeader(header, "1")])
    }
}
