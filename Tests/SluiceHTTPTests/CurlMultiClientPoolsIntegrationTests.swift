import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("Connection pools side by side on one HTTP loop, the caller picking each request's (integration)")
struct CurlMultiClientPoolsIntegrationTests {
    func request(_ url: String) -> WebhookRequest {
        WebhookRequest(url: url, headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: .seconds(30), resolve: nil, excerptLimit: 8)
    }

    @Test("a request runs in the pool it names (past the last, in the last); the client's load adds the pools' up; every request is answered")
    func picksPool() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let client = CurlMultiClient(pools: [.init(maxConnections: 64), .init(maxConnections: 64)])
        defer { client.shutdown() }
        let statuses = Locked<[Int]>([])
        for (n, pool) in [1, 1, 7, -2, 0].enumerated() {
            client.post(request(receiver.url("\(prefix)/delay/5000?n=\(n)")), pool: pool) { result in
                statuses.withLock { $0.append((try? result.get().status) ?? -1) }
            }
        }
        #expect(
            await waitUntil(timeout: .seconds(30)) { client.load(pool: 1).inFlight == 3 && client.load(pool: 0).inFlight == 2 },
            "loads: \(client.load(pool: 0)), \(client.load(pool: 1))")
        #expect(client.load.inFlight == 5, "\(client.load)")
        #expect(client.requestsPosted(pool: 1) == 3 && client.requestsPosted(pool: 0) == 2 && client.requestsPosted() == 5)
        #expect(await waitUntil(timeout: .seconds(60)) { statuses.withLock { $0.count } == 5 })
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 5))
    }

    @Test("an empty list of pools gets one")
    func neverEmpty() {
        let client = CurlMultiClient(pools: [])
        defer { client.shutdown() }
        #expect(client.poolCount == 1)
    }
}
