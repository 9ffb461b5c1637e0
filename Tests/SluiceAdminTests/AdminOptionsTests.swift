import Testing

@testable import SluiceAdmin

@Suite("sluice-admin options")
struct AdminOptionsTests {
    @Test("flags beat the environment, which beats the defaults")
    func layers() throws {
        #expect(try AdminOptions.resolve(port: nil, host: nil, store: nil, environment: [:]) == AdminOptions())
        let env = ["SLUICE_ADMIN_PORT": "9000", "SLUICE_ADMIN_HOST": "0.0.0.0", "SLUICE_ADMIN_STORE": "/tmp/a.sqlite"]
        #expect(try AdminOptions.resolve(port: nil, host: nil, store: nil, environment: env) == AdminOptions(port: 9000, host: "0.0.0.0", storePath: "/tmp/a.sqlite"))
        #expect(try AdminOptions.resolve(port: 9100, host: nil, store: "b.sqlite", environment: env).port == 9100)
    }

    @Test("a bad port is refused, naming the flag and the variable")
    func refusals() {
        for (port, env) in [(70000, [String: String]()), (nil, ["SLUICE_ADMIN_PORT": "http"])] as [(Int?, [String: String])] {
            do {
                _ = try AdminOptions.resolve(port: port, host: nil, store: nil, environment: env)
                Issue.record("accepted \(String(describing: port)) \(env)")
            } catch { #expect(error.description.contains("SLUICE_ADMIN_PORT")) }
        }
    }
}

@Suite("sluice-admin retention option")
struct AdminRetentionOptionTests {
    @Test("retention: default 30d, from the flag or SLUICE_ADMIN_RETENTION; under 24h or not a duration is refused, naming both")
    func retention() throws {
        #expect(try AdminOptions.resolve(port: nil, host: nil, store: nil, environment: [:]).retention == .seconds(30 * 86_400))
        #expect(try AdminOptions.resolve(port: nil, host: nil, store: nil, environment: ["SLUICE_ADMIN_RETENTION": "7d"]).retention == .seconds(7 * 86_400))
        #expect(try AdminOptions.resolve(port: nil, host: nil, store: nil, retention: "48h", environment: ["SLUICE_ADMIN_RETENTION": "7d"]).retention == .seconds(48 * 3600))
        for text in ["1h", "soon"] {
            do {
                _ = try AdminOptions.resolve(port: nil, host: nil, store: nil, retention: text, environment: [:])
                Issue.record("accepted retention \(text)")
            } catch { #expect(error.description.contains("--retention") && error.description.contains("SLUICE_ADMIN_RETENTION")) }
        }
        #expect(StoreRetention.interval(for: .seconds(30 * 86_400)) == .seconds(3600))
        #expect(StoreRetention.interval(for: .seconds(86_400)) == .seconds(864))
    }
}
