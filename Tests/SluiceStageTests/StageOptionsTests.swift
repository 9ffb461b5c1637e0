import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("Stage options: flag > environment > config file > defaults")
struct StageOptionsTests {
    func configFile(_ text: String) throws -> String {
        let path = Scratch.path("options", suffix: ".yaml")
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

    @Test("a config file with an unknown key is refused naming the key and the one it is closest to")
    func unknownKeys() async throws {
        let typo = try configFile("""
            brokers: file:1
            retry:
              shedule: 0s,1s
            metrics:
              prot: 9100
            librdkafka:
              anything.goes: 1
            """)
        await #expect { try await StageOptions.parse(["--config", typo]).resolveAll(environment: [:]) } throws: { error in
            let text = "\(error)"
            return text.contains("`retry.shedule` (did you mean `retry.schedule`?)") && text.contains("`metrics.prot` (did you mean `metrics.port`?)")
                && text.contains(typo) && !text.contains("anything.goes")
        }
        let stranger = try configFile("color: blue\n")
        await #expect { try await StageOptions.parse(["--config", stranger]).resolveAll(environment: [:]) } throws: { error in
            "\(error)".contains("an unknown key: `color`;")
        }
    }

    @Test("every key the settings read is accepted in the file (the README's example too)")
    func knownKeys() async throws {
        let readme = try configFile("""
            brokers: kafka-1:9092,kafka-2:9092
            topic:
              prefix: sluice.
            log:
              level: info
            kafka:
              profile: kafka
              fetch_wait_max: 10ms
              linger: 1ms
              session_timeout: 6s
              isolation: read_committed   # read_uncommitted on Tansu
              gap_check: off              # on for Tansu
            retry:
              max_age: 24h
              tiers: 1m=2s,10m=5s,1h=10s
            circuit:
              threshold: 5
              cool_down: 30s
            librdkafka:
              fetch.wait.max.ms: 10
              linger.ms: 1
            """)
        let resolved = try await StageOptions.parse(["--config", readme]).resolveAll(environment: [:])
        #expect(resolved.stage.brokers == "kafka-1:9092,kafka-2:9092")
        #expect(!resolved.stage.checksGaps && !resolved.stage.readUncommitted)
        #expect(ConfigFileKeys.unknownKeys(in: ["topic": ["prefix": "x"], "librdkafka": ["a.b": 1]]).isEmpty)
        #expect(ConfigFileKeys.distance("shedule", "schedule") == 1 && ConfigFileKeys.distance("", "abc") == 3)
    }

    @Test("http.ca_file from the file reaches the delivery settings; a file with no certificate stops the stage, named")
    func caFile() async throws {
        let pem = try configFile("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let config = try configFile("http:\n  ca_file: \(pem)\n")
        #expect(try await StageOptions.parse(["--config", config]).resolveAll(environment: [:]).delivery.caFile == pem)
        let notPEM = try configFile("brokers: x\n")
        await #expect {
            try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_HTTP_CA_FILE": notPEM])
        } throws: { error in
            "\(error)".contains("invalid http.ca_file") && "\(error)".contains("holds none")
        }
    }

    @Test("kafka.profile: tansu sets four keys' defaults, a key set on its own wins, kafka is the defaults, anything else refused by name")
    func brokerProfile() async throws {
        let plain = try await StageOptions.parse([]).resolveAll(environment: [:]).stage
        var kafka = plain
        kafka.apply(.kafka)
        #expect(kafka == plain, "the kafka profile is the defaults")
        let tansu = try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_PROFILE": "tansu"]).stage
        #expect(tansu.fetchWaitMax == .milliseconds(10) && tansu.linger == .milliseconds(1))
        #expect(tansu.readUncommitted && tansu.checksGaps)
        let file = try configFile("kafka:\n  profile: tansu\n  gap_check: off\n  linger: 5ms\n")
        let mixed = try await StageOptions.parse(["--config", file]).resolveAll(environment: ["SLUICE_KAFKA_ISOLATION": "read_committed"]).stage
        #expect(!mixed.checksGaps && mixed.linger == .milliseconds(5) && !mixed.readUncommitted, "keys of their own win")
        #expect(mixed.fetchWaitMax == .milliseconds(10), "the rest is the profile's")
        await #expect { try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_PROFILE": "redpanda"]) } throws: { error in
            "\(error)".contains("kafka.profile") && "\(error)".contains("kafka or tansu") && "\(error)".contains("SLUICE_KAFKA_PROFILE")
        }
    }

    @Test("kafka.isolation: read_committed by default, read_uncommitted from the file or SLUICE_KAFKA_ISOLATION, anything else refused by name")
    func isolation() async throws {
        let plain = try await StageOptions.parse([]).resolveAll(environment: [:])
        #expect(!plain.stage.readUncommitted)
        let file = try configFile("kafka:\n  isolation: read_uncommitted\n")
        #expect(try await StageOptions.parse(["--config", file]).resolveAll(environment: [:]).stage.readUncommitted)
        let env = try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_ISOLATION": "read_uncommitted"])
        #expect(env.stage.readUncommitted)
        await #expect { try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_ISOLATION": "dirty"]) } throws: { error in
            "\(error)".contains("kafka.isolation") && "\(error)".contains("read_committed or read_uncommitted")
        }
    }

    @Test("kafka.gap_check: off by default, on from the file (a YAML boolean too) or SLUICE_KAFKA_GAP_CHECK, anything else refused by name")
    func gapCheck() async throws {
        #expect(try await !StageOptions.parse([]).resolveAll(environment: [:]).stage.checksGaps)
        for text in ["on", "true"] {
            let file = try configFile("kafka:\n  gap_check: \(text)\n")
            #expect(try await StageOptions.parse(["--config", file]).resolveAll(environment: [:]).stage.checksGaps)
        }
        #expect(try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_GAP_CHECK": "on"]).stage.checksGaps)
        #expect(try await !StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_GAP_CHECK": "off"]).stage.checksGaps)
        await #expect { try await StageOptions.parse([]).resolveAll(environment: ["SLUICE_KAFKA_GAP_CHECK": "sometimes"]) } throws: { error in
            "\(error)".contains("kafka.gap_check") && "\(error)".contains("on or off")
        }
    }
}
