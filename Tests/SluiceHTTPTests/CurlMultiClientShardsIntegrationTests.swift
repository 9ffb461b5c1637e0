import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceHTTP

@Suite("A pool's requests spread over its shards, each shard its own connections (integration)")
struct CurlMultiClientShardsIntegrationTests {
    func request(_ url: String) -> WebhookRequest {
        WebhookRequest(url: url, headers: [("content-type", "application/json")], body: Array("{}".utf8), timeout: .seconds(60))
    }

    /// Two URLs of the receiver whose requests take different shards of `shards` once their
    /// host has spread by URL.
    func urlsInTwoShards(_ receiver: TestReceiver, prefix: String, shards: Int) -> (String, String) {
        // The pool's own pick, its host spread from the first request on.
        var picker = ConnectionShards(count: shards, spillAt: 1)
        func shard(_ url: String) -> Int { picker.pick(url).shard }
        let first = receiver.url("\(prefix)/a/ok")
        let second = (0..<1_000).lazy.map { receiver.url("\(prefix)/b\($0)/ok") }.first { shard($0) != shard(first) }
        return (first, second ?? first)
    }

    /// Sends to `first`, `second`, `first`, `second`, one after another, through a client of
    /// `shards` shards; returns how many connections (client ports) the four arrived on.
    func connections(shards: Int, hostSpillAt: Int = 64) async throws -> Int {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let (first, second) = urlsInTwoShards(receiver, prefix: prefix, shards: 4)
        let client = CurlMultiClient(pools: [.init(maxConnections: 64, shards: shards, hostSpillAt: hostSpillAt)])
        defer { client.shutdown() }
        for url in [first, second, first, second] {
            #expect(try await client.post(request(url)).get().status == 200)
        }
        return Set(try receiver.received(prefix: prefix).map(\.peer_port)).count
    }

    @Test("requests to two URLs of one host share a connection with one shard, and with four while the host has few under way")
    func hostSharesConnections() async throws {
        #expect(try await connections(shards: 1) == 1)
        #expect(try await connections(shards: 4) == 1)
    }

    @Test("four shards, the host spread by URL (spilling at 1 under way), the URLs in two shards: each keeps its own connection, reused")
    func spreadHostConnectionsPerShard() async throws {
        #expect(try await connections(shards: 4, hostSpillAt: 1) == 2)
    }

    @Test("many requests to many URLs over 8 shards are all answered, beside slow ones, and the client's load counts them over every shard")
    func manyOverShards() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let client = CurlMultiClient(pools: [.init(maxConnections: 256, shards: 8, hostSpillAt: 4)])
        defer { client.shutdown() }
        let statuses = Locked<[Int]>([])
        // Slow enough to be under way still when the quick ones go, however loaded the machine.
        for n in 0..<8 { client.post(request(receiver.url("\(prefix)/slow\(n)/delay/10000"))) { r in statuses.withLock { $0.append((try? r.get().status) ?? -1) } } }
        #expect(await waitUntil(timeout: .seconds(60)) { client.load.inFlight == 8 }, "\(client.load)")
        for n in 0..<200 {
            client.post(request(receiver.url("\(prefix)/ep\(n % 40)/ok"))) { r in statuses.withLock { $0.append((try? r.get().status) ?? -1) } }
        }
        #expect(await waitUntil(timeout: .seconds(120)) { statuses.withLock { $0.count } == 208 })
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 208))
        // The load is read at the end of the loop's turn, after the completions it called.
        #expect(await waitUntil(timeout: .seconds(30)) { client.load.inFlight == 0 && client.load.waiting == 0 }, "\(client.load)")
    }
}
