import Testing

@testable import SluiceHTTP

@Suite("The connection cache (shard) a request takes")
struct ConnectionShardsTests {
    @Test("a URL's host is its scheme://authority: paths, queries and fragments aside; port and scheme count")
    func hostKey() {
        let host = ConnectionShards.hashes(of: "https://hooks.acme.test/in").host
        for same in ["https://hooks.acme.test/other/path", "https://hooks.acme.test?x=1", "https://hooks.acme.test#f", "https://hooks.acme.test"] {
            #expect(ConnectionShards.hashes(of: same).host == host, "\(same)")
        }
        for other in ["http://hooks.acme.test/in", "https://hooks.acme.test:8443/in", "https://other.acme.test/in"] {
            #expect(ConnectionShards.hashes(of: other).host != host, "\(other)")
        }
        let bare = ConnectionShards.hashes(of: "no-scheme/path")
        #expect(bare.host == bare.whole)
        #expect(ConnectionShards.hashes(of: "https://hooks.acme.test/a").whole != ConnectionShards.hashes(of: "https://hooks.acme.test/b").whole)
    }

    @Test("one shard: every request takes shard 0 and nothing is counted")
    func oneShard() {
        var shards = ConnectionShards(count: 1, spillAt: 1)
        for n in 0..<100 { #expect(shards.pick("http://127.0.0.1:8080/ep_\(n)").shard == 0) }
        #expect(!shards.isSpilled("http://127.0.0.1:8080/ep_0"))
    }

    @Test("below spillAt at once, every endpoint of a host takes the host's shard, however many requests go one after another")
    func hostStaysTogether() {
        var shards = ConnectionShards(count: 8, spillAt: 4)
        let home = shards.pick("http://127.0.0.1:8080/ep_0")
        shards.finished(home)
        for n in 0..<1_000 {
            let first = shards.pick("http://127.0.0.1:8080/ep_\(n)")
            let second = shards.pick("http://127.0.0.1:8080/ep_\(n + 1)")
            let third = shards.pick("http://127.0.0.1:8080/ep_\(n + 2)")
            #expect([first, second, third].allSatisfy { $0.shard == home.shard })
            for pick in [first, second, third] { shards.finished(pick) }
        }
        #expect(!shards.isSpilled("http://127.0.0.1:8080/"))
    }

    @Test("a host with spillAt requests under way spreads its endpoints over every shard, each URL on one shard, and stays spread once they finish")
    func hostSpills() {
        var shards = ConnectionShards(count: 8, spillAt: 16)
        let held = (0..<16).map { shards.pick("http://127.0.0.1:8080/slow_\($0)") }
        #expect(shards.isSpilled("http://127.0.0.1:8080/"))
        #expect(!shards.isSpilled("http://127.0.0.2:8080/"))
        for pick in held { shards.finished(pick) }
        var counts = [Int](repeating: 0, count: 8)
        for n in 0..<4_000 {
            let pick = shards.pick("http://127.0.0.1:8080/ep_\(n)")
            #expect(shards.pick("http://127.0.0.1:8080/ep_\(n)").shard == pick.shard)
            counts[pick.shard] += 1
        }
        #expect(counts.allSatisfy { $0 > 250 && $0 < 1_000 }, "\(counts)")
    }

    @Test("hosts spread over the shards, none holding more than three times its share")
    func hostsSpread() {
        var shards = ConnectionShards(count: 8, spillAt: 64)
        var counts = [Int](repeating: 0, count: 8)
        for n in 0..<800 {
            let pick = shards.pick("http://127.0.\(n / 250).\(n % 250 + 1):8080/ep")
            counts[pick.shard] += 1
            shards.finished(pick)
        }
        #expect(counts.allSatisfy { $0 > 25 && $0 < 300 }, "\(counts)")
    }

    @Test("a host is forgotten once its requests are done, unless it spilled: many hosts coming and going leave no table behind")
    func bounded() {
        var shards = ConnectionShards(count: 8, spillAt: 4)
        for n in 0..<10_000 {
            let url = "https://h\(n).example.test/in"
            let picks = [shards.pick(url), shards.pick(url)]
            #expect(shards.trackedHosts == 1)
            for pick in picks { shards.finished(pick) }
        }
        #expect(shards.trackedHosts == 0)
        let held = (0..<4).map { shards.pick("https://big.example.test/ep_\($0)") }
        for pick in held { shards.finished(pick) }
        #expect(shards.trackedHosts == 1)
        #expect(shards.isSpilled("https://big.example.test/"))
    }
}
