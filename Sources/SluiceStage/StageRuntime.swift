import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// What every executable does first: JSON logs at the configured level, glibc's allocator
/// set up for a long-running process (``AllocatorTuning``), the librdkafka runtime version
/// logged (and a warning when it is too old), and the Kafka client config built from the
/// settings.
///
/// ```swift
/// let runtime = StageRuntime(name: "sluice-fanout", settings: settings)
/// let producer = try KafkaProducer(config: .init(client: runtime.kafka), logger: runtime.logger)
/// ```
public struct StageRuntime: Sendable {
    public let name: String
    public let settings: StageSettings
    public let logger: Logger

    public init(name: String, settings: StageSettings) {
        SupervisedChild.bind()  // under `sluice dev`: never outlive it
        self.name = name
        self.settings = settings
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingBootstrap.once(level: level)
        var logger = Logger(label: name)
        logger.logLevel = level
        self.logger = logger
        AllocatorTuning.apply(environment: ProcessInfo.processInfo.environment, logger: logger)
        LibrdkafkaRuntime.logAndCheck(logger: logger)
    }

    /// The Kafka client config: brokers, a client id naming the stage and host, and the
    /// config file's raw librdkafka properties.
    public var kafka: KafkaClientConfig {
        KafkaClientConfig(
            brokers: settings.brokers, clientID: "\(name)@\(settings.instanceID)",
            librdkafka: settings.librdkafka)
    }

    /// A producer with the stage's linger (or `linger`); transactional when `transactional`,
    /// with the id `<stage>-<instance id>` (or `transactionalID` when given).
    public func producer(transactional: Bool = false, transactionalID: String? = nil, linger: Duration? = nil) throws -> KafkaProducer {
        try KafkaProducer(
            config: KafkaProducerConfig(
                client: kafka, transactionalID: transactionalID ?? (transactional ? "\(name)-\(settings.instanceID)" : nil),
                linger: linger ?? settings.linger),
            logger: logger)
    }

    /// The consumer-group config of the group named `group` in the topology, its id
    /// qualified by a non-default topic prefix (``StageSettings/group(_:)``).
    /// `fetchWait`: the consumer's fetch wait (default the stage's `fetchWaitMax`; consumers
    /// off the delivery path pass ``StageSettings/backgroundFetchWait``).
    public func consumerConfig(group: String, fetchWait: Duration? = nil) -> KafkaConsumerConfig {
        var config = KafkaConsumerConfig(
            client: kafka, groupID: settings.group(group), isolation: settings.readUncommitted ? .readUncommitted : .readCommitted,
            sessionTimeout: settings.sessionTimeout,
            heartbeatInterval: .milliseconds(Int64(min(1000, settings.sessionTimeout.timeInterval * 1000 / 4))),
            fetchWaitMax: fetchWait ?? settings.fetchWaitMax)
        config.checksGaps = settings.checksGaps
        return config
    }

    /// A reader of whole topics (markers through a plain producer without linger: a
    /// read to the end waits for its markers, and fanout reads `sluice.endpoints` to its
    /// end before every batch).
    public func reader() throws -> KafkaTopicReader {
        var reader = KafkaTopicReader(client: kafka, producer: try producer(linger: .zero), admin: try KafkaAdmin(config: kafka, logger: logger), logger: logger)
        reader.fetchWaitMax = settings.fetchWaitMax
        reader.checksGaps = settings.checksGaps
        return reader
    }

    /// The topology: `--topology`, else `topology/sluice.yaml` in the working directory,
    /// beside the executable (`../share/sluice/`), or in the source checkout.
    public func loadTopology() throws -> Topology {
        if let path = settings.topologyPath { return try Topology.load(path: path) }
        let executable = URL(fileURLWithPath: ExecutableLocation.directory)
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            "topology/sluice.yaml",
            executable.appendingPathComponent("../share/sluice/topology/sluice.yaml").path,
            checkout.appendingPathComponent("topology/sluice.yaml").path,
        ]
        for path in candidates where FileManager.default.fileExists(atPath: path) {
            return try Topology.load(path: path)
        }
        throw TopologyError(source: "topology/sluice.yaml", problem: "was not found; pass --topology FILE (env SLUICE_TOPOLOGY)")
    }
}

/// Bootstraps swift-log once per process (it may only be bootstrapped once).
enum LoggingBootstrap {
    private static let done = NSLock()
    nonisolated(unsafe) private static var bootstrapped = false

    static func once(level: Logger.Level) {
        done.lock()
        defer { done.unlock() }
        guard !bootstrapped else { return }
        bootstrapped = true
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
    }
}
