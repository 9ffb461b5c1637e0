/// The settings every Sluice executable shares (brief §6), once resolved from flags,
/// environment and config file.
///
/// Invariant: `brokers` is non-empty; `metricsPort` is 0 (off) or a valid port.
///
/// ```swift
/// let settings = StageSettings(brokers: "127.0.0.1:9092")
/// settings.topic("deliveries")   // "sluice.deliveries"
/// ```
public struct StageSettings: Sendable, Equatable {
    public static let defaultBrokers = "127.0.0.1:9092"
    public static let defaultTopicPrefix = "sluice."
    /// The keys of these settings in the layered configuration (the config file nests them:
    /// `topic:` `prefix:`); the file's `librdkafka:` section is apart (any property).
    public static let keys = [
        "brokers", "topic.prefix", "metrics.port", "log.level", "topology", "instance.id",
        "kafka.fetch_wait_max", "kafka.linger", "kafka.session_timeout", "kafka.isolation",
        "kafka.gap_check", "kafka.profile",
    ]

    public var brokers: String
    public var topicPrefix: String
    public var metricsPort: Int
    public var logLevel: String
    /// Path of the topology file.
    public var topologyPath: String?
    /// Raw librdkafka properties from the config file's `librdkafka:` section.
    public var librdkafka: [String: String]
    /// Names this copy of a stage: its transactional id is `<stage>-<instanceID>`, so a
    /// restarted copy fences its predecessor. Default: the host name.
    public var instanceID: String = ProcessInfo.processInfo.hostName
    /// `fetch.wait.max.ms`: on Tansu every hop waits about this long (dev: 10 ms).
    public var fetchWaitMax = BrokerProfile.kafka.fetchWaitMax
    /// `linger.ms` of producers (dev: 1 ms).
    public var linger = BrokerProfile.kafka.linger
    /// The fetch wait of consumers off the delivery path (the retry tiers, the DLQ watch,
    /// followers read for people or every few seconds): `fetchWaitMax`, but at least
    /// 250 ms. An idle consumer asks Tansu again after every wait (new data does not end
    /// one early), and each answer costs it CPU: measured, ten idle consumers of 32
    /// partitions each kept it at 1.44 CPUs with 10 ms waits and 0.33 with 100 ms. On
    /// Apache Kafka a fetch returns as soon as data arrives, so the longer wait costs
    /// nothing there.
    public var backgroundFetchWait: Duration { max(fetchWaitMax, .milliseconds(250)) }
    /// `session.timeout.ms` of consumer groups (Tansu's first join takes half of it).
    public var sessionTimeout: Duration = .seconds(10)
    /// `kafka.isolation: read_uncommitted` (env `SLUICE_KAFKA_ISOLATION`): stages read
    /// transactional records before their transaction ends. For Tansu (the dev and test
    /// profile): it shows aborted records to `read_committed` readers anyway, and a
    /// transaction it leaves open (measured: a committed one whose records stayed hidden)
    /// stops every `read_committed` reader of the partition. Default `read_committed`:
    /// exactly-once on Apache Kafka needs it.
    public var readUncommitted = BrokerProfile.kafka.readUncommitted
    /// `kafka.gap_check: on` (env `SLUICE_KAFKA_GAP_CHECK`): consumers read again, a second
    /// later, the offsets each fetch jumped over, and handle what they find there. For
    /// Tansu (the dev and test profile), which can skip a batch written at the same time as
    /// a later one (measured: 7–24 of 9,000 records with 12 producers into one partition).
    /// Default off: Apache Kafka does not, and each transaction's marker is such a jump.
    public var checksGaps = BrokerProfile.kafka.checksGaps

    /// Sets the four Kafka settings a broker needs at once (`kafka.profile`); a key set on
    /// its own (file, environment) still wins.
    public mutating func apply(_ profile: BrokerProfile) {
        fetchWaitMax = profile.fetchWaitMax
        linger = profile.linger
        readUncommitted = profile.readUncommitted
        checksGaps = profile.checksGaps
    }

