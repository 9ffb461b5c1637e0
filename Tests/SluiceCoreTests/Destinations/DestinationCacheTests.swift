import Testing

@testable import SluiceCore

@Suite("Destination cache")
struct DestinationCacheTests {
    static let strict = DestinationPolicy()

    @Test("an answer is reused within its TTL and checked again after it: a host that turns private is refused then")
    func reusedThenRechecked() throws {
        let resolver = FakeResolver(["hooks.test": [[.v4(0x5db8_d822)], [.v4(0x7f00_0001)]]])
        let cache = DestinationCache(policy: Self.strict, resolver: resolver, ttl: .seconds(60))
        let start = ContinuousClock.now
        #expect(cache.cached("https://hooks.test/in", now: start) == nil, "nothing before the first lookup")
        let first = try cache.resolve("https://hooks.test/in", now: start).get()
        #expect(first.address == .v4(0x5db8_d822))
        #expect(try cache.cached("https://hooks.test/in", now: start + .seconds(59))?.get() == first, "reused within the TTL")
        #expect(resolver.calls == 1)
        #expect(cache.cached("https://hooks.test/in", now: start + .seconds(61)) == nil, "expired after the TTL")
        // The next lookup answers a loopback address: refused, and the refusal is kept.
        let again = cache.resolve("https://hooks.test/in", now: start + .seconds(61))
        #expect(throws: DestinationError.self) { try again.get() }
        #expect(throws: DestinationError.self) { try cache.cached("https://hooks.test/in", now: start + .seconds(62))?.get() }
        #expect(resolver.calls == 2)
    }

    @Test("a failed lookup is kept only for the short failure TTL")
    func failuresShort() {
        let resolver = FakeResolver([:])
        let cache = DestinationCache(policy: Self.strict, resolver: resolver, ttl: .seconds(60), failureTTL: .seconds(5))
        let start = ContinuousClock.now
        #expect(throws: DestinationError.self) { try cache.resolve("https://nx.test/", now: start).get() }
        #expect(cache.cached("https://nx.test/", now: start + .seconds(4)) != nil)
        #expect(cache.cached("https://nx.test/", now: start + .seconds(6)) == nil)
    }

    @Test("the table is bounded: past its capacity it starts afresh")
    func bounded() throws {
        let cache = DestinationCache(policy: Self.strict, resolver: FakeResolver([:]), capacity: 3)
        let now = ContinuousClock.now
        for i in 0..<3 { _ = cache.resolve("https://93.184.216.\(i)/", now: now) }
        #expect(cache.cached("https://93.184.216.0/", now: now) != nil)
        _ = cache.resolve("https://93.184.216.9/", now: now)
        #expect(cache.cached("https://93.184.216.0/", now: now) == nil)
        #expect(cache.cached("https://93.184.216.9/", now: now) != nil)
    }
}
