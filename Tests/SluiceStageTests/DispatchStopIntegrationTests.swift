import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("sluice-dispatch stopped with SIGTERM beside a slow endpoint (integration)")
struct DispatchStopIntegrationTests {
    @Test("deliveries waiting for a slow endpoint do not hold the stop; the next copy delivers them")
    func stopLeavesWaitingDeliveries() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let prefix = "/\(fixture.prefix)stop/"
            // One request at a time, three seconds each: 20 deliveries take a minute.
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(prefix + "delay/3000"))
            endpoint.concurrency = 1
            endpoint = try await fixture.store().put(endpoint)
            try await fixture.deliveries(to: endpoint, ids: 0..<20)

            var env = fixture.environment(instance: "stop")
            env["SLUICE_ALLOW_PRIVATE"] = "1"
            env["SLUICE_ALLOW_HTTP"] = "1"
            env["SLUICE_LOG_LEVEL"] = "info"
            let log = NSTemporaryDirectory() + "sluice-dispatch-stop-\(fixture.prefix)log"
            let first = try fixture.spawn("sluice-dispatch", environment: env, log: log)
            let started = try await waitUntil(timeout: .seconds(60), interval: .milliseconds(200)) { try receiver.received(prefix: prefix).count >= 1 }
            #expect(started, "the first copy delivers")

            let stopping = ContinuousClock.now
            kill(first, SIGTERM)
            var status: Int32 = 0
            waitpid(first, &status, 0)
            let took = ContinuousClock.now - stopping
            let sent = try receiver.received(prefix: prefix).count
            print("dispatch stop test: stopped \(took) after SIGTERM, \(sent) of 20 sent; log \(log)")
            // The stop waits up to 15 s for the deliveries being handled, then for the one
            // request in flight (3 s); the rest of the queue (about 40 s of it) is left.
            #expect(took < .seconds(35), "stopped \(took) after SIGTERM, \(sent) of 20 sent; log \(log)")
            #expect((status >> 8) & 0xff == 0, "exit 0 on SIGTERM")
            #expect(sent < 20)
            let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(logged.contains("left deliveries waiting at their endpoints' gates"), "the log says deliveries were left; log \(log)")

            // The next copy reads what was left (its offsets were not committed) and, the
            // endpoint fast now, delivers every one.
            endpoint.url = receiver.url(prefix + "ok")
            endpoint.concurrency = nil
            try await fixture.store().put(endpoint)
            let second = try fixture.spawn("sluice-dispatch", environment: env, log: log)
            let all = try await waitUntil(timeout: .seconds(90), interval: .milliseconds(500)) {
                Set(try receiver.received(prefix: prefix).compactMap { $0.headers["webhook-id"] }).count >= 20
            }
            kill(second, SIGTERM)
            waitpid(second, &status, 0)
            let ids = Set(try receiver.received(prefix: prefix).compactMap { $0.headers["webhook-id"] })
            #expect(all && ids.count == 20, "\(ids.count) of 20 distinct deliveries received; log \(log)")
        }
    }
}