    public init(
        brokers: String = defaultBrokers, topicPrefix: String = defaultTopicPrefix, metricsPort: Int = 0,
        logLevel: String = "info", topologyPath: String? = nil, librdkafka: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.topicPrefix = topicPrefix
        self.metricsPort = metricsPort
        self.logLevel = logLevel
        self.topologyPath = topologyPath
        self.librdkafka = librdkafka
    }

    /// The full name of topic `name` (relative to the prefix).
    public func topic(_ name: String) -> String { topicPrefix + name }

    /// The consumer group id of `name` (e.g. `sluice-fanout`): as is with the default topic
    /// prefix, else qualified by the prefix (`acme.sluice-fanout`), so two deployments on one
    /// cluster never share a group.
    public func group(_ name: String) -> String {
        topicPrefix == Self.defaultTopicPrefix ? name : topicPrefix + name
    }

    /// Checks the values; the error names the bad key and where it can be set.
    public func validate() throws(ConfigError) {
        let brokerList = brokers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !brokerList.isEmpty, brokerList.allSatisfy({ Self.isHostPort($0) }) else {
            throw ConfigError(key: "brokers", value: brokers, expected: "HOST:PORT[,HOST:PORT…]")
        }
        guard (0...65535).contains(metricsPort) else {
            throw ConfigError(key: "metrics.port", value: String(metricsPort), expected: "0 (off) or a port number")
        }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigError(key: "log.level", value: logLevel, expected: "trace, debug, info, notice, warning, error or critical")
        }
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
            let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { return false }
        return true
    }
}

/// The broker the stages talk to, as one setting (`kafka.profile`, env
/// `SLUICE_KAFKA_PROFILE`): the defaults of `kafka.fetch_wait_max`, `kafka.linger`,
/// `kafka.isolation` and `kafka.gap_check` that suit it, so the development, test and
/// benchmark set-ups name the broker once instead of spelling out four keys each.
///
/// Invariant: ``StageSettings``' defaults are `.kafka`'s.
///
/// ```swift
/// var settings = StageSettings()
/// settings.apply(.tansu)   // fetch wait 10 ms, linger 1 ms, read_uncommitted, gap checks on
/// ```
public enum BrokerProfile: String, Sendable, CaseIterable {
    /// Apache Kafka (and compatible brokers): fetch wait 100 ms, linger 5 ms,
    /// `read_committed`, no gap checks.
    case kafka
    /// Tansu, the embedded broker of `make dev` and the tests: fetch wait 10 ms (every hop
    /// waits about that long), linger 1 ms, `read_uncommitted` and gap checks (README:
    /// Kafka layer notes, Tansu).
    case tansu

    /// `kafka.fetch_wait_max`: on Tansu every hop waits about this long.
    public var fetchWaitMax: Duration { self == .tansu ? .milliseconds(10) : .milliseconds(100) }
    /// `kafka.linger`.
    public var linger: Duration { self == .tansu ? .milliseconds(1) : .milliseconds(5) }
    /// `kafka.isolation: read_uncommitted`.
    public var readUncommitted: Bool { self == .tansu }
    /// `kafka.gap_check`.
    public var checksGaps: Bool { self == .tansu }
}

/// A configuration value that cannot be used.
///
/// Its message names the key as it is written in each layer: the flag, the environment
/// variable and the config file key.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var expected: String

    public init(key: String, value: String, expected: String) {
        self.key = key
        self.value = value
        self.expected = expected
    }

    /// The keys that have a flag of their own (every executable's stage options: the key
    /// with dashes, `--metrics-port`); the others are set through the environment or the
    /// config file only.
    public static let keysWithFlags: Set<String> = ["brokers", "topic.prefix", "metrics.port", "log.level", "topology", "instance.id"]

    public var description: String {
        let env = "SLUICE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        var ways = [env, "`\(key)` in the config file"]
        if Self.keysWithFlags.contains(key) { ways.insert("--" + key.replacingOccurrences(of: ".", with: "-"), at: 0) }
        let how = ways.count == 2 ? ways.joined(separator: " or ") : ways.dropLast().joined(separator: ", ") + ", or " + ways.last!
        return "invalid \(key) '\(value)': expected \(expected) (set it with \(how))"
    }
}

import Foundation
