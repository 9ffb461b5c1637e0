/// Settings of a ``KafkaConsumer``: a consumer group member with manual commits.
///
/// Invariant: librdkafka never commits or stores offsets by itself
/// (`enable.auto.commit=false`, `enable.auto.offset.store=false`): Sluice commits what it
/// has durably handled, and nothing else.
///
/// ```swift
/// var config = KafkaConsumerConfig(client: .init(brokers: "127.0.0.1:9092"), groupID: "sluice-fanout")
/// config.fetchWaitMax = .milliseconds(10)   // Tansu's fetch long-poll is never woken early
/// ```
public struct KafkaConsumerConfig: Sendable {
    /// Which records a consumer sees of transactional producers.
    public enum Isolation: String, Sendable {
        /// Only committed transactions (and non-transactional records).
        case readCommitted = "read_committed"
        case readUncommitted = "read_uncommitted"
    }

    /// Where a group with no committed offset starts.
    public enum StartPosition: String, Sendable {
        case earliest, latest
    }

    public var client: KafkaClientConfig
    public var groupID: String
    public var isolation: Isolation
    public var startPosition: StartPosition
    /// The broker removes a member it has not heard from for this long.
    public var sessionTimeout: Duration
    public var heartbeatInterval: Duration
    /// A member that does not poll for this long leaves the group.
    public var maxPollInterval: Duration
    /// How long a fetch waits at the broker for data (`fetch.wait.max.ms`): on Tansu each
    /// hop waits about this long, so it bounds latency there.
    public var fetchWaitMax: Duration
    /// How much fetched data librdkafka may hold ahead of `poll`, in KiB
    /// (`queued.max.messages.kbytes`; librdkafka's own default is 64 MiB). A stage that
    /// stops polling while its work is in flight (dispatch at its bound) would otherwise
    /// keep up to that much prefetched: measured with heaptrack, 8 MiB took dispatch's heap
    /// peak from 127 to 108 MiB (40,000 deliveries queued), while 8 MiB is still about a
    /// second of records at 10k deliveries/s.
    public var prefetchLimitKiB = 8192
    /// How long librdkafka waits before fetching again once the prefetched data reached
    /// ``prefetchLimitKiB`` (`fetch.queue.backoff.ms`; librdkafka's own default is 1 s). A
    /// stage that stops polling at its bound fills the prefetch; at 1 s it then drained what
    /// was prefetched and waited for the rest of the second with nothing to do. Measured
    /// (dispatch, 100,000 deliveries to 5,000 endpoints on the fast sink, interleaved): in
    /// flight went from 2,000 to none every second, 15,345–15,587 deliveries/s; at 10 ms
    /// 20,430–22,165/s at less CPU per delivery (54.7–56.8 µs against 57.2–65.4).
    public var prefetchBackoff: Duration = .milliseconds(10)
    /// Reads again, a second later, the offsets each fetch jumped over, and hands out the
    /// records found there (``KafkaConsumerEvent/skipped(_:)``); commits wait for it. For
    /// Tansu, which can skip a batch written at the same time as a later one (``FetchGaps``);
    /// off by default (Apache Kafka does not, and every transaction's marker is a jump).
    public var checksGaps = false
    /// How long after a jump its offsets are read again (``checksGaps``).
    public var gapSettle: Duration = .seconds(1)
    /// How long a member given partitions waits for the group's committed offsets (and,
    /// for partitions the group never committed, their log starts), the start its first
    /// records are checked against (``checksGaps``). Past it, a warning, and a batch the
    /// broker skips right at a partition's start goes unchecked.
    public var committedOffsetsTimeout: Duration = .seconds(5)

    public init(
        client: KafkaClientConfig, groupID: String, isolation: Isolation = .readCommitted,
        startPosition: StartPosition = .earliest, sessionTimeout: Duration = .seconds(10),
        heartbeatInterval: Duration = .seconds(1), maxPollInterval: Duration = .seconds(300),
        fetchWaitMax: Duration = .milliseconds(100)
    ) {
        self.client = client
        self.groupID = groupID
        self.isolation = isolation
        self.startPosition = startPosition
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxPollInterval = maxPollInterval
        self.fetchWaitMax = fetchWaitMax
    }

    var properties: [String: String] {
        client.properties([
            "group.id": groupID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "isolation.level": isolation.rawValue,
            "auto.offset.reset": startPosition.rawValue,
            "session.timeout.ms": String(sessionTimeout.milliseconds),
            "heartbeat.interval.ms": String(heartbeatInterval.milliseconds),
            "max.poll.interval.ms": String(maxPollInterval.milliseconds),
            "fetch.wait.max.ms": String(fetchWaitMax.milliseconds),
            "enable.partition.eof": "false",
            "queued.max.messages.kbytes": String(prefetchLimitKiB),
            "fetch.queue.backoff.ms": String(prefetchBackoff.milliseconds),
        ])
    }
}

/// What one ``KafkaConsumer/poll(maxRecords:timeout:)`` returns, in order.
public enum KafkaConsumerEvent: Sendable {
    /// A record of an assigned partition.
    case record(KafkaRecord)
    /// These partitions were assigned and are already being fetched. Rebuild any
    /// per-partition state (pause, offsets) here: nothing carries over from an earlier
    /// assignment.
    case assigned([TopicPartition])
    /// These partitions are being taken away. Finish or abandon their work and commit
    /// before the next `poll`, which releases them. `lost` means the group already gave
    /// them to another member: do not commit them.
    case revoked([TopicPartition], lost: Bool)
    /// A non-fatal client or broker error (logged; the consumer keeps going).
    case error(KafkaError)
    /// Records an earlier fetch jumped over (``KafkaConsumerConfig/checksGaps``), in offset
    /// order per partition, below records already handed out. Handle them like records,
    /// or read their partitions again from the first.
    case skipped([KafkaRecord])

    /// The records of this event: one for ``record(_:)``, those of ``skipped(_:)``, else none.
    public var records: [KafkaRecord] {
        switch self {
        case .record(let record): [record]
        case .skipped(let records): records
        case .assigned, .revoked, .error: []
        }
    }
}

/// A consumer's group state, for transactions that commit its offsets
/// (``KafkaProducer/sendOffsetsToTransaction(_:group:timeout:)``).
public final class KafkaConsumerGroupMetadata: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { rd_kafka_consumer_group_metadata_destroy(pointer) }
}

import CRdKafka
