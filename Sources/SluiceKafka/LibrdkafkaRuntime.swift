import CRdKafka
import Logging

/// The librdkafka runtime this process loaded, and the check every executable makes at
/// start (brief §1: Debian's 2.0.2 cannot talk to the Tansu test broker).
///
/// ```swift
/// LibrdkafkaRuntime.logAndCheck(logger: logger)
/// ```
public enum LibrdkafkaRuntime {
    /// The librdkafka inside the confluent-kafka wheel `scripts/setup.sh` pins (keep the two in step).
    public static let expectedVersion = "2.16.0"
    /// Older runtimes than this one are known not to work with Tansu.
    static let minimumVersion: Int32 = 0x020A_0000  // 2.10.0

    /// The loaded runtime's version string, e.g. `2.16.1`.
    public static var version: String { String(cString: rd_kafka_version_str()) }

    /// The loaded runtime's version as `0xMMmmrrxx`.
    public static var versionNumber: Int32 { rd_kafka_version() }

    /// True when the loaded runtime is too old for Sluice.
    public static var isTooOld: Bool { versionNumber < minimumVersion }

    /// The warning an executable prints when the runtime is too old, or nil.
    public static var warning: String? {
        guard isTooOld else { return nil }
        return "librdkafka \(version) is loaded, but Sluice needs \(expectedVersion) (older runtimes, such as "
            + "Debian's 2.0.2, cannot talk to current brokers): run `make build`, which installs the runtime "
            + "into .deps/lib and links the executables against it"
    }

    /// Logs the runtime version, and warns when it is too old.
    public static func logAndCheck(logger: Logger) {
        logger.info("librdkafka runtime", metadata: ["version": "\(version)"])
        if let warning { logger.warning("\(warning)") }
    }
}
