import Testing

@testable import SluiceCore

@Suite("Stage settings")
struct StageSettingsTests {
    @Test("defaults follow the brief")
    func defaults() throws {
        let settings = StageSettings()
        #expect(settings.brokers == "127.0.0.1:9092")
        #expect(settings.topic("deliveries") == "sluice.deliveries")
        try settings.validate()
    }

    @Test("bad values are refused with the flag, variable and file key to fix", arguments: [
        (StageSettings(brokers: "nohostport"), "brokers", "--brokers", "SLUICE_BROKERS"),
        (StageSettings(brokers: "a:1,b:0"), "brokers", "--brokers", "SLUICE_BROKERS"),
        (StageSettings(metricsPort: 70_000), "metrics.port", "--metrics-port", "SLUICE_METRICS_PORT"),
        (StageSettings(logLevel: "loud"), "log.level", "--log-level", "SLUICE_LOG_LEVEL"),
    ])
    func refusesBadValues(settings: StageSettings, key: String, flag: String, env: String) {
        #expect {
            try settings.validate()
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && error.description.contains(flag) && error.description.contains(env)
        }
    }

    @Test("consumers off the delivery path wait at least 250 ms per fetch, or the stage's own wait when it is longer")
    func backgroundFetchWait() {
        var settings = StageSettings()
        settings.apply(.tansu)
        #expect(settings.fetchWaitMax == .milliseconds(10))
        #expect(settings.backgroundFetchWait == .milliseconds(250))
        settings.fetchWaitMax = .milliseconds(500)
        #expect(settings.backgroundFetchWait == .milliseconds(500))
    }

    @Test("several brokers and IPv6 literals are accepted")
    func brokerLists() throws {
        try StageSettings(brokers: "k1:9092, k2:9093,[::1]:9094").validate()
    }
}

@Suite("Consumer group ids")
struct GroupIDTests {
    @Test("group ids are the brief's with the default prefix and qualified otherwise")
    func groups() {
        #expect(StageSettings().group("sluice-fanout") == "sluice-fanout")
        #expect(StageSettings(topicPrefix: "acme.").group("sluice-fanout") == "acme.sluice-fanout")
    }
}
