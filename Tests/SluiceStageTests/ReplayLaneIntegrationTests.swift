import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("dispatch's replay lane against Tansu and a real receiver (integration)")
struct ReplayLaneIntegrationTests {
    @Test("replayed deliveries wait their turn at the lane's rate while live ones written after them go first; each arrives once")
    func pacesReplays() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)lane"
            let old = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("\(path)/replayed"))
            let new = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("\(path)/live"))
            // A fixed 40/s: 400 replayed deliveries take at least 399/40 ≈ 10 s however fast the
            // machine is, and more than half a second of turns ahead pauses their partition.
            var config = DispatchStage.Config()
            config.replay.initialRate = 40
            config.replay.minimumRate = 40
            config.replay.maximumRate = 40
            let (replayed, live) = try await DispatchIntegrationTests.withDispatch(fixture, config: config) {
                try await fixture.deliveries(to: old, ids: 0..<400, idPrefix: "old", replayID: "rp_lane")
                try await fixture.deliveries(to: new, ids: 0..<20, idPrefix: "new")
                let replayed = try await receiver.awaitRequests(prefix: "\(path)/replayed", atLeast: 400, timeout: .seconds(600))
                return (replayed, try receiver.received(prefix: "\(path)/live"))
            }
            #expect(Set(replayed.compactMap { $0.headers["webhook-id"] }) == Set((0..<400).map { "old-\($0)" }) && replayed.count == 400, "each replayed once")
            #expect(Set(live.compactMap { $0.headers["webhook-id"] }) == Set((0..<20).map { "new-\($0)" }) && live.count == 20, "each live one once")
            let times = replayed.map(\.time).sorted()
            let span = (times.last ?? 0) - (times.first ?? 0)
            print("replay lane: 400 replayed over \(String(format: "%.1f", span)) s; last live \(String(format: "%.1f", (live.map(\.time).max() ?? 0) - (times.first ?? 0))) s after the first replayed")
            #expect(span >= 9, "paced at 40/s: \(span) s")
            #expect(live.map(\.time).max() ?? .infinity < times.last ?? 0, "live deliveries written after the replay arrived before its end")
        }
    }

    @Test("replays still waiting for their turn when dispatch stops are left uncommitted: it stops without waiting for them, and the next dispatcher delivers every one")
    func heldAtShutdown() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)held"
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            try await fixture.deliveries(to: endpoint, ids: 0..<200, idPrefix: "held", replayID: "rp_held")
            // One per second: waiting for every turn would take 200 s.
            var slow = DispatchStage.Config()
            slow.replay.initialRate = 1
            slow.replay.maximumRate = 1
            let stopping = try await DispatchIntegrationTests.withDispatch(fixture, config: slow) {
                _ = try await receiver.awaitRequests(prefix: path, atLeast: 2, timeout: .seconds(300))
                return ContinuousClock.now
            }
            let stopTook = ContinuousClock.now - stopping
            let before = try receiver.received(prefix: path).count
            #expect(before < 200, "the first dispatcher stopped before the end of the replay: \(before)")
            #expect(stopTook < .seconds(100), "it stopped without waiting out the turns: \(stopTook)")
            let all = try await DispatchIntegrationTests.withDispatch(fixture) {
                try await receiver.awaitRequests(prefix: path, atLeast: 200, timeout: .seconds(300))
            }
            #expect(Set(all.compactMap { $0.headers["webhook-id"] }) == Set((0..<200).map { "held-\($0)" }), "none lost: \(all.count) received")
        }
    }

    @Test("a dispatcher that gives up its partitions while replays wait for their turn abandons them at once: the rebalance does not wait for the turns, and the new owner delivers each replay once")
    func abandonedOnRevoke() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let path = "/\(fixture.prefix)moved"
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url(path))
            try await fixture.deliveries(to: endpoint, ids: 0..<60, idPrefix: "moved", replayID: "rp_moved")
            // Two per second on the first dispatcher: its polled replays wait many seconds. All
            // 60 share one partition; whichever dispatcher owns it after the rebalance delivers
            // the rest (at most 30 s at this pace), and none of the abandoned waiters may.
            var slow = DispatchStage.Config()
            slow.replay.initialRate = 2
            slow.replay.maximumRate = 2
            let all = try await DispatchIntegrationTests.withDispatch(fixture, config: slow, instance: "d1") {
                _ = try await receiver.awaitRequests(prefix: path, atLeast: 2, timeout: .seconds(300))
                // A second dispatcher joins the group: the first gives up its partitions (all
                // of them under the eager protocol), and the replays waiting there are abandoned.
                let joined = ContinuousClock.now
                let all = try await DispatchIntegrationTests.withDispatch(fixture, instance: "d2") {
                    let all = try await receiver.awaitRequests(prefix: path, atLeast: 60, timeout: .seconds(300))
                    // Until the group has committed every replay: a waiter abandoned too late
                    // would have been delivered by now, its record read again and delivered
                    // a second time before that commit.
                    try await Self.awaitCommitted(fixture, count: 60)
                    return all
                }
                print("replay turns: 60 replays received \(joined.duration(to: .now)) after the second dispatcher started")
                return all
            }
            let ids = all.compactMap { $0.headers["webhook-id"] }
            #expect(Set(ids) == Set((0..<60).map { "moved-\($0)" }), "none lost")
            let twice = Dictionary(grouping: try receiver.received(prefix: path).compactMap { $0.headers["webhook-id"] }, by: { $0 }).filter { $0.value.count > 1 }
            #expect(twice.isEmpty, "delivered twice (an abandoned replay delivered after its partition went): \(twice.keys.sorted().prefix(10))")
        }
    }

    /// Waits (at most 300 s) until the dispatch group's committed offsets on `topic`
    /// (`sluice.redeliveries` unless named) add up to `count`: every record the test wrote
    /// there (plain writes, from offset 0) is committed.
    static func awaitCommitted(_ fixture: StageFixture, count: Int64, topic: String = "redeliveries") async throws {
        let runtime = StageRuntime(name: "test-commits", settings: fixture.settings(instance: "probe"))
        let consumer = try KafkaConsumer(config: runtime.consumerConfig(group: DispatchStage.group), logger: runtime.logger)
        let partitionCount = fixture.topology.topics.first { $0.name == topic }?.partitions ?? 0
        let partitions = (0..<Int32(partitionCount)).map { TopicPartition(fixture.prefix + topic, $0) }
        var committed: Int64 = 0
        _ = try await waitUntil(timeout: .seconds(300), interval: .milliseconds(200)) {
            committed = try await consumer.committed(partitions).values.reduce(0) { $0 + ($1 ?? 0) }
            return committed >= count
        }
        try? await consumer.close()
        #expect(committed == count, "the dispatch group committed every replay within 300 s: \(committed) of \(count)")
    }
}
