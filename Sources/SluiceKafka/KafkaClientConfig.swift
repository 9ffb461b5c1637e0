/// What every Kafka client of Sluice needs: where the brokers are, plus raw librdkafka
/// properties passed through unchanged (`librdkafka` wins over every typed default).
///
/// Invariant: `brokers` is a non-empty `host:port[,host:port…]` list.
///
/// ```swift
/// var config = KafkaClientConfig(brokers: "127.0.0.1:9092")
/// config.librdkafka["fetch.wait.max.ms"] = "10"
/// ```
public struct KafkaClientConfig: Sendable {
    public var brokers: String
    /// Client id reported to the broker (shows in its logs and quotas).
    public var clientID: String
    /// Timeout for blocking metadata, admin and transaction calls.
    public var requestTimeout: Duration
    /// Raw librdkafka properties (see librdkafka's CONFIGURATION.md), applied last.
    public var librdkafka: [String: String]

    public init(
        brokers: String, clientID: String = "sluice", requestTimeout: Duration = .seconds(10),
        librdkafka: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.clientID = clientID
        self.requestTimeout = requestTimeout
        self.librdkafka = librdkafka
    }

    /// The properties of a client of any kind; the typed configs add theirs on top.
    var baseProperties: [String: String] {
        [
            "bootstrap.servers": brokers,
            "client.id": clientID,
            // Fail a dead bootstrap quickly instead of retrying forever in the background.
            "socket.connection.setup.timeout.ms": "5000",
            "reconnect.backoff.max.ms": "2000",
        ]
    }

    func properties(_ typed: [String: String]) -> [String: String] {
        baseProperties.merging(typed) { $1 }.merging(librdkafka) { $1 }
    }
}

extension Duration {
    /// Whole milliseconds, clamped to `Int32` for librdkafka's `int timeout_ms`.
    var milliseconds: Int32 {
        let ms = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
