import Foundation
import SluiceCore
import Testing

@testable import SluiceStage

@Suite("Stage options: flag > environment > config file > defaults")
struct StageOptionsTests {
    func configFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "sluice-options-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults when nothing is set")
    func defaults() async throws {
        let (stage, delivery) = try await StageOptions.parse([]).resolveAll(environment: [:])
        #expect(stage == StageSettings())
        #expect(delivery.schedule == .default)
    }

    @Test("the file beats defaults, the environment beats the file, a flag beats the environment")
    func layering() async throws {
        let file = try configFile("""
            brokers: file:1
            topic:
              prefix: file.
            metrics:
              port: 9100
            retry:
              schedule: 0s,1s
              tiers: 1m=1s,10m=2s,1h=3s
            allow:
              private: true
            librdkafka:
              linger.ms: 7
            """)
        let fromFile = try await StageOptions.parse(["--config", file]).resolveAll(environment: [:])
        #expect(fromFile.stage.brokers == "file:1")
        #expect(fromFile.stage.topicPrefix == "file.")
        #expect(fromFile.stage.metricsPort == 9100)
        #expect(fromFile.stage.librdkafka == ["linger.ms": "7"])
        #expect(fromFile.delivery.schedule.maxAttempts == 2)
        #expect(fromFile.delivery.tiers.delay(of: .oneHour) == .seconds(3))
        #expect(fromFile.delivery.destinations.allowPrivate)

        let env = ["SLUICE_BROKERS": "env:2", "SLUICE_RETRY_SCHEDULE": "0s,1s,2s", "SLUICE_CONFIG": file]
        let fromEnv = try await StageOptions.parse([]).resolveAll(environment: env)
        #expect(fromEnv.stage.brokers == "env:2")
        #expect(fromEnv.stage.topicPrefix == "file.")
        #expect(fromEnv.delivery.schedule.maxAttempts == 3)

        let fromFlag = try await StageOptions.parse(["--brokers", "flag:3"]).resolveAll(environment: env)
        #expect(fromFlag.stage.brokers == "flag:3")
    }

    @Test("a bad value anywhere is refused naming the key")
    func badValues() async throws {
        await #expect { try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_METRICS_PORT": "lots"]) } throws: {
            "\($0)".contains("metrics.port")
        }
        await #expect { try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_RETRY_TIERS": "1m=never"]) } throws: {
            "\($0)".contains("SLUICE_RETRY_TIERS")
        }
        await #expect { try await StageOptions.parse(["--config", "/nonexistent.yaml"]).resolveAll(environment: [:]) } throws: {
            "\($0)".contains("/nonexistent.yaml")
        }
    }
}
