import Foundation

/// The delivery contract's settings (brief §4, §6), shared by fanout, dispatch, the
/// retry tiers and the DLQ, with the brief's defaults.
///
/// Each value is read by key from the layered configuration (flag > env > file): the key
/// `retry.schedule` is env `SLUICE_RETRY_SCHEDULE` and `retry: schedule:` in the file.
///
/// Invariant: every field is valid once ``init(lookup:)`` returns.
///
/// ```swift
/// let settings = try DeliverySettings(lookup: { ProcessInfo.processInfo.environment["SLUICE_" + $0.uppercased().replacing(".", with: "_")] })
/// settings.schedule.maxAttempts   // 8
/// ```
public struct DeliverySettings: Sendable {
    public var schedule: RetrySchedule = .default
    public var tiers: RetryTiers = .nominal
    public var destinations = DestinationPolicy()
    /// Base64 of the 32-byte master key for secrets at rest; nil when not configured.
    public var masterKey: String?
    public var requestTimeout: Duration = .seconds(15)
    /// A PEM file of the CA certificates endpoints' TLS certificates are verified against,
    /// in place of the system's bundle (endpoints behind a private CA); nil: the system's.
    public var caFile: String?
    public var circuitThreshold = 5
    /// The first cool-down of an open circuit; it doubles on each failed probe up to
    /// `circuitCoolDownMax`.
    public var circuitCoolDown: Duration = .seconds(30)
    public var circuitCoolDownMax: Duration = .seconds(3600)
    public var disableWindow: Duration = .seconds(5 * 86_400)
    /// Largest event accepted by fanout.
    public var maxEventBytes = 256 * 1024

    public init() {}

    /// Every key ``init(lookup:)`` reads: env `SLUICE_<KEY>` (dots as `_`, upper case), or
    /// the nested key in the config file (`retry:` `schedule:`). None has a flag.
    public static let keys = [
        "retry.max_age", "retry.schedule", "retry.tiers", "allow.http", "allow.private", "destinations.allow", "master.key",
        "http.timeout", "http.ca_file", "circuit.threshold", "circuit.cool_down", "circuit.cool_down_max", "disable.window", "events.max_bytes",
    ]

    /// Reads and validates every key through `lookup` (nil = not set: the default).
    public init(lookup: (String) -> String?) throws(ConfigError) {
        func duration(_ key: String, _ value: inout Duration) throws(ConfigError) {
            guard let text = lookup(key) else { return }
            guard let parsed = DurationText.parse(text), parsed > .zero else {
                throw ConfigError(key: key, value: text, expected: "a positive duration like 30s, 10m, 5d")
            }
            value = parsed
        }
        func integer(_ key: String, _ value: inout Int, _ range: ClosedRange<Int>) throws(ConfigError) {
            guard let text = lookup(key) else { return }
            guard let parsed = Int(text), range.contains(parsed) else {
                throw ConfigError(key: key, value: text, expected: "a whole number in \(range.lowerBound)…\(range.upperBound)")
            }
            value = parsed
        }
        func flag(_ key: String) throws(ConfigError) -> Bool {
            guard let text = lookup(key), !text.isEmpty else { return false }
            guard let value = ConfigFlag.parse(text) else {
                throw ConfigError(key: key, value: text.lowercased(), expected: "1 or 0 (true or false)")
            }
            return value
        }

        var maxAge = RetrySchedule.default.maxAge
        try duration("retry.max_age", &maxAge)
        if let text = lookup("retry.schedule") {
            schedule = try RetrySchedule(parsing: text, maxAge: maxAge)
        } else {
            schedule = try RetrySchedule(waits: RetrySchedule.default.waits, maxAge: maxAge)
        }
        if let text = lookup("retry.tiers") { tiers = try RetryTiers(parsing: text) }
        destinations = try DestinationPolicy(
            allowHTTP: try flag("allow.http"), allowPrivate: try flag("allow.private"),
            allowList: lookup("destinations.allow") ?? "")
        if let key = lookup("master.key") {
            do { _ = try SecretBox.Key(base64: key) } catch {
                throw ConfigError(key: "master.key", value: "(hidden)", expected: "the base64 of 32 bytes")
            }
            masterKey = key
        }
        try duration("http.timeout", &requestTimeout)
        if let path = lookup("http.ca_file") { caFile = try Self.checkedCAFile(path) }
        try integer("circuit.threshold", &circuitThreshold, 1...1000)
        try duration("circuit.cool_down", &circuitCoolDown)
        try duration("circuit.cool_down_max", &circuitCoolDownMax)
        circuitCoolDownMax = max(circuitCoolDownMax, circuitCoolDown)
        try duration("disable.window", &disableWindow)
        try integer("events.max_bytes", &maxEventBytes, 1...(64 * 1024 * 1024))
    }

    /// `path`, once it is a readable file holding at least one PEM certificate.
    static func checkedCAFile(_ path: String) throws(ConfigError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "http.ca_file", value: path, expected: "a readable PEM file of CA certificates; nothing can be read at that path")
        }
        guard data.range(of: Data("-----BEGIN CERTIFICATE-----".utf8)) != nil else {
            throw ConfigError(
                key: "http.ca_file", value: path,
                expected: "a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), such as the system's bundle with your CA appended; this file holds none")
        }
        return path
    }

    /// The secret box, or an error saying how to configure the master key.
    public func secretBox() throws(ConfigError) -> SecretBox {
        guard let masterKey, let box = try? SecretBox(masterKeyBase64: masterKey) else {
            throw ConfigError(
                key: "master.key", value: "(unset)",
                expected: "the base64 of 32 bytes; make one with: head -c32 /dev/urandom | base64")
        }
        return box
    }
}
