import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("sluice-dispatch killed with SIGKILL (integration)")
struct DispatchCrashIntegrationTests {
    @Test("killed 5 times at random moments while 3,000 deliveries flow, it loses none")
    func crashSafety() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let prefix = "/\(fixture.prefix)"
            // Endpoints of mixed latency.
            var endpoints: [Endpoint] = []
            for i in 0..<30 {
                let path = i % 3 == 0 ? "delay/300" : (i % 3 == 1 ? "delay/50" : "ok")
                endpoints.append(try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("\(prefix)e\(i)/\(path)")))
            }
            let publisher = Task {
                for round in 0..<10 {
                    // Spread over about 15 s, so the kills land while deliveries keep coming.
                    for (i, endpoint) in endpoints.enumerated() {
                        let base = round * 300 + i * 10
                        try await fixture.deliveries(to: endpoint, ids: base..<(base + 10))
                    }
                    try await Task.sleep(for: .milliseconds(1500))
                }
            }

            var env = fixture.environment(instance: "crash", sessionTimeout: "2s")
            env["SLUICE_ALLOW_PRIVATE"] = "1"
            env["SLUICE_ALLOW_HTTP"] = "1"
            let log = NSTemporaryDirectory() + "sluice-dispatch-crash-\(fixture.prefix)log"
            func start() throws -> pid_t { try fixture.spawn("sluice-dispatch", environment: env, log: log) }
            var generator = SystemRandomNumberGenerator()
            var killedMidFlight = 0
            for _ in 0..<5 {
                let before = try receiver.received(prefix: prefix).count
                let pid = try start()
                // Kill only once this copy is delivering, at a random moment within 0.5 s.
                let deadline = ContinuousClock.now + .seconds(45)
                while ContinuousClock.now < deadline, try receiver.received(prefix: prefix).count < before + 20 {
                    try await Task.sleep(for: .milliseconds(100))
                }
                if try receiver.received(prefix: prefix).count >= before + 20 { killedMidFlight += 1 }
                try await Task.sleep(for: .milliseconds(Int64.random(in: 0...500, using: &generator)))
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            let survivor = try start()
            try await publisher.value

            // Every delivery is received (or parked); read until the receiver has them all.
            _ = try await waitUntil(timeout: .seconds(120), interval: .seconds(1)) {
                Set(try receiver.received(prefix: prefix).compactMap { $0.headers["webhook-id"] }).count >= 3000
            }
            kill(survivor, SIGTERM)
            var status: Int32 = 0
            waitpid(survivor, &status, 0)
            // Counted once the last copy has stopped: every duplicate request is in.
            let received = try receiver.received(prefix: prefix)
            let total = received.count
            let ids = Set(received.compactMap { $0.headers["webhook-id"] })
            let dead = try await fixture.read("dlq", atLeast: 0).count  // every dead letter written (the topic to its end)
            print("dispatch crash test: 5 kills (\(killedMidFlight) while delivering), 3000 deliveries, \(ids.count) distinct received, \(total - ids.count) duplicate requests, \(dead) dead letters; log \(log)")
            #expect(ids.count + dead >= 3000, "none lost")
            #expect(killedMidFlight >= 3, "most kills landed while deliveries were in flight")
            #expect((status >> 8) & 0xff == 0, "the last copy exits 0 on SIGTERM")
        }
    }
}
