/// Which of a ``CurlPool``'s connection caches (shards) a request takes.
///
/// A host's requests stay in one shard, its home (picked by the hash of the URL's
/// `scheme://authority`), so every endpoint of the host shares its connections, until the
/// host has `spillAt` transfers under way at once. From then on, for the pool's life, the
/// host's requests spread over every shard by their whole URL (each endpoint's requests
/// still on one shard, reusing its connections). So a host of a few endpoints opens no more
/// connections than with one cache, and a host that holds hundreds of connections (one
/// receiving platform's many endpoints, or the bench's 5,000 on one host) has them split
/// `count` ways, which is what makes libcurl's walks over them short (``CurlPool``).
///
/// Measured (session 36, 5,000 endpoints over 100 hosts, URL hash for every host): each
/// shard opened its own connections to every host, 7.50 system calls per delivery against
/// 6.56 with one cache, 5–10 % more CPU.
///
/// Invariant: `underWay` of a host counts the picks of it not yet `finished`; a spilled
/// host stays spilled (its endpoints' connections are not moved twice). Only hosts with
/// requests under way and spilled hosts are tracked (a host's home needs no memory), so
/// the table holds at most the pool's transfers under way plus the hosts that ever held
/// `spillAt` of them at once, however many hosts come and go.
///
/// ```swift
/// var shards = ConnectionShards(count: 8, spillAt: 64)
/// let pick = shards.pick("https://hooks.acme.test/in")   // the host's home shard
/// shards.finished(pick)                                  // its transfer is done
/// ```
struct ConnectionShards {
    /// How many shards there are (at least 1).
    let count: Int
    /// Transfers to one host under way at once from which the host spreads over every shard.
    let spillAt: Int
    private var hosts: [UInt64: Host] = [:]

    /// The transfers of one host (keyed by the hash of its `scheme://authority`).
    private struct Host {
        var underWay = 0
        var spilled = false

        /// Counts one more under way; whether the host is spilled now.
        mutating func start(spillAt: Int) -> Bool {
            underWay += 1
            if underWay >= spillAt { spilled = true }
            return spilled
        }
    }

    /// A request's shard and its host's key, given back to ``finished(_:)``.
    struct Pick: Equatable {
        let shard: Int
        let host: UInt64
    }

    init(count: Int, spillAt: Int) {
        self.count = max(1, count)
        self.spillAt = max(1, spillAt)
    }

    /// The shard for a request to `url`, counted as under way until ``finished(_:)``.
    mutating func pick(_ url: String) -> Pick {
        guard count > 1 else { return Pick(shard: 0, host: 0) }
        let (host, whole) = Self.hashes(of: url)
        // In place: one lookup.
        let spilled = hosts[host, default: Host()].start(spillAt: spillAt)
        return Pick(shard: Int((spilled ? whole : host) % UInt64(count)), host: host)
    }

    /// The transfer of `pick` is done.
    mutating func finished(_ pick: Pick) {
        guard count > 1, let index = hosts.index(forKey: pick.host) else { return }
        hosts.values[index].underWay -= 1
        let state = hosts.values[index]
        if state.underWay <= 0, !state.spilled { hosts.remove(at: index) }
    }

    /// Hosts tracked now: those with requests under way, and the spilled ones.
    var trackedHosts: Int { hosts.count }

    /// Whether the host of `url` has spread over every shard.
    func isSpilled(_ url: String) -> Bool {
        hosts[Self.hashes(of: url).host]?.spilled ?? false
    }

    /// FNV-1a of `url`'s `scheme://authority` (up to the first `/`, `?` or `#` after `://`;
    /// the whole string when it has no `://`) and of the whole URL, in one pass.
    static func hashes(of url: String) -> (host: UInt64, whole: UInt64) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var host: UInt64?
        // 0: in the scheme; 1: seen ':'; 2: seen ":/"; 3: in the authority.
        var state = 0
        for byte in url.utf8 {
            if host == nil {
                switch (state, byte) {
                case (0, UInt8(ascii: ":")): state = 1
                case (1, UInt8(ascii: "/")): state = 2
                case (2, UInt8(ascii: "/")): state = 3
                case (3, UInt8(ascii: "/")), (3, UInt8(ascii: "?")), (3, UInt8(ascii: "#")): host = hash
                case (3, _): break
                default: state = 0
                }
            }
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return (host ?? hash, hash)
    }
}
