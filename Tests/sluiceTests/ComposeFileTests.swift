import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
import Yams

/// docker-compose.yml and the Dockerfile, checked without a Docker engine: they parse,
/// every service runs an executable this package builds with flags it has, and topic
/// names are the topology's.
@Suite("docker-compose.yml and the Dockerfile")
struct ComposeFileTests {
    static let root = TestBroker.repositoryRoot
    static let executables = ["sluice", "sluice-fanout", "sluice-dispatch", "sluice-retry", "sluice-dlq", "sluice-admin"]

    static func compose() throws -> [String: Any] {
        let text = try String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    /// The argv a service runs: its entrypoint, then its command.
    static func argv(_ service: [String: Any]) -> [String] {
        ((service["entrypoint"] as? [String]) ?? []) + ((service["command"] as? [String]) ?? [])
    }

    @Test("it parses; Kafka runs in KRaft mode; every Sluice service runs a built executable with flags that exist")
    func servicesRunRealCommands() throws {
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        let kafka = try #require(services["kafka"])
        #expect((kafka["image"] as? String)?.hasPrefix("apache/kafka") == true)
        #expect(((kafka["environment"] as? [String: Any])?["KAFKA_PROCESS_ROLES"] as? String) == "broker,controller")
        for stage in ["fanout", "dispatch", "retry-1m", "retry-10m", "retry-1h", "dlq-watch", "receiver", "topology", "admin"] {
            #expect(services[stage] != nil, "service \(stage)")
        }
        #expect(((services["fanout"]?["deploy"] as? [String: Any])?["replicas"] as? Int) == 2, "fanout ×2 shows scaling")
        #expect(((services["dispatch"]?["deploy"] as? [String: Any])?["replicas"] as? Int) == 2)
        for (name, service) in services where name != "kafka" {
            let argv = Self.argv(service)
            let executable = try #require(argv.first, "\(name) runs nothing")
            #expect(Self.executables.contains(executable), "\(name) runs \(executable), which this package does not build")
            // Subcommands come first, then flags; `--help` of that command must know each flag.
            let subcommands = Array(argv.dropFirst().prefix { !$0.hasPrefix("-") })
            let help = try runCommand([executablePath(executable)] + subcommands + ["--help"])
            #expect(help.status == 0, "\(name): \(([executable] + subcommands).joined(separator: " ")) --help failed: \(help.output)")
            for flag in argv.filter({ $0.hasPrefix("--") && $0 != "--help" }) {
                #expect(help.output.contains(flag), "\(name): \(executable) has no \(flag)")
            }
            if name != "kafka", name != "topology" {
                let environment = service["environment"] as? [String: Any] ?? [:]
                #expect(name == "receiver" ? environment["SLUICE_RECEIVER_SECRET"] != nil : environment["SLUICE_BROKERS"] as? String == "kafka:9092", "\(name)'s environment")
            }
        }
        let tiers = Set(services.values.map(Self.argv).filter { $0.first == "sluice-retry" }.compactMap { $0.last })
        #expect(tiers == Set(RetryTier.allCases.map(\.rawValue)), "one service per retry tier")
    }

    @Test("topic names in the file are the topology's; the Dockerfile copies every executable and the topology file")
    func topicsAndDockerfile() throws {
        let topology = try Topology.load(path: Self.root.appendingPathComponent("topology/sluice.yaml").path)
        let names = Set(topology.topics.map { "sluice." + $0.name })
        let text = try String(contentsOf: Self.root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let mentioned = text.matches(of: /sluice\.[a-z0-9.]*[a-z0-9]/).map { String($0.output) }.filter { !$0.hasSuffix(".yaml") }
        #expect(mentioned.count >= 10, "the comments name the topics each stage reads and writes")
        for topic in mentioned { #expect(names.contains(topic), "\(topic) is not in topology/sluice.yaml") }
        let services = try #require(try Self.compose()["services"] as? [String: [String: Any]])
        #expect(Self.argv(try #require(services["topology"])) == ["sluice", "topology", "apply"], "the one-shot applies the topology file")

        let dockerfile = try String(contentsOf: Self.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        for executable in Self.executables {
            #expect(dockerfile.contains("/src/.build/release/\(executable) "), "the image has \(executable)")
        }
        #expect(dockerfile.contains("COPY topology/sluice.yaml /usr/local/share/sluice/topology/sluice.yaml"))
        #expect(dockerfile.contains("COPY --from=build /src/.deps/lib/ /usr/local/lib/"), "the librdkafka runtime, on the executables' rpath")
    }
}
