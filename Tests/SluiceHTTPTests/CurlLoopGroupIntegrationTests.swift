import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("HTTP loops side by side, the caller picking each request's (integration)")
struct CurlLoopGroupIntegrationTests {
    func request(_ url: String) -> WebhookRequest {
        WebhookRequest(url: url, headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: .seconds(30), resolve: nil, excerptLimit: 8)
    }

    @Test("a request runs on the loop it names (past the last, on the last); the group's load adds the loops' up; every request is answered")
    func picksLoop() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let group = CurlLoopGroup([CurlMultiClient(maxConnections: 64), CurlMultiClient(maxConnections: 64)])
        defer { group.shutdown() }
        let statuses = Locked<[Int]>([])
        for (n, loop) in [1, 1, 7, -2, 0].enumerated() {
            group.post(request(receiver.url("\(prefix)/delay/5000?n=\(n)")), loop: loop) { result in
                statuses.withLock { $0.append((try? result.get().status) ?? -1) }
            }
        }
        #expect(
            await waitUntil(timeout: .seconds(30)) { group.loops[1].load.inFlight == 3 && group.loops[0].load.inFlight == 2 },
            "loads: \(group.loops.map(\.load))")
        #expect(group.load.inFlight == 5, "\(group.load)")
        #expect(await waitUntil(timeout: .seconds(60)) { statuses.withLock { $0.count } == 5 })
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 5))
    }

    @Test("an empty list of loops gets one")
    func neverEmpty() {
        let group = CurlLoopGroup([])
        defer { group.shutdown() }
        #expect(group.loops.count == 1)
    }
}
