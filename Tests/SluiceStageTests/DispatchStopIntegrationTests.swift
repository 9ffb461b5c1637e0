import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

#if canImport(Glibc)
import Glibc
#endif

@Suite("sluice-dispatch stopped or rebalanced beside a slow endpoint (integration)")
struct DispatchStopIntegrationTests {
    /// An endpoint under `path` of the test receiver that takes one request at a time and
    /// answers each after `delay` milliseconds, with `count` deliveries (one partition)
    /// written for it, ids `<idPrefix>-<n>`.
    @discardableResult
    static func slowEndpoint(
        _ fixture: StageFixture, _ receiver: TestReceiver, path: String, delay: Int, count: Int, idPrefix: String = "evt"
    ) async throws -> Endpoint {
        var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path + "delay/\(delay)"))
        endpoint.concurrency = 1
        endpoint = try await fixture.store().put(endpoint)
        try await fixture.deliveries(to: endpoint, ids: 0..<count, idPrefix: idPrefix)
        return endpoint
    }

    @Test("deliveries waiting for a slow endpoint do not hold the stop; the next copy delivers them")
    func stopLeavesWaitingDeliveries() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let prefix = "/\(fixture.prefix)stop/"
            // One request at a time, three seconds each: 20 deliveries take a minute.
            var endpoint = try await Self.slowEndpoint(fixture, receiver, path: prefix, delay: 3000, count: 20)

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
            // The stop waits up to 15 s for the deliveries being handled, then leaves the one
            // request under way and the rest of the queue (about 40 s of it).
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

    @Test("a request still under way after the stop's drain is abandoned: no attempt spent, the stage released, the next copy delivers it")
    func stopAbandonsRequestsUnderWay() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)abandon/"
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path + "blackhole"))
            try await fixture.deliveries(to: endpoint, ids: 0..<1)
            var config = DispatchStage.Config()
            config.stopDrain = .seconds(2)
            weak var released: DispatchStage?
            do {
                let runtime = StageRuntime(name: "sluice-dispatch", settings: fixture.settings(instance: "abandon"))
                let stage = try await DispatchStage.start(
                    runtime: runtime, topology: fixture.topology, delivery: try fixture.delivery(["http.timeout": "120s"]), config: config)
                released = stage
                let running = Task { try await stage.run() }
                _ = try await receiver.awaitRequests(prefix: path, atLeast: 1, timeout: .seconds(120))
                // Cancelled, as a test stops a stage: the drain still waits its two seconds.
                let stopping = ContinuousClock.now
                running.cancel()
                try await running.value
                let took = ContinuousClock.now - stopping
                #expect(took >= .seconds(2) && took < .seconds(60), "stopped in \(took)")
            }
            // Nothing the stage started (a request's completion, an outcome's write) still
            // holds it, or its Kafka clients, once `run()` has returned.
            let gone = try await waitUntil(timeout: .seconds(30), interval: .milliseconds(50)) { released == nil }
            #expect(gone, "the stopped stage is still referenced")

            // The next copy reads the delivery again (its offset was not committed) and, the
            // endpoint fast now, delivers it; no attempt was recorded for the abandoned request.
            endpoint.url = receiver.url(path + "ok")
            try await fixture.store().put(endpoint)
            let attempts = try await DispatchIntegrationTests.withDispatch(fixture, instance: "abandon2") {
                DispatchIntegrationTests.attempts(try await fixture.read("attempts", atLeast: 1))
            }
            #expect(attempts.map(\.outcome) == [.delivered], "\(attempts.map { "\($0.outcome) \($0.error ?? "")" })")
            #expect(attempts.first?.attempt == 1, "the abandoned request spent no attempt")
            #expect(try receiver.received(prefix: path).map { $0.path.hasSuffix("/ok") } == [false, true])
        }
    }

    @Test("at a rebalance, deliveries waiting for a slow endpoint are left to the partition's next owner: none is sent twice")
    func revokeLeavesWaitingDeliveries() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)revoke/"
            // One request at a time, half a second each: 40 deliveries (one partition) queue
            // at the first dispatcher's gate for 20 s.
            try await Self.slowEndpoint(fixture, receiver, path: path, delay: 500, count: 40, idPrefix: "queued")
            let all = try await DispatchIntegrationTests.withDispatch(fixture, instance: "d1") {
                _ = try await receiver.awaitRequests(prefix: path, atLeast: 2, timeout: .seconds(300))
                // A second dispatcher joins: the first gives up its partitions (all of them
                // under the eager protocol) and leaves the queue to whichever owns it next.
                return try await DispatchIntegrationTests.withDispatch(fixture, instance: "d2") {
                    let all = try await receiver.awaitRequests(prefix: path, atLeast: 40, timeout: .seconds(300))
                    // Until the group has committed all 40: a queued delivery the first
                    // dispatcher still sent after its revoke would have been sent by now.
                    try await ReplayLaneIntegrationTests.awaitCommitted(fixture, count: 40, topic: "deliveries")
                    return all
                }
            }
            let ids = all.compactMap { $0.headers["webhook-id"] }
            #expect(Set(ids) == Set((0..<40).map { "queued-\($0)" }), "none lost")
            let twice = Dictionary(grouping: try receiver.received(prefix: path).compactMap { $0.headers["webhook-id"] }, by: { $0 }).filter { $0.value.count > 1 }
            #expect(twice.isEmpty, "sent twice (a queued delivery sent after its partition went): \(twice.keys.sorted().prefix(10))")
        }
    }
}
