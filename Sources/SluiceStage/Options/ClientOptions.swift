import ArgumentParser
import Configuration
import Foundation
import Logging
import SluiceCore
import SluiceKafka
import SystemPackage

/// The options every Sluice command takes: where the broker is and how to log (brief §6).
/// Flags beat the environment (`SLUICE_*`), which beats the YAML config file, which beats
/// the defaults. Stages add theirs in ``StageOptions``; a CLI command takes only these, so
/// its `--help` lists no option it ignores.
///
/// ```swift
/// struct List: AsyncParsableCommand {
///     @OptionGroup var connection: ClientOptions
///     func run() async throws { let settings = try await connection.resolve() }
/// }
/// ```
public struct ClientOptions: ParsableArguments, Sendable {
    @Option(help: "Kafka bootstrap brokers, HOST:PORT[,…] (env SLUICE_BROKERS; default 127.0.0.1:9092).")
    public var brokers: String?

    @Option(help: "Prefix of every topic name (env SLUICE_TOPIC_PREFIX; default 'sluice.').")
    public var topicPrefix: String?

    @Option(help: """
        YAML config file (env SLUICE_CONFIG); its keys: brokers, topic.prefix, metrics.port, log.level, instance.id, \
        kafka.profile (kafka or tansu: the next four keys' defaults), kafka.fetch_wait_max, kafka.linger, kafka.session_timeout, \
        kafka.isolation, kafka.gap_check, librdkafka \
        (raw properties), and the delivery settings (README: Operating guide, Settings).
        """)
    public var config: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env SLUICE_LOG_LEVEL; default info).")
    public var logLevel: String?

    public init() {}

    /// Resolves flags, environment, config file and defaults into validated settings;
    /// `topology` is the path a command took with its own `--topology`.
    public func resolve(environment: [String: String]? = nil, topology: String? = nil) async throws -> StageSettings {
        try await resolveAll(environment: environment, flags: ["topology": topology.map { .string($0) }]).stage
    }

    /// The stage settings and the delivery contract's settings (retry schedule and tiers,
    /// destinations, master key, …), from the same layers.
    public func resolveAll(environment: [String: String]? = nil) async throws -> (stage: StageSettings, delivery: DeliverySettings) {
        try await resolveAll(environment: environment, flags: [:])
    }

    /// The layers resolved with `extra` flags (a stage's own) beside these.
    func resolveAll(environment: [String: String]?, flags extra: [String: ConfigContent?]) async throws -> (stage: StageSettings, delivery: DeliverySettings) {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        func put(_ key: String, _ value: ConfigContent?) {
            if let value { flags[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(value, isSecret: false) }
        }
        put("brokers", brokers.map { .string($0) })
        put("topic.prefix", topicPrefix.map { .string($0) })
        put("log.level", logLevel.map { .string($0) })
        for (key, value) in extra { put(key, value) }
        let env = environment.map { EnvironmentVariablesProvider(environmentVariables: $0) } ?? EnvironmentVariablesProvider()
        var providers: [any ConfigProvider] = [InMemoryProvider(name: "flags", values: flags), env.prefixKeys(with: ["sluice"])]
        let configPath = config ?? (environment ?? ProcessInfoEnvironment.current)["SLUICE_CONFIG"]
        if let configPath {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(configPath)))
            } catch {
                throw ValidationError("cannot read the config file \(configPath): \(error)")
            }
            try ConfigFileKeys.check(path: configPath)
        }
        let reader = ConfigReader(providers: providers)
        var settings = StageSettings()
        settings.brokers = reader.string(forKey: "brokers", default: StageSettings.defaultBrokers)
        settings.topicPrefix = reader.string(forKey: "topic.prefix", default: StageSettings.defaultTopicPrefix)
        settings.metricsPort = try reader.requiredInt(forKey: "metrics.port", default: 0)
        settings.logLevel = reader.string(forKey: "log.level", default: "info")
        settings.topologyPath = reader.string(forKey: "topology")
        settings.instanceID = reader.string(forKey: "instance.id", default: settings.instanceID)
        if let text = reader.string(forKey: "kafka.profile") {
            guard let profile = BrokerProfile(rawValue: text) else {
                throw ValidationError(ConfigError(key: "kafka.profile", value: text, expected: "kafka or tansu").description)
            }
            settings.apply(profile)
        }
        for (key, keyPath) in [("kafka.fetch_wait_max", \StageSettings.fetchWaitMax), ("kafka.linger", \.linger), ("kafka.session_timeout", \.sessionTimeout)] {
            guard let text = reader.string(forKey: ConfigKey(key)) else { continue }
            guard let value = DurationText.parse(text) else {
                throw ValidationError(ConfigError(key: key, value: text, expected: "a duration like 10ms or 6s").description)
            }
            settings[keyPath: keyPath] = value
        }
        if let text = reader.string(forKey: "kafka.isolation") {
            guard let isolation = KafkaConsumerConfig.Isolation(rawValue: text) else {
                throw ValidationError(ConfigError(key: "kafka.isolation", value: text, expected: "read_committed or read_uncommitted").description)
            }
            settings.readUncommitted = isolation == .readUncommitted
        }
        if let text = reader.string(forKey: "kafka.gap_check") ?? reader.bool(forKey: "kafka.gap_check").map({ $0 ? "on" : "off" }) {
            guard let on = ConfigFlag.parse(text) else {
                throw ValidationError(ConfigError(key: "kafka.gap_check", value: text, expected: "on or off").description)
            }
            settings.checksGaps = on
        }
        if let configPath { settings.librdkafka = try LibrdkafkaSection.read(configPath: configPath) }
        do { try settings.validate() } catch { throw ValidationError(error.description) }
        let delivery: DeliverySettings
        do {
            delivery = try DeliverySettings(lookup: { key in
                let k = ConfigKey(key)
                return reader.string(forKey: k) ?? reader.int(forKey: k).map(String.init)
                    ?? reader.bool(forKey: k).map { $0 ? "1" : "0" } ?? reader.double(forKey: k).map { String($0) }
            })
        } catch {
            throw ValidationError(error.description)
        }
        return (settings, delivery)
    }
}

extension ConfigReader {
    /// An int that, when present but not a number, is an error naming the key.
    func requiredInt(forKey key: String, default value: Int) throws -> Int {
        if let int = int(forKey: ConfigKey(key)) { return int }
        if let text = string(forKey: ConfigKey(key)) {
            guard let int = Int(text) else {
                throw ValidationError(ConfigError(key: key, value: text, expected: "a whole number").description)
            }
            return int
        }
        return value
    }
}

enum ProcessInfoEnvironment {
    static var current: [String: String] { ProcessInfo.processInfo.environment }
}
