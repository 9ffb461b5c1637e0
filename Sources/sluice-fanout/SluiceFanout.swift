import ArgumentParser
import Foundation
import ServiceLifecycle
import SluiceCore
import SluiceStage

/// `sluice-fanout`: events to per-endpoint deliveries, in Kafka transactions.
@main
struct SluiceFanout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-fanout",
        abstract: "Fan each event of sluice.events out to one delivery per matching endpoint.",
        discussion: """
            Consumer group sluice-fanout: start more copies to scale (up to the partition count of sluice.events); \
            give each copy its own --instance-id and keep it across restarts, so a restarted copy fences its \
            predecessor's open transaction. Stops on SIGTERM or SIGINT after the batch in progress, exit 0.

            Example: sluice-fanout --brokers kafka:9092 --instance-id fanout-1
            """)

    @OptionGroup var stage: StageOptions

    @Option(help: "Events per transaction at most (env SLUICE_FANOUT_BATCH_MAX_EVENTS; default 2000).")
    var batchMaxEvents: Int?

    @Option(help: "How long a batch gathers events after its first, e.g. 20ms (env SLUICE_FANOUT_BATCH_WINDOW; default 0: a batch is what one poll finds, which grows under load while the previous transaction commits).")
    var batchWindow: String?

    func validate() throws { _ = try batching() }

    /// Batching from the flags, else the environment, else the defaults.
    func batching(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FanoutStage.Config {
        var config = FanoutStage.Config()
        if let text = batchMaxEvents.map(String.init) ?? environment["SLUICE_FANOUT_BATCH_MAX_EVENTS"] {
            guard let n = Int(text), (1...100_000).contains(n) else {
                throw ValidationError("batch max events '\(text)': expected 1…100000 (--batch-max-events, SLUICE_FANOUT_BATCH_MAX_EVENTS)")
            }
            config.batchMaxEvents = n
        }
        if let text = batchWindow ?? environment["SLUICE_FANOUT_BATCH_WINDOW"] {
            guard let window = DurationText.parse(text) else {
                throw ValidationError("batch window '\(text)': expected a duration like 20ms (--batch-window, SLUICE_FANOUT_BATCH_WINDOW)")
            }
            config.batchWindow = window
        }
        return config
    }

    func run() async throws {
        let (settings, delivery) = try await stage.resolveAll()
        let runtime = StageRuntime(name: "sluice-fanout", settings: settings)
        _ = MetricsEndpoint.registry
        let fanout = try await FanoutStage.start(
            runtime: runtime, topology: try runtime.loadTopology(), delivery: delivery, config: try batching())
        let metrics = MetricsEndpoint(port: settings.metricsPort, logger: runtime.logger)
        try await ServiceGroup(services: [metrics, fanout], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger).run()
        ProcessExit.afterGracefulShutdown()
    }
}
