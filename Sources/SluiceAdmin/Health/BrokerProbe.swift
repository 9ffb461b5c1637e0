import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SluiceCore
import SluiceKafka

/// Asks the broker for its metadata every ``interval`` so `/readyz` can say whether it
/// answers, without a request waiting on the broker.
///
/// Invariant: ``problem`` is nil only while the last answer is younger than ``staleAfter``;
/// before the first answer it says the broker has not answered yet.
///
/// ```swift
/// let probe = BrokerProbe(admin: reader.admin, logger: logger)
/// if let problem = probe.problem { … 503 … }
/// ```
public final class BrokerProbe: Service, Sendable {
    public static let interval: Duration = .seconds(2)
    public static let staleAfter: Duration = .seconds(15)

    private let admin: KafkaAdmin
    private let logger: Logger
    private let last = Locked<(answered: ContinuousClock.Instant?, error: String?)>((nil, nil))
    private let gauge = Gauge(label: "sluice_admin_broker_reachable")

    public init(admin: KafkaAdmin, logger: Logger) {
        self.admin = admin
        self.logger = logger
    }

    /// Why the broker counts as unreachable now; nil when it answered lately.
    public var problem: String? {
        let (answered, error) = last.withLock { $0 }
        guard let answered else { return "the broker has not answered yet" + (error.map { " (\($0))" } ?? "") }
        guard ContinuousClock.now - answered < Self.staleAfter else {
            return "the broker has not answered for \(DurationText.format(ContinuousClock.now - answered))" + (error.map { " (\($0))" } ?? "")
        }
        return nil
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.admin.describeTopics()
                    self.last.withLock { $0 = (ContinuousClock.now, nil) }
                } catch {
                    self.last.withLock { $0.error = (error as? KafkaError)?.message ?? "\(error)" }
                    self.logger.debug("broker probe failed", metadata: ["error": "\(error)"])
                }
                self.gauge.record(self.problem == nil ? 1 : 0)
                try? await Task.sleep(for: Self.interval)
            }
        }
    }
}
