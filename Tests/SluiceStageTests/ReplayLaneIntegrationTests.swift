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
}
