import CCurl
import Testing

@testable import SluiceHTTP

@Suite("Pinned hosts: which pins a pool's multi handles already hold")
struct PinnedHostsTests {
    let first = "hooks.acme.test:443:203.0.113.7"
    let moved = "hooks.acme.test:443:203.0.113.9"

    @Test("a pin is carried until a transfer carrying it succeeded, then no more, per shard")
    func carriedUntilLoaded() {
        var pins = PinnedHosts(shards: 2)
        let carries1 = pins.mustCarry(first, shard: 0)
        #expect(carries1)
        let carries2 = pins.mustCarry(first, shard: 0)
        #expect(carries2, "not loaded while its first transfer is under way")
        pins.finished(first, shard: 0, carried: true, code: CURLE_OPERATION_TIMEDOUT)
        let carries3 = pins.mustCarry(first, shard: 0)
        #expect(carries3, "a failed transfer proves nothing")
        pins.finished(first, shard: 0, carried: true, code: CURLE_OK)
        pins.finished(first, shard: 0, carried: true, code: CURLE_OK)
        let carries4 = pins.mustCarry(first, shard: 0)
        #expect(!carries4, "curl holds it now")
        let carries5 = pins.mustCarry(first, shard: 1)
        #expect(carries5, "each multi handle has a cache of its own")
        #expect(pins.hosts(shard: 0) == 1)
    }

    @Test("a changed pin is carried again, and so is the old one after it")
    func changedPin() {
        var pins = PinnedHosts(shards: 1)
        load(first, into: &pins)
        let carries6 = pins.mustCarry(moved, shard: 0)
        #expect(carries6, "the destination policy pinned a new address")
        pins.finished(moved, shard: 0, carried: true, code: CURLE_OK)
        let carries7 = pins.mustCarry(moved, shard: 0)
        #expect(!carries7)
        let carries8 = pins.mustCarry(first, shard: 0)
        #expect(carries8, "curl's cache holds the new pin, not the old one")
        #expect(pins.hosts(shard: 0) == 1, "one entry per host")
    }

    @Test("pins of two addresses under way at once: none counts as held until they are all done")
    func mixedPins() {
        var pins = PinnedHosts(shards: 1)
        let carries9 = pins.mustCarry(first, shard: 0)
        #expect(carries9)
        let carries10 = pins.mustCarry(moved, shard: 0)
        #expect(carries10)
        // Which one curl loaded last is unknown: the first may have started after the second.
        pins.finished(moved, shard: 0, carried: true, code: CURLE_OK)
        let carries11 = pins.mustCarry(moved, shard: 0)
        #expect(carries11)
        pins.finished(first, shard: 0, carried: true, code: CURLE_OK)
        pins.finished(moved, shard: 0, carried: true, code: CURLE_OK)
        // All done: the next one starts afresh.
        load(moved, into: &pins)
        let carries12 = pins.mustCarry(moved, shard: 0)
        #expect(!carries12)
    }

    @Test("a pin held, then a new one while a transfer that carried the old one is still under way: not held")
    func oldCarrierStillUnderWay() {
        var pins = PinnedHosts(shards: 1)
        let carries13 = pins.mustCarry(first, shard: 0)
        #expect(carries13)
        let carries14 = pins.mustCarry(first, shard: 0)
        #expect(carries14)
        pins.finished(first, shard: 0, carried: true, code: CURLE_OK)
        let carries15 = pins.mustCarry(first, shard: 0)
        #expect(!carries15)
        // One carrier of `first` is still under way; curl may load it after `moved`.
        let carries16 = pins.mustCarry(moved, shard: 0)
        #expect(carries16)
        pins.finished(moved, shard: 0, carried: true, code: CURLE_OK)
        let carries17 = pins.mustCarry(moved, shard: 0)
        #expect(carries17, "the old carrier may still overwrite it")
    }

    @Test("a transfer that relied on a held pin and found none in curl's cache makes the next one carry it")
    func notFoundInCurlsCache() {
        var pins = PinnedHosts(shards: 1)
        load(first, into: &pins)
        let carries18 = pins.mustCarry(first, shard: 0)
        #expect(!carries18)
        pins.finished(first, shard: 0, carried: false, code: CURLE_OPERATION_TIMEDOUT)
        let carries19 = pins.mustCarry(first, shard: 0)
        #expect(!carries19, "other failures say nothing of the cache")
        pins.finished(first, shard: 0, carried: false, code: CURLE_COULDNT_RESOLVE_HOST)
        let carries20 = pins.mustCarry(first, shard: 0)
        #expect(carries20)
    }

    @Test("host:port of an entry: IPv6 hosts in brackets; anything else is always carried")
    func hostAndPort() {
        #expect(PinnedHosts.hostAndPort(of: first) == "hooks.acme.test:443")
        #expect(PinnedHosts.hostAndPort(of: "[2001:db8::1]:8443:2001:db8::1") == "[2001:db8::1]:8443")
        #expect(PinnedHosts.hostAndPort(of: "no-port") == nil)
        #expect(PinnedHosts.hostAndPort(of: "[2001:db8::1") == nil)
        var pins = PinnedHosts(shards: 1)
        load("no-port", into: &pins)
        let carries21 = pins.mustCarry("no-port", shard: 0)
        #expect(carries21, "an entry of no known shape is never taken as held")
    }

    private func load(_ entry: String, into pins: inout PinnedHosts) {
        if pins.mustCarry(entry, shard: 0) { pins.finished(entry, shard: 0, carried: true, code: CURLE_OK) }
    }
}
