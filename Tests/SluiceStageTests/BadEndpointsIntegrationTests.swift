import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

/// Dead, rate-limited and gone endpoints against dispatch and all three tiers, in this
/// process, with the production schedule scaled down (minutes to seconds).
@Suite("dead, rate-limited and gone endpoints cost bounded work (integration)")
struct BadEndpointsIntegrationTests {
    /// The default schedule (0, 1 m, 10 m, 1 h × 5) and tiers scaled down: 8 attempts over
    /// about 30 s, the circuit's cool-down from 1 s to 4 s. The maximum age is 10 min here, so
    /// a loaded machine's slow start cannot expire a delivery before its first attempt; the
    /// always-failing test scales it down to 40 s.
    static let scaled = [
        "retry.schedule": "0s,1s,2s,4s,4s,4s,4s,4s", "retry.max_age": "600s", "retry.tiers": "1m=1s,10m=2s,1h=4s",
        "circuit.threshold": "5", "circuit.cool_down": "1s", "circuit.cool_down_max": "4s",
    ]

    /// Runs dispatch (with `config`) and the three tiers until `body` returns.
    static func withPipeline<T: Sendable>(
        _ fixture: StageFixture, _ overrides: [String: String] = [:], config: DispatchStage.Config = .init(), _ body: () async throws -> T
    ) async throws -> T {
        let settings = try fixture.delivery(scaled.merging(overrides) { $1 })
        let dispatch = try await DispatchStage.start(
            runtime: StageRuntime(name: "sluice-dispatch", settings: fixture.settings(instance: "d1")), topology: fixture.topology,
            delivery: settings, config: config)
        running.withLock { $0[fixture.prefix] = dispatch }
        defer { running.withLock { $0[fixture.prefix] = nil } }
        var tiers: [RetryStage] = []
        for tier in RetryTier.allCases {
            tiers.append(try await RetryStage.start(
                runtime: StageRuntime(name: RetryStage.group(of: tier), settings: fixture.settings(instance: "t\(tier.rawValue)")),
                topology: fixture.topology, delivery: settings, tier: tier))
        }
        runningTiers.withLock { $0[fixture.prefix] = tiers }
        defer { runningTiers.withLock { $0[fixture.prefix] = nil } }
        let (t1, t2, t3) = (tiers[0], tiers[1], tiers[2])
        return try await whileRunning({ try await t1.run() }) {
            try await whileRunning({ try await t2.run() }) {
                try await whileRunning({ try await t3.run() }) {
                    try await whileRunning({ try await dispatch.run() }, body)
                }
            }
        }
    }

    /// The dispatch stage of each running pipeline, by fixture prefix (for failure messages).
    static let running = Locked<[String: DispatchStage]>([:])
    /// The retry tiers of each running pipeline, by fixture prefix.
    static let runningTiers = Locked<[String: [RetryStage]]>([:])

    static func deadLetters(_ records: [KafkaRecord]) -> [DeadLetter] { records.compactMap { $0.value.flatMap { try? DeadLetter(wireBytes: $0) } } }

    /// The DLQ's records, read until the dead letters cover `count` events (evt-0…), not
    /// until `count` records: a delivery may be dead-lettered twice, and counting the
    /// duplicate once ended a read before the last one arrived.
    static func readDLQ(_ fixture: StageFixture, covering count: Int) async throws -> [KafkaRecord] {
        let ids = Set((0..<count).map { "evt-\($0)" })
        var seen = Set<String>()
        var counted = 0
        return try await fixture.read("dlq", until: { records in
            seen.formUnion(deadLetters(Array(records[counted...])).map(\.delivery.eventID))
            counted = records.count
            return seen.isSuperset(of: ids)
        }, timeout: .seconds(240))
    }

