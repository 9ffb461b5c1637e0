import ArgumentParser
import SluiceStage

/// `sluice`: the operator's command line.
@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Kafka-native webhook delivery: operate the topology, endpoints, events and dead letters.",
        discussion: """
            Every command takes --brokers (env SLUICE_BROKERS), --topic-prefix (env SLUICE_TOPIC_PREFIX) and \
            --config FILE (env SLUICE_CONFIG). Exit codes: 0 success, 1 the command failed (the message says \
            why and what to do), 64 bad usage.
            """,
        subcommands: [
            DevCommand.self, TopologyCommand.self, EndpointsCommand.self, KeysCommand.self, EventsCommand.self, DLQCommand.self,
            AttemptsCommand.self, OpsCommand.self, PortalLinkCommand.self, VerifyCommand.self, ReceiveCommand.self, VersionCommand.self, SupervisedExecCommand.self,
        ])

    static func main() async { await CommandLineMain.run(Sluice.self) }
}
