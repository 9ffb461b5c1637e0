import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The whole pipeline as `sluice dev` runs it: the real executables as child processes,
/// each on the shared Tansu, with tiers of seconds.
@Suite("the whole pipeline, end to end (integration)")
struct EndToEndIntegrationTests {
    static func letter(_ record: KafkaRecord) -> DeadLetter? { record.value.flatMap { try? DeadLetter(wireBytes: $0) } }
    static func attempt(_ record: KafkaRecord) -> Attempt? { record.value.flatMap { try? Attempt(wireBytes: $0) } }

    @Test("300 events, 2 tenants, 10 endpoints (flaky, always failing, 410): every pair delivered and signed or parked; the 410 one disabled; a replay after the fix delivers the dead letters once")
    func pipeline() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let root = "/\(fixture.prefix)e2e"
            // Per tenant: 3 healthy, 1 failing twice per webhook then succeeding, 1 special.
            let paths = ["ok", "ok", "ok", "flakyeach/2", "special"]
            var endpoints: [String: Endpoint] = [:]  // by path under root
            for tenant in ["acme", "globex"] {
                for (i, kind) in paths.enumerated() {
                    let special = tenant == "acme" ? "status/500" : "status/410"
                    let path = "\(root)/\(tenant)\(i)/\(kind == "special" ? special : kind)"
                    endpoints[path] = try await fixture.createEndpoint(tenant: tenant, filter: "order.*", url: receiver.url(path))
                }
            }
            let failing = try #require(endpoints.first { $0.key.hasSuffix("status/500") }?.value)
            let gone = try #require(endpoints.first { $0.key.hasSuffix("status/410") }?.value)

            var env = fixture.environment(instance: "e2e")
            env["SLUICE_ALLOW_PRIVATE"] = "1"
            env["SLUICE_ALLOW_HTTP"] = "1"
            env["SLUICE_RETRY_SCHEDULE"] = "0s,1s,1s"
            env["SLUICE_RETRY_TIERS"] = "1m=1s,10m=3s,1h=6s"
            env["SLUICE_CIRCUIT_THRESHOLD"] = "1000"  // the always-failing endpoint runs its schedule out
            let logs = NSTemporaryDirectory() + "sluice-e2e-\(fixture.prefix)"
            let stages: [(String, [String])] = [
                ("sluice-dispatch", []), ("sluice-retry", ["--tier", "1m"]), ("sluice-retry", ["--tier", "10m"]),
                ("sluice-retry", ["--tier", "1h"]), ("sluice-dlq", ["watch"]), ("sluice-fanout", []),
            ]
            var pids: [pid_t] = []
            defer { for pid in pids { kill(pid, SIGKILL) } }
            for (n, (executable, arguments)) in stages.enumerated() {
                pids.append(try fixture.spawn(executable, arguments, environment: env, log: logs + "\(n).\(executable).log"))
            }

            for tenant in ["acme", "globex"] {
                try await fixture.producer.send(fixture.events(tenant: tenant, type: "order.created", ids: 0..<150, idPrefix: tenant))
            }

            // Healthy: 150 requests each; flaky: 3 per webhook; failing: 3 per webhook.
            let expectedRequests = 6 * 150 + 2 * 450 + 450
            _ = try await waitUntil(timeout: .seconds(180), interval: .milliseconds(500)) {
                try receiver.received(prefix: root).filter { !$0.path.contains("/status/410") }.count >= expectedRequests
            }
            let received = try receiver.received(prefix: root).filter { !$0.path.contains("/status/410") }
            #expect(received.count == expectedRequests, "requests: \(received.count) of \(expectedRequests); logs \(logs)*")
            // What the assertions below need, not a count that duplicates could reach first:
            // every dead letter of the failing endpoint and one of the 410 one; a delivered
            // attempt for every pair of the working endpoints.
            let (failingID, goneID) = (failing.id, gone.id)
            let dlq = try await fixture.read("dlq", until: { records in
                let letters = records.compactMap(Self.letter)
                return Set(letters.filter { $0.delivery.endpointID == failingID }.map(\.delivery.eventID)).count >= 150
                    && letters.contains { $0.delivery.endpointID == goneID }
            })
            let wanted = Set(endpoints.values.filter { $0.id != goneID && $0.id != failingID }.flatMap { endpoint in
                (0..<150).map { "\(endpoint.tenant)-\($0)→\(endpoint.id)" }
            })
            let attempts = try await fixture.read("attempts", until: { records in
                wanted.isSubset(of: Set(records.compactMap(Self.attempt).filter { $0.outcome == .delivered }.map { "\($0.eventID)→\($0.endpointID)" }))
            }).compactMap(Self.attempt)
            let letters = dlq.compactMap(Self.letter)

