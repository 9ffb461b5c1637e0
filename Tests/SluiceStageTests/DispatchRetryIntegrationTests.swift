import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

/// Dispatch and the 1m retry tier together, in this process, with tiers of seconds: what
/// happens to a delivery after its first attempt fails.
@Suite("sluice-dispatch with a retry tier: retries, Retry-After and the circuit probe (integration)")
struct DispatchRetryIntegrationTests {
    /// Schedule and tiers of seconds; the circuit stays closed unless a test sets it.
    static let retry = ["retry.schedule": "0s,1s,1s", "retry.tiers": "1m=1s,10m=5s,1h=10s", "circuit.threshold": "100"]

    /// Runs dispatch and the 1m tier with `overrides` until `body` returns.
    static func withDispatchAndTier<T: Sendable>(_ fixture: StageFixture, _ overrides: [String: String], _ body: () async throws -> T) async throws -> T {
        let settings = try fixture.delivery(retry.merging(overrides) { $1 })
        let dispatch = try await DispatchStage.start(
            runtime: StageRuntime(name: "sluice-dispatch", settings: fixture.settings(instance: "d1")), topology: fixture.topology, delivery: settings)
        let tier = try await RetryStage.start(
            runtime: StageRuntime(name: RetryStage.group(of: .oneMinute), settings: fixture.settings(instance: "t1")),
            topology: fixture.topology, delivery: settings, tier: .oneMinute)
        return try await whileRunning({ try await tier.run() }) {
            try await whileRunning({ try await dispatch.run() }, body)
        }
    }

    static func attempts(_ records: [KafkaRecord]) -> [Attempt] { records.compactMap { $0.value.flatMap { try? Attempt(wireBytes: $0) } } }

    /// The requests of each webhook-id, in the order received.
    static func byWebhookID(_ requests: [TestReceiver.Received]) -> [String: [TestReceiver.Received]] {
        Dictionary(grouping: requests.sorted { $0.time < $1.time }) { $0.headers["webhook-id"] ?? "" }
    }

    @Test("500 then 200: the retry goes through the tier, no earlier than its not_before, with the same webhook-id and a valid signature")
    func failsThenSucceeds() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)retried/flaky/5/x"  // the first 5 requests get 500
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            try await fixture.deliveries(to: endpoint, ids: 0..<5)
            let (_, attempts, retries) = try await Self.withDispatchAndTier(fixture, [:]) {
                (try await receiver.awaitRequests(prefix: path, atLeast: 10), Self.attempts(try await fixture.read("attempts", atLeast: 10)),
                 try await fixture.read("retry.1m", atLeast: 5))
            }
            let requests = try receiver.received(prefix: path)  // once the stages stopped: extras would be here
            // The schedule's 1 s is fully jittered (0…1 s): each retry is due at its own not_before.
            let due = Dictionary(try retries.map { try Delivery(wireBytes: $0.value ?? []) }.map { ($0.eventID, $0.notBefore) }) { a, _ in a }
            #expect(requests.count == 10, "one failure and one success each")
            let box = try SecretBox(masterKeyBase64: fixture.masterKey)
            let verifier = WebhookVerifier(secrets: try endpoint.signingSecrets(box: box, now: Date()))
            for (id, pair) in Self.byWebhookID(requests) {
                #expect(pair.count == 2, "\(id): \(pair.count) requests")
                guard pair.count == 2 else { continue }
                let notBefore = try #require(due[id], "\(id) went through the 1m tier").timeIntervalSince1970
                #expect(pair[1].time >= notBefore - 0.01, "\(id): the retry came \(notBefore - pair[1].time) s before it was due")
                for request in pair {
                    try verifier.verify(
                        id: id, timestamp: request.headers["webhook-timestamp"] ?? "", signatureHeader: request.headers["webhook-signature"] ?? "",
                        body: request.body, now: Date())
                }
            }
            #expect(Set(Self.byWebhookID(requests).keys) == Set((0..<5).map { "evt-\($0)" }))
            #expect(attempts.filter { $0.attempt == 1 }.allSatisfy { $0.status == 500 && $0.outcome == .retrying })
            #expect(attempts.filter { $0.attempt == 2 }.allSatisfy { $0.status == 200 && $0.outcome == .delivered })
            #expect(attempts.filter { $0.attempt == 2 }.count == 5)
        }
    }

    @Test("429 with Retry-After: 2 waits at least 2 s although the schedule says retry at once")
    func retryAfterHonoured() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)busy/flaky/3/x"
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path + "?status=429&retry_after=2"))
            try await fixture.deliveries(to: endpoint, ids: 0..<3)
            let (_, attempts) = try await Self.withDispatchAndTier(fixture, ["retry.schedule": "0s,0s,0s"]) {
                (try await receiver.awaitRequests(prefix: path, atLeast: 6), Self.attempts(try await fixture.read("attempts", atLeast: 6)))
            }
            let requests = try receiver.received(prefix: path)  // once the stages stopped: extras would be here
            #expect(requests.count == 6)
            for (id, pair) in Self.byWebhookID(requests) where pair.count == 2 {
                #expect(pair[1].time - pair[0].time >= 2.0, "\(id): retried \(pair[1].time - pair[0].time) s after a Retry-After of 2 s")
            }
            let throttled = attempts.filter { $0.attempt == 1 }
            #expect(throttled.count == 3 && throttled.allSatisfy { $0.status == 429 && $0.outcome == .retrying })
            #expect(attempts.filter { $0.attempt == 2 && $0.outcome == .delivered }.count == 3)
        }
    }

    @Test("the circuit opens after 3 failures, defers the rest without spending attempts, and a probe after the cool-down closes it; all are delivered")
    func circuitProbeCloses() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)down/flaky/3/x"
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            endpoint.concurrency = 1  // one at a time, so the three failures are consecutive
            endpoint.revision += 1
            endpoint = try await fixture.store().put(endpoint)
            try await fixture.deliveries(to: endpoint, ids: 0..<10)
            // A request timeout under the cool-down, as with the defaults (15 s against 30 s):
            // deliveries that arrive while the probe is out wait until it must have answered,
            // at least the cool-down (with the stage's 15 s they would wait in a larger tier
            // than this test runs).
            let settings = ["circuit.threshold": "3", "circuit.cool_down": "2s", "http.timeout": "1s"]
            let (_, ops, attempts) = try await Self.withDispatchAndTier(fixture, settings) {
                (try await receiver.awaitRequests(prefix: path, atLeast: 13), try await fixture.read("ops", atLeast: 2),
                 Self.attempts(try await fixture.read("attempts", atLeast: 13)))
            }
            let requests = try receiver.received(prefix: path)  // once the stages stopped: extras would be here
            #expect(requests.count == 13, "3 failures, then each of the 10 delivered once")
            #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 10)
            let kinds = ops.compactMap { record in ["circuit_opened", "circuit_closed"].first { record.text.contains($0) } }
            #expect(kinds == ["circuit_opened", "circuit_closed"], "\(kinds)")
            #expect(attempts.filter { $0.outcome == .delivered }.count == 10)
            #expect(attempts.filter { $0.status == 500 }.count == 3)
            // Nothing went in the circuit's 2 s cool-down: the first request after the failures is the probe.
            let sorted = requests.sorted { $0.time < $1.time }
            #expect(sorted[3].time - sorted[2].time >= 2.0, "probe \(sorted[3].time - sorted[2].time) s after the circuit opened")
        }
    }
}
