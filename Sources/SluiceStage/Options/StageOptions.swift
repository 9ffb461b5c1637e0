import ArgumentParser
import SluiceCore

/// The options of a stage executable: a command's ``ClientOptions`` and what only a
/// long-running stage uses (its metrics port, its topology file, its instance id).
///
/// ```swift
/// struct Fanout: AsyncParsableCommand {
///     @OptionGroup var stage: StageOptions
///     func run() async throws { let (settings, delivery) = try await stage.resolveAll() }
/// }
/// ```
public struct StageOptions: ParsableArguments, Sendable {
    @OptionGroup public var client: ClientOptions

    @Option(help: "Port of the Prometheus /metrics endpoint; 0 = off (env SLUICE_METRICS_PORT).")
    public var metricsPort: Int?

    @Option(help: "The topology file (env SLUICE_TOPOLOGY; default topology/sluice.yaml).")
    public var topology: String?

    @Option(help: "Names this copy of the stage; its transactional id derives from it, so keep it stable across restarts and unique across copies (env SLUICE_INSTANCE_ID; default the host name).")
    public var instanceId: String?

    public init() {}

    /// Resolves flags, environment, config file and defaults into validated settings.
    public func resolve(environment: [String: String]? = nil) async throws -> StageSettings {
        try await resolveAll(environment: environment).stage
    }

    /// The stage settings and the delivery contract's settings, from the same layers.
    public func resolveAll(environment: [String: String]? = nil) async throws -> (stage: StageSettings, delivery: DeliverySettings) {
        try await client.resolveAll(
            environment: environment,
            flags: [
                "metrics.port": metricsPort.map { .int($0) }, "topology": topology.map { .string($0) },
                "instance.id": instanceId.map { .string($0) },
            ])
    }
}