            // Every pair of a working endpoint was delivered; every pair of the failing one parked.
            let delivered = Set(attempts.filter { $0.outcome == .delivered }.map { "\($0.eventID)→\($0.endpointID)" })
            for (path, endpoint) in endpoints where endpoint.id != gone.id && endpoint.id != failing.id {
                let missing = (0..<150).map { "\(endpoint.tenant)-\($0)→\(endpoint.id)" }.filter { !delivered.contains($0) }
                #expect(missing.isEmpty, "\(path): \(missing.count) not delivered, e.g. \(missing.prefix(3))")
            }
            let parked = letters.filter { $0.delivery.endpointID == failing.id }
            #expect(Set(parked.map(\.delivery.eventID)) == Set((0..<150).map { "acme-\($0)" }))
            #expect(parked.allSatisfy { $0.reason == "exhausted" && $0.attempts.count == 3 })

            // The 410 endpoint: disabled, and nothing of it is lost: parked, or not fanned out after the disable.
            #expect(try await fixture.store().load()[gone.id]?.enabled == false)
            #expect(letters.contains { $0.delivery.endpointID == gone.id && $0.reason == "endpoint_gone" })

            // Every request carried a valid signature of its endpoint's secret.
            let box = try SecretBox(masterKeyBase64: fixture.masterKey)
            var invalid = 0
            for request in received {
                guard let endpoint = endpoints.first(where: { request.path == $0.key })?.value else { invalid += 1; continue }
                do {
                    try WebhookVerifier(secrets: try endpoint.signingSecrets(box: box, now: Date())).verify(
                        id: request.headers["webhook-id"] ?? "", timestamp: request.headers["webhook-timestamp"] ?? "",
                        signatureHeader: request.headers["webhook-signature"] ?? "", body: request.body, now: Date())
                } catch { invalid += 1 }
            }
            #expect(invalid == 0, "\(invalid) requests with a bad signature or an unknown path")

            // The failing endpoint is fixed; a replay delivers each of its dead letters once.
            var fixed = failing
            fixed.url = receiver.url("\(root)/fixed/ok")
            fixed.revision += 1
            try await fixture.store().put(fixed)
            let replay = try runCommand(
                [executablePath("sluice"), "dlq", "replay", "--endpoint", failing.id], environment: fixture.environment(instance: "cli"), timeout: .seconds(60))
            #expect(replay.status == 0 && replay.output.contains("sent 150 of 150"), "\(replay.output)")
            _ = try await waitUntil(timeout: .seconds(60), interval: .milliseconds(300)) {
                Set(try receiver.received(prefix: "\(root)/fixed").compactMap { $0.headers["webhook-id"] }).count >= 150
            }

            // Every stage stops cleanly on SIGTERM.
            for (pid, (executable, arguments)) in zip(pids.reversed(), stages.reversed()) {
                #expect(stop(pid) == 0, "\(executable) \(arguments.joined(separator: " ")) did not exit 0 on SIGTERM")
            }
            pids = []
            // Counted once nothing can send any more: a duplicate would be here.
            let replayed = try receiver.received(prefix: "\(root)/fixed")
            #expect(replayed.count == 150 && Set(replayed.compactMap { $0.headers["webhook-id"] }).count == 150, "replayed: \(replayed.count)")
        }
    }
}
