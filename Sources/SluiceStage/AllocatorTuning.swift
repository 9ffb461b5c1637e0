import CProcess
import Logging

/// glibc's allocator set up for a long-running stage: large blocks mapped on their own and
/// unmapped when freed, free memory at an arena's top handed back early.
///
/// glibc's defaults suit short programs: once a large block mapped on its own is freed,
/// glibc raises the size from which it maps blocks (up to 32 MiB), so later large blocks
/// (librdkafka's fetched and produced batches) land in the arenas, where the holes they
/// leave stay in the process. A stage runs for weeks. Measured on dispatch with 5,000
/// endpoints (the bench's mixed run, interleaved): peak RSS 140–142 MiB against 146–158
/// with the defaults, at the same rate and CPU. Fewer arenas (`arena_max` 2) saved a few
/// MiB more but cost the fast path CPU (its threads then wait on the arenas' locks), so
/// their number is left to glibc.
///
/// Invariant: an operator's own choice wins: with `MALLOC_ARENA_MAX`, any `MALLOC_*_`
/// variable or a `glibc.malloc.` tunable in `GLIBC_TUNABLES` set, nothing is changed.
///
/// ```swift
/// AllocatorTuning.apply(environment: ProcessInfo.processInfo.environment, logger: logger)
/// ```
public enum AllocatorTuning {
    /// One `mallopt` setting.
    struct Setting: CustomStringConvertible {
        let name: String
        let value: Int32
        let make: @Sendable (Int32) -> Int32
        var description: String { "\(name)=\(value)" }
    }

    /// Blocks from this size up that no free memory in the arena can serve are mapped on
    /// their own, and unmapped when freed.
    static let mmapThreshold: Int32 = 256 * 1024
    /// Free memory at an arena's top past this is handed back to the system.
    static let trimThreshold: Int32 = 1024 * 1024

    /// The settings to make, or nil when the operator tunes the allocator themselves.
    static func plan(environment: [String: String]) -> [Setting]? {
        let ownChoice = environment.keys.contains { $0 == "MALLOC_ARENA_MAX" || ($0.hasPrefix("MALLOC_") && $0.hasSuffix("_")) }
            || (environment["GLIBC_TUNABLES"] ?? "").contains("glibc.malloc.")
        guard !ownChoice else { return nil }
        return [
            Setting(name: "mmap_threshold", value: mmapThreshold, make: sluice_malloc_set_mmap_threshold),
            Setting(name: "trim_threshold", value: trimThreshold, make: sluice_malloc_set_trim_threshold),
        ]
    }

    /// Makes the settings of ``plan(environment:)``, once at the start (again changes
    /// nothing). Returns what was set (nil: the operator's own tuning was kept).
    @discardableResult
    public static func apply(environment: [String: String], logger: Logger) -> [String]? {
        guard let settings = plan(environment: environment) else {
            logger.debug("allocator: the environment tunes glibc malloc; kept as it is")
            return nil
        }
        return make(settings, logger: logger)
    }

    /// Makes `settings`; a setting glibc refuses is a warning and left out of the answer.
    static func make(_ settings: [Setting], logger: Logger) -> [String] {
        var made: [String] = []
        for setting in settings {
            if setting.make(setting.value) == 1 {
                made.append(setting.description)
            } else {
                logger.warning("allocator: glibc refused a setting; memory use may be higher", metadata: ["setting": "\(setting)"])
            }
        }
        logger.debug("allocator tuned", metadata: ["settings": "\(made.joined(separator: " "))"])
        return made
    }
}
