import Foundation
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceAdmin

/// What `/readyz` learns about the broker: from a real broker, and from a port where none listens.
@Suite("Broker probe (integration)")
struct BrokerProbeIntegrationTests {
    @Test("against Tansu the probe reports no problem; against a closed port it says the broker has not answered, with the reason")
    func probe() async throws {
        try await IntegrationTest.run { kafka in
            let live = BrokerProbe(admin: try kafka.admin(), logger: kafka.logger)
            #expect(live.problem != nil, "no answer yet before the first probe")
            let liveRun = Task { try await live.run() }
            defer { liveRun.cancel() }
            #expect(await waitUntil(timeout: .seconds(60)) { live.problem == nil }, "\(live.problem ?? "")")

            let nowhere = KafkaClientConfig(brokers: "127.0.0.1:\(try freePort())", clientID: "sluice-test", requestTimeout: .seconds(1))
            let dead = BrokerProbe(admin: try KafkaAdmin(config: nowhere, logger: kafka.logger), logger: kafka.logger)
            let deadRun = Task { try await dead.run() }
            defer { deadRun.cancel() }
            #expect(await waitUntil(timeout: .seconds(60)) { dead.problem?.contains("(") == true }, "the failure's reason: \(dead.problem ?? "nil")")
            #expect(dead.problem?.hasPrefix("the broker has not answered") == true)
        }
    }
}