    /// Where the `missing` deliveries (event ids) were last written: the latest record of
    /// each, by its timestamp, over every topic a delivery passes through, and the time of
    /// the last attempt of any of them; for a failure message.
    static func whereAre(_ missing: Set<String>, _ fixture: StageFixture) async throws -> String {
        var seen: [String: (at: Int64, text: String)] = [:]
        // Records a read_committed reader cannot see (an open transaction holds the
        // partition's stable offset back): what read_uncommitted adds, by partition.
        var hidden: [String: [Int64]] = [:]
        for topic in ["deliveries", "retry.1m", "retry.10m", "retry.1h", "rejected", "dlq"] {
            let committed = try await fixture.read(topic, atLeast: 0, timeout: .seconds(30))
            let all = try await fixture.read(topic, atLeast: 0, timeout: .seconds(30), isolation: .readUncommitted)
            let visible = Set(committed.map { "\($0.topicPartition)@\($0.offset)" })
            for record in all where !visible.contains("\(record.topicPartition)@\(record.offset)") {
                hidden["\(record.topicPartition)", default: []].append(record.offset)
            }
            for record in all {
                guard let d = try? Delivery(wireBytes: record.value ?? []), missing.contains(d.eventID) else { continue }
                let at = record.timestampMs ?? 0
                if at >= seen[d.eventID]?.at ?? .min {
                    let note = visible.contains("\(record.topicPartition)@\(record.offset)") ? "" : " (hidden from read_committed)"
                    seen[d.eventID] = (at, "\(topic)[\(record.partition)]@\(record.offset)\(note) written \(Date(timeIntervalSince1970: Double(at) / 1000)) attempt \(d.attempt) passes \(d.passes) not_before \(d.notBefore) created \(d.createdAt)")
                }
            }
        }
        let hiddenText = hidden.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.count) from @\($0.value.min() ?? 0)" }
        let attempts = try await fixture.read("attempts", atLeast: 0).compactMap { $0.value.flatMap { try? Attempt(wireBytes: $0) } }
        let lastAttempt = attempts.filter { missing.contains($0.eventID) }.map(\.at).max()
        let endpoint = attempts.first { missing.contains($0.eventID) }?.endpointID ?? "?"
        let held = running.withLock { $0[fixture.prefix] }.map { $0.describe(endpoint: endpoint) } ?? "dispatch not running"
        let tiers = runningTiers.withLock { $0[fixture.prefix] }?.map { $0.describe() } ?? []
        return "dispatch: \(held); tiers: \(tiers); hidden from read_committed: \(hiddenText); last attempt of one at \(lastAttempt.map { "\($0)" } ?? "never") (now \(Date())); last written: \(seen.sorted { $0.key < $1.key }.prefix(5).map { "\($0.key): \($0.value.text)" })"
    }

    /// Waits (at most 240 s) until every one of `ids` (event ids) got a request after the
    /// receiver's first `failing` answers (all failures), and returns the requests. Waits for
    /// the set, not a count: at-least-once delivery may send one twice.
    static func awaitDelivered(
        _ ids: Set<String>, after failing: Int, prefix: String, _ receiver: TestReceiver, _ fixture: StageFixture
    ) async throws -> [TestReceiver.Received] {
        var requests: [TestReceiver.Received] = []
        var delivered = Set<String>()
        _ = try await waitUntil(timeout: .seconds(240), interval: .milliseconds(250)) {
            requests = try receiver.received(prefix: prefix)
            delivered = Set(requests.dropFirst(failing).compactMap { $0.headers["webhook-id"] })
            return delivered.isSuperset(of: ids)
        }
        let missing = ids.subtracting(delivered)
        if !missing.isEmpty {
            Issue.record("\(missing.count) of \(ids.count) never answered 2xx (\(requests.count) requests); \(try await whereAre(missing, fixture))")
        }
        return requests
    }

    @Test("an always-failing endpoint: every delivery reaches the DLQ by its max age, passing through the tiers a bounded number of times")
    func alwaysFailing() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("/\(fixture.prefix)dead/status/500"))
            try await fixture.deliveries(to: endpoint, ids: 0..<100)
            let started = Date()
            let all = Set((0..<100).map { "evt-\($0)" })
            let letters = try await Self.withPipeline(fixture, ["retry.max_age": "40s"]) {
                let letters = Self.deadLetters(try await Self.readDLQ(fixture, covering: 100))
                // Described while the stages still run: their holds are the clue.
                let missing = all.subtracting(letters.map(\.delivery.eventID))
                if !missing.isEmpty {
                    Issue.record("\(missing.count) deliveries not dead-lettered; \(try await Self.whereAre(missing, fixture))")
                }
                return letters
            }
            #expect(Set(letters.map(\.delivery.eventID)).count == 100)
            // Bound: attempts + 3 free deferrals + log2(largest/smallest tier) + max age / largest tier, and 2.
            let bound = 8 + RetryPolicy.freeDeferrals + 2 + 40 / 4 + 2
            let passes = letters.map(\.delivery.passes)
            let latest = letters.map(\.deadAt).max() ?? started
            print("always failing: \(letters.count) dead letters in \(String(format: "%.1f", latest.timeIntervalSince(started))) s; tier passes per delivery: max \(passes.max() ?? 0), mean \(String(format: "%.1f", Double(passes.reduce(0, +)) / Double(max(1, passes.count)))), bound \(bound); reasons \(Dictionary(grouping: letters, by: \.reason).mapValues(\.count))")
            #expect(passes.allSatisfy { $0 <= bound }, "passes \(passes.max() ?? 0) over the bound \(bound)")
            #expect(letters.allSatisfy { ["exhausted", "max_age"].contains($0.reason) })
            // No attempt after a delivery's maximum age (a few seconds' slack for the request itself).
            let late = letters.filter { letter in letter.attempts.contains { $0.at > letter.delivery.createdAt.addingTimeInterval(40 + 5) } }
            #expect(late.isEmpty, "\(late.count) deliveries attempted past their max age")
            let requests = try receiver.received(prefix: "/\(fixture.prefix)dead").count
            #expect(requests < 100 * 8, "the open circuit saved requests: \(requests)")
        }
    }

    @Test("an endpoint that recovers mid-backlog gets everything, nothing dead-lettered")
    func recovers() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)recovers/flaky/12/x"  // 12 failures open the circuit twice, then 200
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            try await fixture.deliveries(to: endpoint, ids: 0..<100)
            let requests = try await Self.withPipeline(fixture) {
                try await Self.awaitDelivered(Set((0..<100).map { "evt-\($0)" }), after: 12, prefix: path, receiver, fixture)
            }
            let recovery = (requests.last?.time ?? 0) - (requests.dropFirst(12).first?.time ?? 0)
            print("recovering endpoint: backlog delivered \(String(format: "%.1f", recovery)) s after the first success")
            let dlq = try await fixture.read("dlq", atLeast: 0)
            #expect(Self.deadLetters(dlq).isEmpty)
        }
    }

    @Test("with the straggler pool on (--straggler-loop), an endpoint that fails and recovers gets everything beside a healthy one: its failing requests took the stragglers' pool, the rest the healthy one")
    func stragglerLoop() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let flaky = "/\(fixture.prefix)straggler/flaky/12/x"
            let healthy = "/\(fixture.prefix)straggler/ok"
            let failing = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(flaky))
            let fine = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(healthy))
            try await fixture.deliveries(to: failing, ids: 0..<60)
            try await fixture.deliveries(to: fine, ids: 0..<60)
            var config = DispatchStage.Config()
            config.stragglerLoop = true
            try await Self.withPipeline(fixture, config: config) {
                _ = try await Self.awaitDelivered(Set((0..<60).map { "evt-\($0)" }), after: 12, prefix: flaky, receiver, fixture)
                _ = try await Self.awaitDelivered(Set((0..<60).map { "evt-\($0)" }), after: 0, prefix: healthy, receiver, fixture)
                let http = try #require(Self.running.withLock { $0[fixture.prefix] }).http
                #expect(http.poolCount == 2)
                #expect(http.requestsPosted(pool: 1) >= 1, "the failing endpoint's requests after its first failure took the stragglers' pool")
                #expect(http.requestsPosted(pool: 0) >= 60, "the healthy endpoint's took the healthy pool")
                print("straggler pool: \(http.requestsPosted(pool: 0)) requests in the healthy pool, \(http.requestsPosted(pool: 1)) in the stragglers'")
            }
            let dlq = try await fixture.read("dlq", atLeast: 0)
            #expect(Self.deadLetters(dlq).isEmpty)
        }
    }

    @Test("429 with Retry-After for a while, then 200: everything delivered, nothing dead-lettered")
    func rateLimited() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let prefix = "/\(fixture.prefix)limited/flaky/20/x"
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(prefix + "?status=429&retry_after=3"))
            try await fixture.deliveries(to: endpoint, ids: 0..<20)
            _ = try await Self.withPipeline(fixture) {
                try await Self.awaitDelivered(Set((0..<20).map { "evt-\($0)" }), after: 20, prefix: prefix, receiver, fixture)
            }
            #expect(Self.deadLetters(try await fixture.read("dlq", atLeast: 0)).isEmpty)
        }
    }

    @Test("410 with 200 deliveries in flight and the circuit threshold at its maximum: at most the endpoint's concurrency in requests, one disabled revision, one ops event")
    func gone() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)gone/status/410"
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            endpoint.concurrency = 8
            endpoint.revision += 1
            endpoint = try await fixture.store().put(endpoint)
            try await fixture.deliveries(to: endpoint, ids: 0..<200)
            let (dlq, ops, revisions) = try await Self.withPipeline(fixture, ["circuit.threshold": "1000"]) {
                (try await Self.readDLQ(fixture, covering: 200),
                 try await fixture.read("ops", atLeast: 1, timeout: .seconds(240)),
                 try await fixture.read("endpoints", atLeast: 3, timeout: .seconds(240)))
            }
            let requests = try receiver.received(prefix: path).count
            #expect(requests <= 8, "\(requests) requests to a gone endpoint")
            #expect(Set(Self.deadLetters(dlq).map(\.delivery.eventID)).count == 200, "every delivery parked, replayable")
            let disabled = revisions.compactMap { $0.value.flatMap { try? Endpoint(wireBytes: $0) } }.filter { $0.id == endpoint.id && !$0.enabled }
            #expect(disabled.count == 1, "\(disabled.count) disabled revisions")
            let kinds = ops.compactMap { $0.value.flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0)) } }
                .filter { $0["kind"] == .string("endpoint_disabled") }
            #expect(kinds.count == 1, "\(kinds.count) endpoint_disabled events")
        }
    }

    @Test("fresh deliveries keep flowing while a backlog of retries fills the stage")
    func freshShare() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let slowPath = "/\(fixture.prefix)share/delay/5000"
            let fastPath = "/\(fixture.prefix)share/fast/ok"
            var slow = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(slowPath))
            slow.concurrency = 200
            slow.revision += 1
            slow = try await fixture.store().put(slow)
            let fast = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(fastPath))
            // 200 retries (attempt 2) for the slow endpoint, then 100 first attempts for the fast one.
            let retries = try (0..<200).map { n -> KafkaProducerRecord in
                var delivery = Delivery(event: Event.structured(id: "retry-\(n)", source: "/s", type: "t", tenant: "acme", data: .object([:])), endpointID: slow.id, now: Date())
                delivery.attempt = 2
                delivery.passes = 1
                return KafkaProducerRecord(topic: fixture.topic("deliveries"), partition: 0, key: Array(slow.id.utf8), value: try delivery.wireBytes())
            }
            var config = DispatchStage.Config()
            config.maxInFlight = 40
            // Every request and waiting delivery counts: the retry budget alone keeps the share.
            (config.maxParked, config.maxWaiting) = (0, 0)
            let (fresh, old) = try await Self.withPipeline(fixture, config: config) {
                // The retries fill the stage first; the fresh deliveries come while they do.
                try await fixture.producer.send(retries)
                _ = try await receiver.awaitRequests(prefix: slowPath, atLeast: 20, timeout: .seconds(240))
                try await fixture.deliveries(to: fast, ids: 0..<100, partition: 1)
                return (try await receiver.awaitRequests(prefix: fastPath, atLeast: 100, timeout: .seconds(240)),
                        try receiver.received(prefix: slowPath))
            }
            #expect(fresh.count >= 100)
            // Retries may hold 30 of the 40 places (200 retries of 5 s take at least 33 s); the rest wait in a tier, so the stage goes
            // on polling and the fresh deliveries do not wait for the whole backlog (without
            // the kept share all 200 would be in flight and polling would stop until they end).
            print("fresh share: 100 fresh delivered while \(old.count) of 200 retries had been sent")
            #expect(old.count < 200, "fresh deliveries waited for the whole retry backlog")
        }
    }

    @Test("an endpoint whose secret cannot be opened: its deliveries are parked at once, with one ops event")
    func unreadableSecret() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)secret/ok"
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            try await fixture.deliveries(to: endpoint, ids: 0..<5)
            let other = SecretBox.Key.generateBase64()
            let (dlq, ops) = try await Self.withPipeline(fixture, ["master.key": other]) {
                (try await Self.readDLQ(fixture, covering: 5),
                 try await fixture.read("ops", atLeast: 1, timeout: .seconds(240)))
            }
            #expect(Self.deadLetters(dlq).filter { $0.reason == "secret_unreadable" }.count == 5)
            #expect(try receiver.received(prefix: path).isEmpty)
            let events = ops.compactMap { $0.value.flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0)) } }
            #expect(events.filter { $0["kind"] == .string("secret_unreadable") }.count == 1)
        }
    }

    @Test("a dispatcher restarted during a failure streak keeps the streak's start: the disable window counts across the restart")
    func durableStreak() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("/\(fixture.prefix)streak/status/500"))
            let settings = try fixture.delivery(Self.scaled.merging(["disable.window": "6s", "circuit.threshold": "1", "circuit.cool_down_max": "1s"]) { $1 })
            func dispatch(_ instance: String) async throws -> DispatchStage {
                try await DispatchStage.start(
                    runtime: StageRuntime(name: "sluice-dispatch", settings: fixture.settings(instance: instance)), topology: fixture.topology, delivery: settings)
            }
            // The first copy sees the streak start and writes it; it stops 4 s into the streak.
            try await fixture.deliveries(to: endpoint, ids: 0..<3, idPrefix: "first")
            let first = try await dispatch("d1")
            let started = try await whileRunning({ try await first.run() }) { () async throws -> Date in
                let records = try await fixture.read("endpoint-health", atLeast: 1, timeout: .seconds(180))
                let streak = try #require(records.compactMap { $0.value.flatMap { try? FailureStreak(wireBytes: $0) } }.first)
                while Date() < streak.failingSince.addingTimeInterval(4) { try await Task.sleep(for: .milliseconds(100)) }
                return streak.failingSince
            }
            // The second copy's own failures begin now; the window (6 s) ends 2 s later, not 6 s later.
            try await fixture.deliveries(to: endpoint, ids: 0..<3, idPrefix: "second")
            let second = try await dispatch("d2")
            let (attempts, endpoints) = try await whileRunning({ try await second.run() }) {
                (try await fixture.read("attempts", atLeast: 4, timeout: .seconds(240)),
                 try await fixture.read("endpoints", atLeast: 2, timeout: .seconds(240)))
            }
            let firstOfSecond = try #require(attempts.compactMap { $0.value.flatMap { try? Attempt(wireBytes: $0) } }
                .filter { $0.eventID.hasPrefix("second") }.map(\.at).min())
            let disabled = try #require(endpoints.compactMap { $0.value.flatMap { try? Endpoint(wireBytes: $0) } }.first { !$0.enabled })
            print("durable streak: started \(started), second copy's first failure +\(String(format: "%.1f", firstOfSecond.timeIntervalSince(started))) s, disabled +\(String(format: "%.1f", disabled.updatedAt.timeIntervalSince(started))) s")
            #expect(disabled.disabledReason?.contains("failing for longer") == true)
            #expect(disabled.updatedAt.timeIntervalSince(firstOfSecond) < 4, "the second copy counted the window from the streak's start, not its own first failure")
        }
    }
}
