import Foundation
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("sluice topology and version, as an operator runs them (integration)")
struct TopologyCommandIntegrationTests {
    let sluice = executablePath("sluice")

    @Test("apply creates every topic with progress and a summary; a second apply has nothing to do; check passes")
    func applyThenCheck() async throws {
        try await IntegrationTest.run { kafka in
            let prefix = kafka.uniqueName("cli") + "."
            let common = ["--brokers", kafka.broker.bootstrap, "--topic-prefix", prefix]

            let dry = try runCommand([sluice, "topology", "apply", "--dry-run"] + common)
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.output.contains("would create \(prefix)deliveries (32 partitions, replication 1)"))
            #expect(dry.output.contains("dry run: 14 topics: 14 to create, 0 up to date, 0 differ"))

            let missing = try runCommand([sluice, "topology", "check", "--group", "sluice-fanout"] + common)
            #expect(missing.status == 1)
            #expect(missing.output.contains("\(prefix)events"))
            #expect(missing.output.contains("sluice topology apply"))

            let first = try runCommand([sluice, "topology", "apply"] + common)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.contains("[14/14] created"))
            #expect(first.output.contains("14 topics: 14 created, 0 up to date, 0 differ"))

            let second = try runCommand([sluice, "topology", "apply"] + common)
            #expect(second.status == 0)
            #expect(second.output.contains("14 topics: 0 created, 14 up to date, 0 differ (nothing to do)"))

            let check = try runCommand([sluice, "topology", "check"] + common)
            #expect(check.status == 0)
            #expect(check.output.contains("all 14 topics exist"))
        }
    }

    @Test("environment and config file supply the brokers when no flag does")
    func environmentAndConfigFile() async throws {
        try await IntegrationTest.run { kafka in
            let prefix = kafka.uniqueName("env") + "."
            let viaEnv = try runCommand(
                [sluice, "topology", "apply", "--dry-run"],
                environment: ["SLUICE_BROKERS": kafka.broker.bootstrap, "SLUICE_TOPIC_PREFIX": prefix])
            #expect(viaEnv.status == 0, "\(viaEnv.output)")
            #expect(viaEnv.output.contains("would create \(prefix)events"))

            let file = Scratch.path("topology-config", suffix: ".yaml")
            try "brokers: \(kafka.broker.bootstrap)\ntopic:\n  prefix: \(prefix)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let viaFile = try runCommand([sluice, "topology", "apply", "--dry-run", "--config", file])
            #expect(viaFile.status == 0, "\(viaFile.output)")
            #expect(viaFile.output.contains("would create \(prefix)events"))
        }
    }

    @Test("an unreachable broker fails within a bounded time and says what to check")
    func unreachableBroker() throws {
        let port = try freePort()
        let result = try runCommand([sluice, "topology", "check", "--brokers", "127.0.0.1:\(port)"], timeout: .seconds(60))
        #expect(result.status != 0)
        #expect(result.status != -1, "the command hung")
        #expect(result.output.contains("--brokers"))
        #expect(result.elapsed < .seconds(30))
        // librdkafka retries the dead address every few hundred milliseconds; its lines are throttled.
        let lines = result.output.split(separator: "\n")
        #expect(lines.count < 12, "\(lines.count) lines:\n\(result.output)")
        #expect(lines.last?.hasPrefix("error:") == true, "the last line is the clear one: \(result.output)")
    }

    @Test("a bad flag value names the key, the variable and the file key")
    func badValue() throws {
        let result = try runCommand([sluice, "topology", "check", "--brokers", "nope"])
        #expect(result.status == 64)
        #expect(result.output.contains("SLUICE_BROKERS"))
    }

    @Test("a binary that loads an old librdkafka says so at start, and how to fix it")
    func oldRuntimeWarning() throws {
        let debian = "/usr/lib/x86_64-linux-gnu/librdkafka.so.1"
        try #require(FileManager.default.fileExists(atPath: debian), "Debian's librdkafka1 is installed by setup")
        // Put Debian's 2.0.2 under the name the executable asks the loader for.
        let needed = try FileManager.default.contentsOfDirectory(atPath: TestBroker.repositoryRoot.appendingPathComponent(".deps/lib").path)
            .first { $0.hasPrefix("librdkafka-") }
        let soname = try #require(needed)
        let dir = Scratch.path("old-rdkafka")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/" + soname, withDestinationPath: debian)

        let result = try runCommand([sluice, "version"], environment: ["LD_LIBRARY_PATH": dir])
        #expect(result.output.contains("librdkafka 2.0.2"), "\(result.output)")
        #expect(result.output.contains("warning:"))
        #expect(result.output.contains("make build"))

        let current = try runCommand([sluice, "version"])
        #expect(current.output.contains("librdkafka \(LibrdkafkaRuntime.expectedVersion)"))
        #expect(!current.output.contains("warning"))
        let json = try runCommand([sluice, "version", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: String]
        #expect(object?["librdkafka"] == LibrdkafkaRuntime.expectedVersion && object?["sluice"] != nil, "\(json.output)")
    }
}
