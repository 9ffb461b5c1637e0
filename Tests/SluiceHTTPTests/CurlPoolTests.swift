import Testing

@testable import SluiceHTTP

@Suite("The shard a request takes")
struct CurlPoolTests {
    @Test("the same URL always takes the same shard, within range; one shard is shard 0")
    func stable() {
        for url in ["https://hooks.acme.test/in", "http://127.0.0.1:8080/ep_1", ""] {
            let shard = CurlPool.shard(of: url, count: 8)
            #expect((0..<8).contains(shard))
            #expect(CurlPool.shard(of: url, count: 8) == shard)
            #expect(CurlPool.shard(of: url, count: 1) == 0)
        }
    }

    @Test("endpoints of one host spread over every shard, none holding more than twice its share")
    func spread() {
        var counts = [Int](repeating: 0, count: 8)
        for n in 0..<4_000 { counts[CurlPool.shard(of: "http://127.0.0.1:8080/ep_\(n)", count: 8)] += 1 }
        #expect(counts.allSatisfy { $0 > 250 && $0 < 1_000 }, "\(counts)")
    }
}
