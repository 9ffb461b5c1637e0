import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("sluice events replay against Tansu (integration)")
struct HistoryReplayIntegrationTests {
    /// Runs `sluice` with `arguments` off the cooperative pool (the stages of the test
    /// need its threads while the command runs).
    static func sluice(_ arguments: [String], _ env: [String: String], timeout: Duration = .seconds(600)) async throws -> CommandResult {
        let outcome: Result<CommandResult, any Error> = await OffPool.run { () throws(Never) in
            Result { try runCommand([executablePath("sluice")] + arguments, environment: env, timeout: timeout) }
        }
        return try outcome.get()
    }

    /// Events `prefix-n` of `type` for `tenant`, published (record time) at `at`.
    static func events(_ fixture: StageFixture, tenant: String, type: String, ids: Range<Int>, prefix: String, at: Date) -> [KafkaProducerRecord] {
        fixture.events(tenant: tenant, type: type, ids: ids, idPrefix: prefix).map { record in
            var record = record
            record.timestampMs = Int64((at.timeIntervalSince1970 * 1000).rounded())
            return record
        }
    }

    /// The replays' deliveries (`sluice.redeliveries`), read to the topic's end once `count` arrived.
    static func deliveries(_ fixture: StageFixture, atLeast count: Int) async throws -> [Delivery] {
        try await fixture.read("redeliveries", atLeast: count).compactMap { $0.value.flatMap { try? Delivery(wireBytes: $0) } }
    }

