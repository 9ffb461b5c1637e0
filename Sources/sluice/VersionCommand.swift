import ArgumentParser
import SluiceCore
import SluiceKafka

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Sluice's version and the librdkafka runtime it loaded.",
        discussion: "Example: sluice version")

    func run() throws {
        print("sluice \(SluiceVersion.current)")
        print("librdkafka \(LibrdkafkaRuntime.version) (setup installs \(LibrdkafkaRuntime.expectedVersion))")
        if let warning = LibrdkafkaRuntime.warning { print("warning: \(warning)") }
    }
}
