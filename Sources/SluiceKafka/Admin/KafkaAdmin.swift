import CRdKafka
import Logging

/// What the broker says about one topic.
public struct KafkaTopicDescription: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    /// Replicas of partition 0 (Sluice creates every partition alike).
    public var replicationFactor: Int
}

/// A topic to create.
///
/// ```swift
/// KafkaTopicSpec(name: "sluice.dlq", partitions: 8, replicationFactor: 1,
///                configs: ["cleanup.policy": "delete", "retention.ms": "2592000000"])
/// ```
public struct KafkaTopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    public var configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Topic administration: list, create, and read configs.
///
/// Every call blocks inside librdkafka until the broker answers, so it runs off the
/// cooperative pool, bounded by the client's `requestTimeout`.
///
/// ```swift
/// let admin = try KafkaAdmin(config: .init(brokers: "127.0.0.1:9092"), logger: logger)
/// let existing = try await admin.describeTopics()
/// ```
public final class KafkaAdmin: Sendable {
    let handle: RdKafkaHandle
    let config: KafkaClientConfig
    let logger: Logger
    private let pump: EventPump

    public init(config: KafkaClientConfig, logger: Logger) throws(KafkaError) {
        self.config = config
        self.logger = logger
        let handle = try RdKafkaHandle(
            type: RD_KAFKA_PRODUCER, properties: config.properties([:]), events: Int32(RD_KAFKA_EVENT_ERROR))
        self.handle = handle
        pump = EventPump(name: "sluice.admin", handle: handle, queue: rd_kafka_queue_get_main(handle.pointer)!) { event in
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_LOG: logKafkaLogEvent(event, logger: logger)
            case RD_KAFKA_EVENT_ERROR: _ = logKafkaErrorEvent(event, logger: logger)
            default: break
            }
        }
    }

    deinit { pump.stop() }

    /// Every topic on the cluster (asking for all topics never auto-creates one).
    public func describeTopics() async throws(KafkaError) -> [String: KafkaTopicDescription] {
        let (handle, ms) = (handle, config.requestTimeout.milliseconds)
        return try await Blocking.run { () throws(KafkaError) in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let code = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, ms)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                var error = KafkaError(code: code, operation: "read cluster metadata")
                if code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__TIMED_OUT {
                    error = KafkaError(
                        kind: .brokerUnreachable, code: code.rawValue, message: error.message,
                        operation: error.operation, isRetriable: true)
                }
                throw error
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var result: [String: KafkaTopicDescription] = [:]
            for i in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[i]
                guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                let name = String(cString: topic.topic)
                let replicas = topic.partition_cnt > 0 ? Int(topic.partitions[0].replica_cnt) : 0
                result[name] = KafkaTopicDescription(
                    name: name, partitions: Int(topic.partition_cnt), replicationFactor: replicas)
            }
            return result
        }
    }

    /// Throws ``KafkaError/Kind/topicsMissing(_:)`` naming every topic of `names` that
    /// does not exist. Call before producing: Tansu auto-creates unknown topics on produce.
    public func requireTopics(_ names: [String]) async throws(KafkaError) {
        let existing = try await describeTopics()
        let missing = names.filter { existing[$0] == nil }.sorted()
        if !missing.isEmpty {
            throw KafkaError(
                kind: .topicsMissing(missing), message: "topics not found: \(missing.joined(separator: ", "))",
                operation: "check the topology")
        }
    }

    /// Creates `topics`; returns, per topic, nil on success or the broker's error.
    public func createTopics(_ topics: [KafkaTopicSpec]) async throws(KafkaError) -> [String: KafkaError?] {
        guard !topics.isEmpty else { return [:] }
        let (handle, timeout) = (handle, config.requestTimeout)
        return try await Blocking.run { () throws(KafkaError) in
            var errbuf = [CChar](repeating: 0, count: 512)
            var newTopics: [OpaquePointer?] = []
            defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
            for spec in topics {
                guard let t = rd_kafka_NewTopic_new(
                    spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errbuf, errbuf.count)
                else {
                    throw KafkaError(kind: .configuration, message: String(errorBuffer: errbuf), operation: "create \(spec.name)")
                }
                newTopics.append(t)
                for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                    try KafkaError.check(rd_kafka_NewTopic_set_config(t, key, value), "set \(key) on \(spec.name)")
                }
            }
            let event = try AdminRequest.run(handle, timeout: timeout, operation: "create topics") { queue, options in
                rd_kafka_CreateTopics(handle.pointer, &newTopics, newTopics.count, options, queue)
            }
            defer { rd_kafka_event_destroy(event) }
            let result = rd_kafka_event_CreateTopics_result(event)
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(result, &count)!
            var outcome: [String: KafkaError?] = [:]
            for i in 0..<count {
                let r = results[i]
                let name = String(cString: rd_kafka_topic_result_name(r))
                let code = rd_kafka_topic_result_error(r)
                outcome[name] =
                    code == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? nil
                    : KafkaError(
                        code: code, operation: "create topic \(name)",
                        message: rd_kafka_topic_result_error_string(r).map { String(cString: $0) })
            }
            return outcome
        }
    }

    /// The configs the broker reports for `topic` (Tansu reports only those set explicitly).
    public func describeConfigs(topic: String) async throws(KafkaError) -> [String: String] {
        let (handle, timeout) = (handle, config.requestTimeout)
        return try await Blocking.run { () throws(KafkaError) in
            var resource: OpaquePointer? = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic)
            defer { rd_kafka_ConfigResource_destroy(resource) }
            let event = try AdminRequest.run(handle, timeout: timeout, operation: "describe configs of \(topic)") {
                queue, options in
                rd_kafka_DescribeConfigs(handle.pointer, &resource, 1, options, queue)
            }
            defer { rd_kafka_event_destroy(event) }
            var count = 0
            let resources = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count)!
            var configs: [String: String] = [:]
            for i in 0..<count {
                let r = resources[i]
                try KafkaError.check(rd_kafka_ConfigResource_error(r), "describe configs of \(topic)")
                var entryCount = 0
                guard let entries = rd_kafka_ConfigResource_configs(r, &entryCount) else { continue }
                for j in 0..<entryCount {
                    let entry = entries[j]
                    if let value = rd_kafka_ConfigEntry_value(entry) {
                        configs[String(cString: rd_kafka_ConfigEntry_name(entry))] = String(cString: value)
                    }
                }
            }
            return configs
        }
    }
}

/// One admin request: a temporary queue, options with a timeout, and the result event.
enum AdminRequest {
    /// Calls `start` with a new queue and options, then waits for the result event (which
    /// the caller destroys). Must run off the cooperative pool.
    static func run(
        _ handle: RdKafkaHandle, timeout: Duration, operation: String,
        start: (OpaquePointer, OpaquePointer) -> Void
    ) throws(KafkaError) -> OpaquePointer {
        let queue = rd_kafka_queue_new(handle.pointer)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_ANY)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errbuf = [CChar](repeating: 0, count: 256)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errbuf, errbuf.count)
        start(queue, options)
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 1000) else {
            throw KafkaError(kind: .timedOut, message: "no answer within \(timeout)", operation: operation, isRetriable: true)
        }
        let code = rd_kafka_event_error(event)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            let message = rd_kafka_event_error_string(event).map { String(cString: $0) }
            rd_kafka_event_destroy(event)
            throw KafkaError(code: code, operation: operation, message: message)
        }
        return event
    }
}