    @Test("a new endpoint gets last hour's matching events of its tenant only, for it alone, with the original ids; the same replay again sends nothing")
    func newEndpoint() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let now = Date()
            var records = Self.events(fixture, tenant: "acme", type: "order.created", ids: 0..<5, prefix: "old", at: now.addingTimeInterval(-7200))
            records += Self.events(fixture, tenant: "acme", type: "order.created", ids: 0..<6, prefix: "recent", at: now.addingTimeInterval(-1800))
            records += Self.events(fixture, tenant: "acme", type: "invoice.paid", ids: 0..<3, prefix: "invoice", at: now.addingTimeInterval(-1800))
            records += Self.events(fixture, tenant: "globex", type: "order.created", ids: 0..<4, prefix: "globex", at: now.addingTimeInterval(-1800))
            try await fixture.producer.send(records)
            // Created after the events: fanout never made deliveries of them for it.
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "order.*")
            let sibling = try await fixture.createEndpoint(tenant: "acme", filter: "*")
            let env = fixture.environment(instance: "cli")

            let dry = try await Self.sluice(["events", "replay", "--endpoint", endpoint.id, "--since", "1h", "--dry-run"], env)
            #expect(dry.status == 0 && dry.output.contains("would send 6 of 6 matching events"), "\(dry.output)")
            #expect(dry.output.contains("4 of other tenants") && dry.output.contains("3 of other types"), "\(dry.output)")
            let first = try await Self.sluice(["events", "replay", "--endpoint", endpoint.id, "--since", "1h"], env)
            #expect(first.status == 0 && first.output.contains("sent 6 of 6 matching events"), "\(first.output)")
            let again = try await Self.sluice(["events", "replay", "--endpoint", endpoint.id, "--since", "1h"], env)
            #expect(again.status == 0 && again.output.contains("sent 0 of 6") && again.output.contains("6 already sent by this replay"), "\(again.output)")

            let sent = try await Self.deliveries(fixture, atLeast: 6)
            #expect(sent.map(\.eventID).sorted() == (0..<6).map { "recent-\($0)" }, "last hour's order events of acme, once each")
            #expect(sent.allSatisfy { $0.endpointID == endpoint.id && $0.endpointID != sibling.id && $0.tenant == "acme" })
            #expect(sent.allSatisfy { $0.attempt == 1 && $0.replayID?.hasPrefix("hr_") == true && $0.history.isEmpty })
            let original = try #require(records.first { $0.value.map { String(decoding: $0, as: UTF8.self).contains("recent-0") } ?? false })
            #expect(sent.first { $0.eventID == "recent-0" }?.body == original.value, "the same body fanout would have sent")
        }
    }

    /// Every record of topic `name` now (read to its end, outside any group).
    static func records(_ fixture: StageFixture, _ name: String) async throws -> [KafkaRecord] {
        var records: [KafkaRecord] = []
        try await fixture.reader.readToEnd(topic: fixture.topic(name)) { records.append($0) }
        return records
    }

    /// Where the deliveries for `endpointID` stand: every event fanout made one for, those
    /// answered 2xx (attempts) and those dead-lettered.
    static func outcomes(_ fixture: StageFixture, endpointID: String) async throws -> (made: Set<String>, delivered: Set<String>, dead: Set<String>) {
        let made = try await records(fixture, "deliveries").compactMap(DeliveryPair.init).filter { $0.endpoint == endpointID }.map(\.event)
        let attempts = try await records(fixture, "attempts").compactMap { $0.value.flatMap { try? Attempt(wireBytes: $0) } }
        let dead = try await records(fixture, "dlq").compactMap { $0.value.flatMap { try? DeadLetter(wireBytes: $0) } }
        return (
            Set(made), Set(attempts.filter { $0.endpointID == endpointID && $0.outcome == .delivered }.map(\.eventID)),
            Set(dead.filter { $0.delivery.endpointID == endpointID }.map(\.delivery.eventID))
        )
    }

    @Test("an endpoint disabled for a while gets exactly what it never received with --only-missing; a receiver that lost its data gets the whole window again without it")
    func disabledThenLost() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)history"
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "order.*", url: receiver.url("\(path)/live"))
            let witness = try await fixture.createEndpoint(tenant: "acme", filter: "order.*", url: receiver.url("\(path)/witness"))
            try await fixture.createEndpoint(tenant: "globex", filter: "*", url: receiver.url("\(path)/globex"))
            let since = String(Int(Date().timeIntervalSince1970) - 5)
            let env = fixture.environment(instance: "cli")
            let fanoutRuntime = StageRuntime(name: "sluice-fanout", settings: fixture.settings(instance: "f1"))
            let fanout = try await FanoutStage.start(runtime: fanoutRuntime, topology: fixture.topology, delivery: try fixture.delivery())
            let dispatchRuntime = StageRuntime(name: "sluice-dispatch", settings: fixture.settings(instance: "d1"))
            let dispatch = try await DispatchStage.start(runtime: dispatchRuntime, topology: fixture.topology, delivery: try fixture.delivery())
            let (window, before) = try await whileRunning({ try await fanout.run() }) {
                try await whileRunning({ try await dispatch.run() }) {
                    var published: [String] = []
                    func publish(_ prefix: String, _ ids: Range<Int>) async throws {
                        try await fixture.producer.send(fixture.events(tenant: "acme", type: "order.created", ids: ids, idPrefix: prefix))
                        try await fixture.producer.send(fixture.events(tenant: "globex", type: "order.created", ids: ids, idPrefix: "globex-\(prefix)"))
                        published += ids.map { "\(prefix)-\($0)" }
                    }
                    /// Waits until fanout made the witness's delivery of `id`; true when it made none for the endpoint.
                    func skipsEndpoint(_ id: String) async throws -> Bool {
                        var made: [DeliveryPair] = []
                        _ = try await waitUntil(timeout: .seconds(180)) {
                            made = try await Self.records(fixture, "deliveries").compactMap(DeliveryPair.init).filter { $0.event == id }
                            return made.contains(DeliveryPair(event: id, endpoint: witness.id))
                        }
                        return !made.contains(DeliveryPair(event: id, endpoint: endpoint.id))
                    }
                    try await publish("a", 0..<5)
                    _ = try await receiver.awaitRequests(prefix: "\(path)/live", atLeast: 5, timeout: .seconds(180))

                    endpoint.enabled = false
                    endpoint.revision += 1
                    try await fixture.store().put(endpoint)
                    // Probes until fanout has seen the disable (a probe it made no delivery of for the endpoint).
                    var probe = 0
                    let disabled = try await waitUntil(timeout: .seconds(180), interval: .zero) {
                        try await publish("probe", probe..<(probe + 1))
                        probe += 1
                        return try await skipsEndpoint("probe-\(probe - 1)")
                    }
                    #expect(disabled, "fanout saw the disable")
                    try await publish("b", 0..<5)
                    // Fanout is past the b events (one partition, in order) before the enable lands.
                    #expect(try await skipsEndpoint("b-4"), "fanout made no delivery of b for the disabled endpoint")

                    endpoint.enabled = true
                    endpoint.revision += 1
                    try await fixture.store().put(endpoint)
                    try await publish("c", 0..<5)
                    _ = try await skipsEndpoint("c-4")
                    // Every delivery fanout made for the endpoint has its outcome (it may have
                    // picked up the enable late, and dispatch too: those missed it as well).
                    var state = try await Self.outcomes(fixture, endpointID: endpoint.id)
                    let settled = try await waitUntil(timeout: .seconds(180)) {
                        state = try await Self.outcomes(fixture, endpointID: endpoint.id)
                        return state.made.isSubset(of: state.delivered.union(state.dead))
                    }
                    #expect(settled, "made \(state.made.sorted()), delivered \(state.delivered.sorted()), dead \(state.dead.sorted())")
                    let missing = Set(published).subtracting(state.delivered)
                    #expect(missing.isSuperset(of: (0..<5).map { "b-\($0)" }), "the b events never reached the disabled endpoint")
                    #expect(state.delivered.isSuperset(of: (0..<5).map { "a-\($0)" }))
                    _ = try await receiver.awaitRequests(prefix: "\(path)/live", atLeast: state.delivered.count, timeout: .seconds(180))

                    let gap = try await Self.sluice(["events", "replay", "--endpoint", endpoint.id, "--since", since, "--only-missing"], env)
                    #expect(gap.status == 0 && gap.output.contains("sent \(missing.count) of \(published.count) matching events"), "\(gap.output)")
                    #expect(gap.output.contains("\(published.count - missing.count) already delivered"), "\(gap.output)")
                    _ = try await receiver.awaitRequests(prefix: "\(path)/live", atLeast: published.count, timeout: .seconds(180))
                    let sameAgain = try await Self.sluice(["events", "replay", "--endpoint", endpoint.id, "--since", since, "--only-missing"], env)
                    #expect(sameAgain.status == 0 && sameAgain.output.contains("sent 0 of"), "\(sameAgain.output)")

                    // The receiver restored a backup: it needs every event of the window again.
                    let lost = try await Self.sluice(["events", "replay", "--endpoint", endpoint.id, "--since", since], env)
                    #expect(lost.status == 0 && lost.output.contains("sent \(published.count) of \(published.count) matching events"), "\(lost.output)")
                    _ = try await receiver.awaitRequests(prefix: "\(path)/live", atLeast: 2 * published.count, timeout: .seconds(180))
                    _ = try await receiver.awaitRequests(prefix: "\(path)/globex", atLeast: published.count, timeout: .seconds(180))
                    return (published, missing)
                }
            }
            // Counted once the stages have stopped: a duplicate would be here.
            let counts = Dictionary(grouping: try receiver.received(prefix: "\(path)/live").compactMap { $0.headers["webhook-id"] }, by: { $0 }).mapValues(\.count)
            #expect(Set(counts.keys) == Set(window), "only the endpoint's tenant's events: \(counts.keys.sorted())")
            let wrong = counts.filter { $0.value != 2 }
            #expect(wrong.isEmpty, "each event once live or by --only-missing, once by the full replay: \(wrong); missing before: \(before.sorted())")
            // globex: nothing replayed to it, and every one of its own events arrived (a duplicate, which
            // at-least-once delivery on Tansu allows, is counted, not failed: brief §1).
            let replayed = try await Self.records(fixture, "redeliveries").compactMap { $0.value.flatMap { try? Delivery(wireBytes: $0) } }
            #expect(!replayed.isEmpty && replayed.allSatisfy { $0.endpointID == endpoint.id }, "replays only for the endpoint: \(Set(replayed.map(\.endpointID)))")
            let globex = Dictionary(grouping: try receiver.received(prefix: "\(path)/globex").compactMap { $0.headers["webhook-id"] }, by: { $0 }).mapValues(\.count)
            #expect(Set(globex.keys) == Set(window.map { "globex-\($0)" }), "globex got each of its own events: \(globex.keys.sorted())")
            print("history replay: globex received \(globex.values.reduce(0, +)) requests for \(window.count) events (duplicates \(globex.values.reduce(0, +) - globex.count))")
        }
    }

    @Test("an interrupted replay resumes: the second run sends only what the first did not (at most its open chunk again on Tansu)")
    func resumes() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            // 500 s at --rate 0.2 (one delivery per chunk): the kill comes long before the end even
            // when each read of the topic, to see the first 8, takes minutes (a clean-clone run
            // at --rate 4 finished all 100 before the kill).
            let total = 100
            try await fixture.producer.send(fixture.events(tenant: "acme", type: "order.created", ids: 0..<total))
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "order.*")
            let env = fixture.environment(instance: "cli")
            let arguments = ["events", "replay", "--endpoint", endpoint.id, "--since", "1h", "--rate", "0.2"]
            let log = NSTemporaryDirectory() + "sluice-replay-\(fixture.prefix)log"
            let pid = try spawnWithCleanSignals(
                ["/usr/bin/env"] + env.map { "\($0.key)=\($0.value)" } + [executablePath("sluice")] + arguments, logPath: log)
            let started = try await waitUntil(timeout: .seconds(300)) { try await Self.records(fixture, "redeliveries").count >= 8 }
            #expect(started, "the first run sent its first chunks")
            let code: Int32? = await OffPool.run { () throws(Never) in stop(pid, with: SIGKILL) }
            #expect(code == nil, "killed mid-replay")
            let progress = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(progress.contains("scanning \(fixture.topic("events"))") && progress.contains("/\(total) ("), "progress on standard error: \(progress)")

            let resumed = try await Self.sluice(arguments + ["--rate", "1000"], env)
            #expect(resumed.status == 0, "\(resumed.output)")
            let already = resumed.output.range(of: #"\d+ already sent by this replay"#, options: .regularExpression)
                .flatMap { Int(resumed.output[$0].prefix { $0.isNumber }) } ?? -1
            #expect((8..<total).contains(already), "the first run sent at least the 8 seen, not all: \(resumed.output)")
            #expect(resumed.output.contains("sent \(total - already) of \(total)"), "\(resumed.output)")
            let all = try await Self.deliveries(fixture, atLeast: total)
            let comparison = DeliveryComparison(
                expected: Set((0..<total).map { DeliveryPair(event: "evt-\($0)", endpoint: endpoint.id) }),
                got: all.map { DeliveryPair(event: $0.eventID, endpoint: $0.endpointID) })
            #expect(comparison.missing.isEmpty && comparison.unexpected.isEmpty, "\(comparison)")
            #expect(comparison.duplicates <= 4, "at most the chunk open at the kill again (Tansu shows aborted records): \(comparison)")
        }
    }
}
