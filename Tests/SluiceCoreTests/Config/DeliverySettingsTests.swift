import Foundation
import Testing

@testable import SluiceCore

@Suite("Delivery settings")
struct DeliverySettingsTests {
    @Test("defaults are the brief's")
    func defaults() throws {
        let s = try DeliverySettings(lookup: { _ in nil })
        #expect(s.schedule == .default)
        #expect(s.tiers == .nominal)
        #expect(s.requestTimeout == .seconds(15))
        #expect(s.disableWindow == .seconds(432_000))
        #expect(s.maxEventBytes == 262_144)
        #expect(!s.destinations.allowHTTP && !s.destinations.allowPrivate)
        #expect(throws: ConfigError.self) { try s.secretBox() }
    }

    @Test("the dev and test values of the brief are taken")
    func devValues() throws {
        let values = [
            "retry.schedule": "0s,2s,5s,10s", "retry.tiers": "1m=2s,10m=5s,1h=10s", "allow.private": "1", "allow.http": "true",
            "master.key": SecretBox.Key.generateBase64(), "http.timeout": "2s",
        ]
        let s = try DeliverySettings(lookup: { values[$0] })
        #expect(s.schedule.maxAttempts == 4)
        #expect(s.tiers.delay(of: .oneHour) == .seconds(10))
        #expect(s.destinations.allowPrivate && s.destinations.allowHTTP)
        #expect(s.requestTimeout == .seconds(2))
        _ = try s.secretBox()
    }

    @Test("a bad value names its key, its variable and what is expected", arguments: [
        ("retry.schedule", "never", "SLUICE_RETRY_SCHEDULE"), ("retry.tiers", "1m", "SLUICE_RETRY_TIERS"),
        ("allow.private", "maybe", "SLUICE_ALLOW_PRIVATE"), ("master.key", "short", "SLUICE_MASTER_KEY"),
        ("http.timeout", "0s", "SLUICE_HTTP_TIMEOUT"), ("circuit.threshold", "0", "SLUICE_CIRCUIT_THRESHOLD"),
        ("destinations.allow", "10.0.0.0/40", "SLUICE_DESTINATIONS_ALLOW"),
    ])
    func badValues(key: String, value: String, env: String) {
        #expect {
            try DeliverySettings(lookup: { $0 == key ? value : nil })
        } throws: { error in
            "\(error)".contains(env) && !"\(error)".contains(value == "short" ? "short" : "\u{0}")
        }
    }
}

@Suite("Delivery settings: the CA file for endpoints' TLS")
struct DeliverySettingsCAFileTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-ca-\(UUID().uuidString).pem").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a PEM file is taken; none set leaves the system's bundle")
    func taken() throws {
        let path = try file("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try DeliverySettings(lookup: { $0 == "http.ca_file" ? path : nil }).caFile == path)
        #expect(try DeliverySettings(lookup: { _ in nil }).caFile == nil)
    }

    @Test("a path nothing can be read at, or a file with no certificate, is refused with what to set")
    func refused() throws {
        let notPEM = try file("not a certificate")
        defer { try? FileManager.default.removeItem(atPath: notPEM) }
        for (path, says) in [("/nonexistent/ca.pem", "nothing can be read"), (notPEM, "this file holds none")] {
            #expect {
                try DeliverySettings(lookup: { $0 == "http.ca_file" ? path : nil })
            } throws: { error in
                "\(error)".contains("SLUICE_HTTP_CA_FILE") && "\(error)".contains(says) && "\(error)".contains(path)
            }
        }
    }
}

@Suite("Delivery settings: their keys")
struct DeliverySettingsKeysTests {
    @Test("DeliverySettings.keys lists exactly the keys it reads")
    func keysAreThoseRead() throws {
        let read = Locked<[String]>([])
        _ = try DeliverySettings(lookup: { key in read.withLock { $0.append(key) }; return nil })
        #expect(Set(read.withLock { $0 }) == Set(DeliverySettings.keys))
    }
}
