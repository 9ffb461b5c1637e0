import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("Several HTTP loops, an endpoint's requests on one of them (integration)")
struct CurlLoopGroupIntegrationTests {
    func request(_ url: String) -> WebhookRequest {
        WebhookRequest(url: url, headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: .seconds(30), resolve: nil, excerptLimit: 8)
    }

    @Test("the bounds are shared out among the loops, and each loop keeps at least one of each")
    func sharedBounds() async throws {
        var window = TransferWindow.Config()
        (window.initial, window.floor, window.ceiling) = (256, 256, 2_000)
        let group = CurlLoopGroup(loops: 3, maxConnections: 4_000, maxIdleConnections: 2_000, window: window)
        defer { group.shutdown() }
        #expect(group.loops.count == 3)
        // A loop reports its window after its first turn (at most a second when idle).
        #expect(await waitUntil(timeout: .seconds(30)) { group.loops.allSatisfy { $0.load.limit == 85 } }, "\(group.loops.map(\.load))")
        #expect(group.load.limit == 255)

        let none = CurlLoopGroup(loops: 0, maxConnections: 1, maxIdleConnections: nil, window: window)
        defer { none.shutdown() }
        #expect(none.loops.count == 1, "at least one loop")
    }

    @Test("requests of one key run on one loop; the group's load adds the loops' up; every request is answered")
    func keyPicksLoop() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let group = CurlLoopGroup(loops: 2, maxConnections: 64, maxIdleConnections: nil, window: TransferWindow.Config())
        defer { group.shutdown() }
        let statuses = Locked<[Int]>([])
        // Key 7 and key -3 both pick loop 1 (of 2); key 4 picks loop 0.
        for (n, key) in [7, 7, 7, -3, 4].enumerated() {
            group.post(request(receiver.url("\(prefix)/delay/5000?n=\(n)")), key: key) { result in
                statuses.withLock { $0.append((try? result.get().status) ?? -1) }
            }
        }
        #expect(
            await waitUntil(timeout: .seconds(30)) { group.loops[1].load.inFlight == 4 && group.loops[0].load.inFlight == 1 },
            "loads: \(group.loops.map(\.load))")
        #expect(group.load.inFlight == 5, "\(group.load)")
        #expect(await waitUntil(timeout: .seconds(60)) { statuses.withLock { $0.count } == 5 })
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 5))
    }
}
