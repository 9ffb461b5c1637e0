import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("sluice-dlq against Tansu (integration)")
struct DeadLetterIntegrationTests {
    /// Three attempts a second apart; the circuit stays closed (five failures would open it).
    static let retry = ["retry.schedule": "0s,1s,1s", "retry.tiers": "1m=1s,10m=5s,1h=10s", "circuit.threshold": "100"]

    @Test("a failing endpoint goes attempt 1 → tier → DLQ; once fixed, `sluice-dlq replay --endpoint` delivers each dead letter once; a second replay and --dry-run send nothing")
    func journey() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)journey"
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("\(path)/status/500"))
            try await fixture.deliveries(to: endpoint, ids: 0..<5)

            let runtime = StageRuntime(name: "sluice-dispatch", settings: fixture.settings(instance: "d1"))
            let dispatch = try await DispatchStage.start(runtime: runtime, topology: fixture.topology, delivery: try fixture.delivery(Self.retry))
            let tierRuntime = StageRuntime(name: RetryStage.group(of: .oneMinute), settings: fixture.settings(instance: "t1"))
            let tier = try await RetryStage.start(runtime: tierRuntime, topology: fixture.topology, delivery: try fixture.delivery(Self.retry), tier: .oneMinute)
            let (dead, _) = try await whileRunning({ try await tier.run() }) {
                try await whileRunning({ try await dispatch.run() }) {
                    let dlq = try await fixture.read("dlq", atLeast: 5, timeout: .seconds(180))
                    let failing = try receiver.received(prefix: "\(path)/status/500").count
                    #expect(failing == 15, "3 attempts each")

                    // The endpoint is fixed.
                    endpoint.url = receiver.url("\(path)/fixed")
                    endpoint.revision += 1
                    try await fixture.store().put(endpoint)

                    let env = fixture.environment(instance: "cli")
                    let dry = try runCommand([executablePath("sluice-dlq"), "replay", "--endpoint", endpoint.id, "--dry-run"], environment: env)
                    #expect(dry.status == 0 && dry.output.contains("would send 5 of 5"), "\(dry.output)")
                    let first = try runCommand([executablePath("sluice-dlq"), "replay", "--endpoint", endpoint.id], environment: env)
                    #expect(first.status == 0 && first.output.contains("sent 5 of 5"), "\(first.output)")
                    let second = try runCommand([executablePath("sluice"), "dlq", "replay", "--endpoint", endpoint.id], environment: env)
                    #expect(second.status == 0 && second.output.contains("sent 0 of 5") && second.output.contains("5 already sent"), "\(second.output)")
                    _ = try await receiver.awaitRequests(prefix: "\(path)/fixed", atLeast: 5, timeout: .seconds(90))
                    return (dlq, ())
                }
            }
            // Counted once the stages have stopped: a duplicate would be here.
            let replayed = try receiver.received(prefix: "\(path)/fixed")
            let letters = try dead.map { try DeadLetter(wireBytes: $0.value ?? []) }
            #expect(letters.allSatisfy { $0.reason == "exhausted" && $0.attempts.count == 3 && $0.delivery.attempt == 3 })
            #expect(replayed.count == 5, "each dead letter delivered once after the replay")
            #expect(Set(replayed.compactMap { $0.headers["webhook-id"] }) == Set((0..<5).map { "evt-\($0)" }), "the original webhook-ids")
        }
    }

    @Test("list and replay by time range select exactly the dead letters parked in the range (offsets-for-times fallback on Tansu)")
    func timeRange() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let base = Date().addingTimeInterval(-3600).timeIntervalSince1970.rounded(.down)
            let records = try (0..<10).map { i -> KafkaProducerRecord in
                let event = Event.structured(id: "old-\(i)", source: "/t", type: "t.x", tenant: "acme", data: .object([:]))
                let dead = DeadLetter(
                    delivery: Delivery(event: event, endpointID: "ep_\(i % 3)", now: Date()), reason: "exhausted", finalError: "HTTP 500",
                    attempts: [], deadAt: Date())
                var record = try KafkaProducerRecord(topic: fixture.topic("dlq"), key: "ep_\(i % 3)", wire: dead)
                record.timestampMs = Int64((base + Double(i) * 60) * 1000)
                return record
            }
            try await fixture.producer.send(records)
            let archive = DeadLetterArchive(topic: fixture.topic("dlq"), reader: try kafka.reader())
            let filter = DeadLetterFilter(since: Date(timeIntervalSince1970: base + 180), until: Date(timeIntervalSince1970: base + 420))
            let scan = try await archive.scan(filter)
            #expect(scan.entries.map(\.deadLetter.delivery.eventID) == ["old-3", "old-4", "old-5", "old-6"])

            let env = fixture.environment(instance: "cli")
            let since = String(Int(base + 180)), until = String(Int(base + 420))
            let list = try runCommand([executablePath("sluice"), "dlq", "list", "--since", since, "--until", until, "--json"], environment: env)
            #expect(list.status == 0, "\(list.output)")
            let ids = (list.output.components(separatedBy: "\"event_id\" : \"").dropFirst()).map { String($0.prefix { $0 != "\"" }) }
            #expect(ids == ["old-3", "old-4", "old-5", "old-6"], "\(list.output.prefix(500))")
            let dry = try runCommand([executablePath("sluice-dlq"), "replay", "--since", since, "--until", until, "--dry-run"], environment: env)
            #expect(dry.output.contains("would send 0 of 4"), "endpoints ep_0…ep_2 do not exist: \(dry.output)")
            #expect(dry.output.contains("disabled or deleted"))
            let everything = try runCommand([executablePath("sluice-dlq"), "replay", "--all", "--dry-run"], environment: env)
            #expect(everything.status == 0 && everything.output.contains("would send 0 of 10"), "--all matches every dead letter: \(everything.output)")
            let bad = try runCommand([executablePath("sluice-dlq"), "list", "--since", "last tuesday"], environment: env)
            #expect(bad.status != 0 && bad.output.contains("is not a time"), "\(bad.output)")
        }
    }

    @Test("watch: one ops event per endpoint and interval summarising its dead letters; unreadable DLQ records go to sluice.rejected")
    func watch() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            func dead(_ i: Int, _ endpoint: String) throws -> KafkaProducerRecord {
                let event = Event.structured(id: "w-\(i)", source: "/t", type: "t.x", tenant: "acme", data: .object([:]))
                let letter = DeadLetter(delivery: Delivery(event: event, endpointID: endpoint, now: Date()), reason: "exhausted", finalError: "HTTP 500", attempts: [], deadAt: Date())
                return KafkaProducerRecord(topic: fixture.topic("dlq"), key: Array(endpoint.utf8), value: try letter.wireBytes())
            }
            try await fixture.producer.send([
                try dead(0, "ep_a"), try dead(1, "ep_a"), try dead(2, "ep_a"), try dead(3, "ep_b"),
                KafkaProducerRecord(topic: fixture.topic("dlq"), key: Array("ep_a".utf8), value: Array("{broken".utf8)),
            ])
            let runtime = StageRuntime(name: "sluice-dlq", settings: fixture.settings(instance: "w1"))
            let watch = try await DeadLetterWatch.start(runtime: runtime, topology: fixture.topology, interval: .seconds(4))
            let (ops, rejected) = try await whileRunning({ try await watch.run() }) {
                (try await fixture.read("ops", atLeast: 3, timeout: .seconds(180)), try await fixture.read("rejected", atLeast: 1))
            }
            let summaries = ops.map(\.text)
            #expect(summaries.count == 3, "\(summaries)")
            #expect(summaries.filter { $0.contains("\"endpoint_id\":\"ep_a\"") }.count == 2, "first at once, the rest one interval later")
            #expect(summaries.contains { $0.contains("\"endpoint_id\":\"ep_a\"") && $0.contains("\"count\":2") })
            #expect(summaries.contains { $0.contains("\"endpoint_id\":\"ep_b\"") && $0.contains("\"count\":1") })
            #expect(rejected.first?.text == "{broken")
            #expect(rejected.first?.headers[header: Rejection.reasonHeader]?.stringValue == "bad_dead_letter")
            #expect(watch.counters.withLock { $0["exhausted"] } == 4)
        }
    }
}
