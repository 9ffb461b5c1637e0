/// Settings of a ``KafkaProducer``: idempotent, `acks=all`, optionally transactional.
///
/// Invariant: the producer is always idempotent with `acks=all`; a `transactionalID`
/// must be stable per stage instance so a restarted copy fences its predecessor.
///
/// ```swift
/// var config = KafkaProducerConfig(client: .init(brokers: "127.0.0.1:9092"))
/// config.transactionalID = "sluice-fanout-host-1"
/// ```
public struct KafkaProducerConfig: Sendable {
    public var client: KafkaClientConfig
    /// Set to make the producer transactional.
    public var transactionalID: String?
    /// How long to wait to fill a batch (`linger.ms`).
    public var linger: Duration
    /// How long librdkafka keeps trying to deliver a record before it reports failure.
    public var deliveryTimeout: Duration
    /// Largest record the client sends (`message.max.bytes`); nil keeps librdkafka's 1 MB.
    public var messageMaxBytes: Int?

    public init(
        client: KafkaClientConfig, transactionalID: String? = nil, linger: Duration = .milliseconds(5),
        deliveryTimeout: Duration = .seconds(30), messageMaxBytes: Int? = nil
    ) {
        self.client = client
        self.transactionalID = transactionalID
        self.linger = linger
        self.deliveryTimeout = deliveryTimeout
        self.messageMaxBytes = messageMaxBytes
    }

    var properties: [String: String] {
        var typed = [
            "enable.idempotence": "true",
            // The Java client's partitioner, so keys land where any Kafka client puts them.
            "partitioner": "murmur2_random",
            "acks": "all",
            "linger.ms": String(linger.milliseconds),
            "message.timeout.ms": String(deliveryTimeout.milliseconds),
        ]
        if let transactionalID {
            typed["transactional.id"] = transactionalID
            typed["transaction.timeout.ms"] = "60000"
        }
        if let messageMaxBytes { typed["message.max.bytes"] = String(messageMaxBytes) }
        return client.properties(typed)
    }
}
