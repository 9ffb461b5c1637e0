import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("The libcurl multi client's connection reuse beside slow requests (integration)")
struct CurlConnectionReuseIntegrationTests {
    /// With `slow` requests held open (answered after 3 s), sends 8 quick ones one after
    /// another and returns how many connections (client ports) those 8 arrived on.
    func connectionsForQuickRequests(maxIdleConnections: Int?, slow: Int = 12) async throws -> Int {
        let receiver = try await TestReceiver.shared()
        let client = CurlMultiClient(pools: [.init(maxConnections: 64, maxIdleConnections: maxIdleConnections)])
        defer { client.shutdown() }
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        func request(_ path: String) -> WebhookRequest {
            WebhookRequest(url: receiver.url(prefix + path), headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: .seconds(10))
        }
        let answered = Locked(0)
        for n in 0..<slow { client.post(request("/slow/\(n)/delay/3000")) { _ in answered.withLock { $0 += 1 } } }
        _ = try await receiver.awaitRequests(prefix: prefix + "/slow", atLeast: slow, timeout: .seconds(30))
        for n in 0..<8 { #expect(try await client.post(request("/quick/\(n)/ok")).get().status == 200) }
        #expect(answered.withLock { $0 } == 0, "the quick requests were sent while the slow ones were still open")
        return Set(try receiver.received(prefix: prefix + "/quick").map(\.peer_port)).count
    }

    @Test("a connection given back is reused while slow requests hold others open (the cache is the connection bound)")
    func reusedBesideSlowRequests() async throws {
        #expect(try await connectionsForQuickRequests(maxIdleConnections: nil) == 1)
    }

    @Test("a cache smaller than the connections in use closes each connection given back: a new one per request (libcurl 7.88)")
    func smallerCacheChurns() async throws {
        #expect(try await connectionsForQuickRequests(maxIdleConnections: 4) == 8)
    }
}
