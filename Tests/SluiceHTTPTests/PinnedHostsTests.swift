import CCurl
import Testing

@testable import SluiceHTTP

@Suite("Pinned hosts: which pins a pool's multi handles already hold")
struct PinnedHostsTests {
    let first = "hooks.acme.test:443:203.0.113.7"
    let moved = "hooks.acme.test:443:203.0.113.9"

    /// The table behind a reference, so `#expect` (a closure) can ask it.
    final class Pins {
        var table: PinnedHosts
        init(shards: Int = 1) { table = PinnedHosts(shards: shards) }
        /// Whether a new transfer with `entry` carries it (and is counted as under way).
        func carry(_ entry: String, shard: Int = 0) -> Bool { table.mustCarry(entry, shard: shard) }
        func done(_ entry: String, shard: Int = 0, carried: Bool = true, _ code: CURLcode = CURLE_OK) {
            table.finished(entry, shard: shard, carried: carried, code: code)
        }
        /// A transfer with `entry` that carried it, if it had to, and succeeded.
        func load(_ entry: String) {
            if carry(entry) { done(entry) }
        }
    }

    @Test("a pin is carried until a transfer carrying it succeeded, then no more, per shard")
    func carriedUntilLoaded() {
        let pins = Pins(shards: 2)
        #expect(pins.carry(first))
        #expect(pins.carry(first), "not loaded while its first transfer is under way")
        pins.done(first, CURLE_OPERATION_TIMEDOUT)
        #expect(pins.carry(first), "a failed transfer proves nothing")
        pins.done(first)
        pins.done(first)
        #expect(!pins.carry(first), "curl holds it now")
        #expect(pins.carry(first, shard: 1), "each multi handle has a cache of its own")
        #expect(pins.table.hosts(shard: 0) == 1)
    }

    @Test("a changed pin is carried again, and so is the old one after it")
    func changedPin() {
        let pins = Pins()
        pins.load(first)
        #expect(pins.carry(moved), "the destination policy pinned a new address")
        pins.done(moved)
        #expect(!pins.carry(moved))
        #expect(pins.carry(first), "curl's cache holds the new pin, not the old one")
        #expect(pins.table.hosts(shard: 0) == 1, "one entry per host")
    }

    @Test("pins of two addresses under way at once: none counts as held until they are all done")
    func mixedPins() {
        let pins = Pins()
        #expect(pins.carry(first))
        #expect(pins.carry(moved))
        // Which one curl loaded last is unknown: the first may have started after the second.
        pins.done(moved)
        #expect(pins.carry(moved))
        pins.done(first)
        pins.done(moved)
        // All done: the next one starts afresh.
        pins.load(moved)
        #expect(!pins.carry(moved))
    }

    @Test("a pin held, then a new one while a transfer that carried the old one is still under way: not held")
    func oldCarrierStillUnderWay() {
        let pins = Pins()
        #expect(pins.carry(first))
        #expect(pins.carry(first))
        pins.done(first)
        #expect(!pins.carry(first))
        // One carrier of `first` is still under way; curl may load it after `moved`.
        #expect(pins.carry(moved))
        pins.done(moved)
        #expect(pins.carry(moved), "the old carrier may still overwrite it")
    }

    @Test("a transfer that relied on a held pin and found none in curl's cache makes the next one carry it")
    func notFoundInCurlsCache() {
        let pins = Pins()
        pins.load(first)
        #expect(!pins.carry(first))
        pins.done(first, carried: false, CURLE_OPERATION_TIMEDOUT)
        #expect(!pins.carry(first), "other failures say nothing of the cache")
        pins.done(first, carried: false, CURLE_COULDNT_RESOLVE_HOST)
        #expect(pins.carry(first))
    }

    @Test("host:port of an entry: IPv6 hosts in brackets; anything else is always carried")
    func hostAndPort() {
        #expect(PinnedHosts.hostAndPort(of: first) == "hooks.acme.test:443")
        #expect(PinnedHosts.hostAndPort(of: "[2001:db8::1]:8443:2001:db8::1") == "[2001:db8::1]:8443")
        #expect(PinnedHosts.hostAndPort(of: "no-port") == nil)
        #expect(PinnedHosts.hostAndPort(of: "[2001:db8::1") == nil)
        let pins = Pins()
        pins.load("no-port")
        #expect(pins.carry("no-port"), "an entry of no known shape is never taken as held")
    }
}
