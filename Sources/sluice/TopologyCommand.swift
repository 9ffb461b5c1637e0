import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Create and check Sluice's topics (topology/sluice.yaml).",
        subcommands: [Apply.self, Check.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the topics that are missing; report what differs without changing it.",
            discussion: """
                Never deletes or repartitions a topic: a partition count or config that differs is reported \
                for you to decide. Exit 0 when every topic exists afterwards (differences are warnings).

                Example: sluice topology apply --brokers kafka:9092 --replication 3
                """)

        @OptionGroup var stage: ClientOptions
        @Option(help: "The topology file (env SLUICE_TOPOLOGY; default topology/sluice.yaml).") var topology: String?
        @Flag(help: "Show what would be created; change nothing.") var dryRun = false
        @Option(help: "Replication factor of every topic (env SLUICE_REPLICATION; default from the topology file).")
        var replication: Int?

        func run() async throws {
            let settings = try await stage.resolve(topology: topology)
            let runtime = StageRuntime(name: "sluice-topology", settings: settings)
            let topology = try runtime.loadTopology()
            let replication = self.replication ?? ProcessInfo.processInfo.environment["SLUICE_REPLICATION"].flatMap { Int($0) }
            let wanted = topology.resolvedTopics(prefix: settings.topicPrefix, replication: replication)
            let admin = try KafkaAdmin(config: runtime.kafka, logger: runtime.logger)
            let result = try await TopologyApplier(admin: admin).apply(wanted, dryRun: dryRun) { print($0) }
            if dryRun {
                for topic in result.plan.create {
                    print("would create \(topic.name) (\(topic.partitions) partitions, replication \(topic.replication))")
                }
            }
            for difference in result.plan.differences { print("differs: \(difference)") }
            print((dryRun ? "dry run: " : "") + result.plan.summary(applied: !dryRun))
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit non-zero, naming them, when topics are missing.",
            discussion: "Example: sluice topology check --group sluice-fanout")

        @OptionGroup var stage: ClientOptions
        @Option(help: "The topology file (env SLUICE_TOPOLOGY; default topology/sluice.yaml).") var topology: String?
        @Option(help: "Check only the topics this consumer group's stage needs, e.g. sluice-fanout.")
        var group: String?

        func run() async throws {
            let settings = try await stage.resolve(topology: topology)
            let runtime = StageRuntime(name: "sluice-topology", settings: settings)
            let topology = try runtime.loadTopology()
            let names =
                try group.map { try topology.topics(ofGroup: $0, prefix: settings.topicPrefix) }
                ?? topology.resolvedTopics(prefix: settings.topicPrefix).map(\.name)
            let admin = try KafkaAdmin(config: runtime.kafka, logger: runtime.logger)
            do {
                try await admin.requireTopics(names)
            } catch {
                print("error: \(error)")
                throw ExitCode.failure
            }
            print("all \(names.count) topics exist")
        }
    }
}
