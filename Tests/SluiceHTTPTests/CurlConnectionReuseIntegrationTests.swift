import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("The libcurl multi client's connection reuse beside slow requests (integration)")
struct CurlConnectionReuseIntegrationTests {
    /// With `slow` requests held open (black holes: never answered while the test runs, however
    /// loaded the machine), sends 8 quick ones one after another and returns how many
    /// connections (client ports) those 8 arrived on.
    func connectionsForQuickRequests(maxIdleConnections: Int?, slow: Int = 12) async throws -> Int {
        let receiver = try await TestReceiver.shared()
        let client = CurlMultiClient(pools: [.init(maxConnections: 64, maxIdleConnections: maxIdleConnections)])
        defer { client.shutdown() }
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        func request(_ path: String, timeout: Duration = .seconds(60)) -> WebhookRequest {
            WebhookRequest(url: receiver.url(prefix + path), headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: timeout)
        }
        let answered = Locked(0)
        for n in 0..<slow { client.post(request("/slow/\(n)/blackhole", timeout: .seconds(300))) { _ in answered.withLock { $0 += 1 } } }
        _ = try await receiver.awaitRequests(prefix: prefix + "/slow", atLeast: slow)
        for n in 0..<8 { #expect(try await client.post(request("/quick/\(n)/ok")).get().status == 200) }
        #expect(answered.withLock { $0 } == 0, "the quick requests were sent while the slow ones were still open")
        return Set(try receiver.received(prefix: prefix + "/quick").map(\.peer_port)).count
    }

    @Test("beside slow requests holding more connections than the idle ones kept, a connection given back is reused")
    func reusedBesideSlowRequests() async throws {
        // With curl's cache fixed at 4 (before session 34), each of the 8 opened its own.
        #expect(try await connectionsForQuickRequests(maxIdleConnections: 4) == 1)
    }
}
