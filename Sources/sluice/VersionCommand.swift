import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Sluice's version and the librdkafka runtime it loaded.",
        discussion: "Example: sluice version --json")

    @Flag(help: "Print JSON: sluice, librdkafka, librdkafka_expected, warning.") var json = false

    func run() throws {
        if json {
            var object: [String: String] = [
                "sluice": SluiceVersion.current, "librdkafka": LibrdkafkaRuntime.version, "librdkafka_expected": LibrdkafkaRuntime.expectedVersion,
            ]
            object["warning"] = LibrdkafkaRuntime.warning
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("sluice \(SluiceVersion.current)")
        print("librdkafka \(LibrdkafkaRuntime.version) (setup installs \(LibrdkafkaRuntime.expectedVersion))")
        if let warning = LibrdkafkaRuntime.warning { print("warning: \(warning)") }
    }
}
