import ArgumentParser
import ServiceLifecycle
import SluiceCore
import SluiceStage

extension RetryTier: ExpressibleByArgument {}

/// `sluice-retry --tier 1m|10m|1h`: holds deliveries until due, then forwards them.
@main
struct SluiceRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-retry",
        abstract: "Hold the deliveries of one retry tier (sluice.retry.<tier>) until their not_before, then forward them to sluice.deliveries.",
        discussion: """
            Run one process (or more, to scale) per tier: consumer group sluice-retry-<tier>. A partition whose head \
            is not due is paused until it is, so a waiting tier uses almost no CPU. A delivery due later than the tier \
            holds records (after a long Retry-After) moves on to the tier that fits. Tier delays are 1m, 10m and 1h \
            unless SLUICE_RETRY_TIERS shortens them (tests and dev: 1m=2s,10m=5s,1h=10s); every stage must use the \
            same value. Stops on SIGTERM or SIGINT after the batch in progress, exit 0.

            Example: sluice-retry --tier 10m --brokers kafka:9092 --metrics-port 9466
            """)

    @Option(help: "The tier this process serves: 1m, 10m or 1h.")
    var tier: RetryTier

    @OptionGroup var stage: StageOptions

    func run() async throws {
        let (settings, delivery) = try await stage.resolveAll()
        let runtime = StageRuntime(name: RetryStage.group(of: tier), settings: settings)
        _ = MetricsEndpoint.registry
        let retry = try await RetryStage.start(runtime: runtime, topology: try runtime.loadTopology(), delivery: delivery, tier: tier)
        let metrics = MetricsEndpoint(port: settings.metricsPort, logger: runtime.logger)
        try await ServiceGroup(services: [metrics, retry], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger).run()
        ProcessExit.afterGracefulShutdown()
    }
}
