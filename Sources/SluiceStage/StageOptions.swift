import ArgumentParser
import Configuration
import Logging
import SluiceCore
import SystemPackage
import Yams

/// The options every Sluice executable takes (brief §6). Flags beat the environment
/// (`SLUICE_*`), which beats the YAML config file, which beats the defaults.
///
/// ```swift
/// struct Fanout: AsyncParsableCommand {
///     @OptionGroup var stage: StageOptions
///     func run() async throws { let settings = try await stage.resolve() }
/// }
/// ```
public struct StageOptions: ParsableArguments, Sendable {
    @Option(help: "Kafka bootstrap brokers, HOST:PORT[,…] (env SLUICE_BROKERS; default 127.0.0.1:9092).")
    public var brokers: String?

    @Option(help: "Prefix of every topic name (env SLUICE_TOPIC_PREFIX; default 'sluice.').")
    public var topicPrefix: String?

    @Option(help: "YAML config file (env SLUICE_CONFIG); its keys: brokers, topic.prefix, metrics.port, log.level, librdkafka.")
    public var config: String?

    @Option(help: "Port of the Prometheus /metrics endpoint; 0 = off (env SLUICE_METRICS_PORT).")
    public var metricsPort: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env SLUICE_LOG_LEVEL; default info).")
    public var logLevel: String?

    @Option(help: "The topology file (env SLUICE_TOPOLOGY; default topology/sluice.yaml).")
    public var topology: String?

    @Option(help: "Names this copy of the stage; its transactional id derives from it, so keep it stable across restarts and unique across copies (env SLUICE_INSTANCE_ID; default the host name).")
    public var instanceId: String?

    public init() {}

    /// Resolves flags, environment, config file and defaults into validated settings.
    public func resolve(environment: [String: String]? = nil) async throws -> StageSettings {
        try await resolveAll(environment: environment).stage
    }

    /// The stage settings and the delivery contract's settings (retry schedule and tiers,
    /// destinations, master key, …), from the same layers.
    public func resolveAll(environment: [String: String]? = nil) async throws -> (stage: StageSettings, delivery: DeliverySettings) {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        func put(_ key: String, _ value: ConfigContent?) {
            if let value { flags[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(value, isSecret: false) }
        }
        put("brokers", brokers.map { .string($0) })
        put("topic.prefix", topicPrefix.map { .string($0) })
        put("metrics.port", metricsPort.map { .int($0) })
        put("log.level", logLevel.map { .string($0) })
        put("topology", topology.map { .string($0) })
        put("instance.id", instanceId.map { .string($0) })

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
        for (key, keyPath) in [("kafka.fetch_wait_max", \StageSettings.fetchWaitMax), ("kafka.linger", \.linger), ("kafka.session_timeout", \.sessionTimeout)] {
            guard let text = reader.string(forKey: ConfigKey(key)) else { continue }
            guard let value = DurationText.parse(text) else {
                throw ValidationError(ConfigError(key: key, value: text, expected: "a duration like 10ms or 6s").description)
            }
            settings[keyPath: keyPath] = value
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

/// The keys a config file may hold; a typo must not fall back to a default silently.
enum ConfigFileKeys {
    /// Every key read from the file: the stage's and the delivery contract's, dotted as the
    /// file nests them. Anything under `librdkafka:` goes to librdkafka as it is.
    static let known = Set(StageSettings.keys + DeliverySettings.keys)

    /// Refuses a file with keys nobody reads, naming each (and the known key it is closest
    /// to, for a typo).
    static func check(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let document = try? Yams.load(yaml: text) as? [String: Any]
        else { return }  // unreadable or not a mapping: the file provider said so already
        let unknown = unknownKeys(in: document)
        guard !unknown.isEmpty else { return }
        let named = unknown.map { key in closest(to: key).map { "`\(key)` (did you mean `\($0)`?)" } ?? "`\(key)`" }
        throw ValidationError(
            "the config file \(path) has \(unknown.count == 1 ? "an unknown key" : "unknown keys"): \(named.joined(separator: ", ")); "
                + "known keys: \(known.sorted().joined(separator: ", ")), and librdkafka properties under `librdkafka:`")
    }

    /// The dotted keys of `document` that are not ``known``, in file order where it has one.
    static func unknownKeys(in document: [String: Any], prefix: String = "") -> [String] {
        var unknown: [String] = []
        for (key, value) in document.sorted(by: { $0.key < $1.key }) {
            let dotted = prefix + key
            if dotted == "librdkafka" { continue }
            if let nested = value as? [String: Any], !known.contains(dotted) {
                unknown += unknownKeys(in: nested, prefix: dotted + ".")
            } else if !known.contains(dotted) {
                unknown.append(dotted)
            }
        }
        return unknown
    }

    /// The known key within two edits of `key`, if there is one.
    static func closest(to key: String) -> String? {
        var best: (key: String, distance: Int)?
        for candidate in known.sorted() {
            let d = distance(key, candidate)
            if d <= 2, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.key
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in 1...b.count {
                let above = row[j]
                row[j] = min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}

enum ProcessInfoEnvironment {
    static var current: [String: String] { ProcessInfo.processInfo.environment }
}

import Foundation
