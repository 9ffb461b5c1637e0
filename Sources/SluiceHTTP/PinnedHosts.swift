import CCurl

/// Which hosts' pinned addresses (`CURLOPT_RESOLVE`'s `host:port:address`) each multi
/// handle of a ``CurlPool`` already holds, so that a transfer hands curl its pin only when
/// its handle may not hold that very pin.
///
/// Why: libcurl (7.88) parses a transfer's `CURLOPT_RESOLVE` list when the transfer starts
/// and puts a new copy of the host's entry in the multi handle's DNS cache, every time:
/// about 4,100 instructions a request (callgrind, the bench's bare client against the C
/// sink at 64 in flight: 70,221 a request with a pin each time against 66,127 without). An
/// entry loaded that way is permanent (curl never ages it out) and shared by every easy
/// handle of the multi handle, so once a transfer that carried it has succeeded, the next
/// ones to the host on that handle can do without. (Checked on libcurl 7.88.1 with a C
/// client: a loaded pin still served a request 3 s later under a 1 s DNS cache timeout,
/// and a request of another easy handle of the same multi handle; on another multi
/// handle the resolver-start refusal stopped the request.)
///
/// Safety: every pinned transfer refuses name resolution (`CURLOPT_RESOLVER_START_FUNCTION`,
/// ``CurlTransfer``): if curl does not find the pin in its cache after all, the transfer
/// fails as `dns` before connecting anywhere, and ``finished(_:shard:carried:code:)``
/// no longer counts the pin as held, so the next transfer carries it again. Nothing connects to an
/// address the destination policy did not check.
///
/// Invariant: a host counts as *loaded* with `entry` only after a transfer carrying
/// `entry` succeeded and every transfer that carried a pin for the host since none were
/// under way carried that same `entry` (so curl's cache cannot hold an older pin loaded
/// after it). The table holds one entry per host and shard, as curl's cache does.
///
/// ```swift
/// var pins = PinnedHosts(shards: 8)
/// let entry = "hooks.acme.test:443:93.184.216.34"
/// pins.mustCarry(entry, shard: 3)                                  // true: first time
/// pins.finished(entry, shard: 3, carried: true, code: CURLE_OK)
/// pins.mustCarry(entry, shard: 3)                                  // false: curl holds it
/// ```
struct PinnedHosts {
    /// What one shard knows of one host.
    private struct Host {
        /// The pin last handed to curl for the host.
        var entry: String
        /// Transfers that carried a pin for the host and are not done.
        var carrying = 0
        /// Pins of more than one address were carried while others were under way: which
        /// one curl loaded last is unknown until they are all done.
        var mixed = false
        /// curl holds `entry`.
        var loaded = false
    }

    private var shards: [[Substring: Host]]

    init(shards: Int) {
        self.shards = Array(repeating: [:], count: max(1, shards))
    }

    /// Whether a transfer with `entry` on `shard` must hand curl its pin; if so, it is
    /// counted as carrying it until ``finished(_:shard:carried:code:)``.
    mutating func mustCarry(_ entry: String, shard: Int) -> Bool {
        guard let key = Self.hostAndPort(of: entry) else { return true }
        if let host = shards[shard][key], host.loaded, host.entry == entry { return false }
        // In place: one lookup.
        Self.carry(entry, in: &shards[shard][key, default: Host(entry: entry)])
        return true
    }

    private static func carry(_ entry: String, in host: inout Host) {
        if host.carrying == 0 {
            host.mixed = false
        } else if host.entry != entry {
            host.mixed = true
        }
        host.entry = entry
        host.loaded = false
        host.carrying += 1
    }

    /// A transfer with `entry` on `shard` is done (or was never added): `carried`, what
    /// ``mustCarry(_:shard:)`` said for it; `code`, curl's result.
    mutating func finished(_ entry: String, shard: Int, carried: Bool, code: CURLcode) {
        guard let key = Self.hostAndPort(of: entry), let index = shards[shard].index(forKey: key) else { return }
        if carried {
            shards[shard].values[index].carrying -= 1
            let host = shards[shard].values[index]
            if code == CURLE_OK, !host.mixed, host.entry == entry {
                shards[shard].values[index].loaded = true
            } else if host.carrying == 0 {
                shards[shard].values[index].mixed = false
            }
        } else if code == CURLE_COULDNT_RESOLVE_HOST {
            shards[shard].values[index].loaded = false
        }
    }

    /// Hosts known on `shard` (for tests).
    func hosts(shard: Int) -> Int { shards[shard].count }

    /// `host:port` of a `host:port:address` entry (the host bracketed when it is an IPv6
    /// address); nil when it has no such shape.
    static func hostAndPort(of entry: String) -> Substring? {
        let utf8 = entry.utf8
        var from = utf8.startIndex
        if utf8.first == UInt8(ascii: "[") {
            guard let close = utf8.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            from = close
        }
        guard let hostEnd = utf8[from...].firstIndex(of: UInt8(ascii: ":")),
            let portEnd = utf8[utf8.index(after: hostEnd)...].firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        return entry[..<portEnd]
    }
}
