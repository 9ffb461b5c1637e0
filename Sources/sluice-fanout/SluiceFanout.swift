import ArgumentParser
import ServiceLifecycle
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

    func run() async throws {
        let (settings, delivery) = try await stage.resolveAll()
        let runtime = StageRuntime(name: "sluice-fanout", settings: settings)
        _ = MetricsEndpoint.registry
        let fanout = try await FanoutStage.start(runtime: runtime, topology: try runtime.loadTopology(), delivery: delivery)
        let metrics = MetricsEndpoint(port: settings.metricsPort, logger: runtime.logger)
        try await ServiceGroup(services: [metrics, fanout], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger).run()
    }
}
