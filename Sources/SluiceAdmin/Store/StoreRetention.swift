import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SluiceCore

/// Retention by age of the query store: deletes rows older than `retention` (attempts,
/// dead letters, ops events, the event index, idempotency answers) at start and then every
/// ``interval(for:)``.
///
/// Invariant: only rows older than `now - retention` are deleted; endpoints are never
/// (they are current state, not history); topic positions stay, so pruned rows do not
/// return (a rebuilt store reads them again and prunes them on its first round).
///
/// ```swift
/// let retention = StoreRetention(store: store, retention: .seconds(30 * 86_400), logger: logger)
/// ```
public struct StoreRetention: Service {
    public let store: any QueryStore
    public let retention: Duration
    let logger: Logger
    private let pruned = Counter(label: "sluice_admin_store_pruned_rows_total")

    public init(store: any QueryStore, retention: Duration, logger: Logger) {
        self.store = store
        self.retention = retention
        self.logger = logger
    }

    /// How often to prune: a hundredth of the retention, between a minute and an hour.
    public static func interval(for retention: Duration) -> Duration {
        min(max(retention / 100, .seconds(60)), .seconds(3600))
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await store.prune(olderThan: Date().addingTimeInterval(-retention.timeInterval))
                    pruned.increment(by: removed)
                    if removed > 0 { logger.info("pruned the query store", metadata: ["rows": "\(removed)", "retention": "\(DurationText.format(retention))"]) }
                } catch {
                    logger.warning("pruning the query store failed; trying again later", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: Self.interval(for: retention))
            }
        }
    }
}
