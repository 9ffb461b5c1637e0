import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("sluice-fanout killed with SIGKILL (integration)")
struct FanoutCrashIntegrationTests {
    @Test("killed 5 times at random moments while 5,000 events flow, it loses no (event, endpoint) pair")
    func crashSafety() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let a = try await fixture.createEndpoint(tenant: "acme", filter: "*")
            let b = try await fixture.createEndpoint(tenant: "acme", filter: "order.*")
            let c = try await fixture.createEndpoint(tenant: "globex", filter: "*")
            var records: [KafkaProducerRecord] = []
            var expected = Set<DeliveryPair>()
            for n in 0..<5000 {
                let tenant = n % 2 == 0 ? "acme" : "globex"
                let type = n % 3 == 0 ? "order.created" : "user.created"
                records += fixture.events(tenant: tenant, type: type, ids: n..<(n + 1))
                for e in [a, b, c] where e.tenant == tenant && e.filter.matches(type) {
                    expected.insert(DeliveryPair(event: "evt-\(n)", endpoint: e.id))
                }
            }

            // Publish at about 1,000 events/s while the stage is killed and restarted.
            let producer = try kafka.producer()
            let publisher = Task {
                let start = ContinuousClock.now
                for (i, chunk) in stride(from: 0, to: records.count, by: 100).enumerated() {
                    try await Task.sleep(until: start + .milliseconds(100 * i))
                    try await producer.send(Array(records[chunk..<min(chunk + 100, records.count)]))
                }
            }

            let env = fixture.environment(instance: "crash", sessionTimeout: "2s")
            let log = NSTemporaryDirectory() + "sluice-fanout-crash-\(fixture.prefix)log"
            func start() throws -> pid_t { try fixture.spawn("sluice-fanout", environment: env, log: log) }
            var generator = SystemRandomNumberGenerator()
            var kills = 0
            for _ in 0..<5 {
                let pid = try start()
                try await Task.sleep(for: .milliseconds(Int64.random(in: 1500...3000, using: &generator)))
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                kills += 1
            }
            let survivor = try start()
            try await publisher.value

            let delivered = try await fixture.read("deliveries", covering: expected, timeout: .seconds(240))
            kill(survivor, SIGTERM)
            var status: Int32 = 0
            waitpid(survivor, &status, 0)

            let comparison = DeliveryComparison(expected: expected, got: delivered.compactMap(DeliveryPair.init))
            print("fanout crash test: \(kills) kills, \(expected.count) expected deliveries, \(comparison.duplicates) duplicates "
                + "(Tansu shows aborted transactions to read_committed readers; Apache Kafka would show none); log \(log)")
            #expect(kills == 5)
            #expect(comparison.missing.isEmpty, "\(comparison)")
            #expect(comparison.unexpected.isEmpty, "\(comparison)")
            #expect((status >> 8) & 0xff == 0, "the last copy exits 0 on SIGTERM")
        }
    }
}
