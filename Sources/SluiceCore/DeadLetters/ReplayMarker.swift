import Foundation

/// What one replay transaction sent, written in the same transaction as the deliveries it
/// published, so a later run of the same replay (or the resumption of an interrupted one)
/// knows what already went. A DLQ replay writes it to `sluice.dlq` beside the dead
/// letters; a history replay (`sluice events replay`) writes it to `sluice.replays`.
///
/// Invariant: `sources` name records of the topic the replay read, as `partition:offset`
/// (dead letters of the DLQ topic it sits in; events of `sluice.events` on
/// `sluice.replays`); a marker is never a dead letter (its `sluice-format` is
/// `dlq-replay/1`), and readers of the DLQ skip it.
///
/// ```swift
/// let marker = ReplayMarker(replayID: "rp_1a2b", sources: ["3:17", "5:2"], at: Date())
/// ```
public struct ReplayMarker: WireRecord, Equatable {
    public static let kind = "dlq-replay"
    public static let version = 1
    public static let knownKeys: Set<String> = ["replay_id", "sources", "at"]

    public var replayID: String
    public var sources: [String]
    public var at: Date
    public var extra: [String: JSONValue] = [:]

    public init(replayID: String, sources: [String], at: Date) {
        self.replayID = replayID
        self.sources = sources
        self.at = at
    }

    /// At most this many sources per marker (one replay chunk names far fewer).
    public static let maxSources = 100_000

    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try check.id(replayID, "replay_id")
        try check.count(sources.count, "sources", max: Self.maxSources)
        for source in sources where Self.parse(source: source) == nil {
            throw check.fail("sources", "\(source.truncated(toBytes: 40)) is not partition:offset")
        }
        try check.time(at, "at")
    }

    /// The partition and offset of a `sources` entry, or nil when it is not `P:O`.
    public static func parse(source: String) -> (partition: Int32, offset: Int64)? {
        let parts = source.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let partition = Int32(parts[0]), partition >= 0, let offset = Int64(parts[1]), offset >= 0 else {
            return nil
        }
        return (partition, offset)
    }

    /// How a dead letter's record is named in `sources`.
    public static func source(partition: Int32, offset: Int64) -> String { "\(partition):\(offset)" }

    enum CodingKeys: String, CodingKey {
        case sources, at
        case replayID = "replay_id"
    }
}

extension Delivery {
    /// This dead delivery sent again by replay `id`: the same event id and body, the
    /// attempt count reset, due now, with no history.
    public func replayed(id: String, now: Date) -> Delivery {
        var next = self
        next.attempt = 1
        next.firstAttemptAt = nil
        next.notBefore = now
        next.replayID = id
        next.history = []
        next.passes = 0
        next.createdAt = now  // the maximum age starts again with the replay
        return next
    }
}

extension DeadLetterFilter {
    /// The replay id the same filters always give (`rp_` + 12 hex digits), so running the
    /// same replay again sends nothing twice. `words` are the filters as the operator
    /// wrote them (a relative `--since 2h` names the same replay on every run).
    public static func replayID(for words: [String]) -> String { ReplayMarker.replayID(prefix: "rp_", for: words) }
}

extension ReplayMarker {
    /// The replay id the same words always give: `prefix` + 12 hex digits of a keyed hash
    /// of the words (`rp_` for DLQ replays, `hr_` for history replays).
    public static func replayID(prefix: String, for words: [String]) -> String {
        let digest = WebhookSigner.hmacSHA256(key: Array("sluice-replay".utf8), data: Array(words.joined(separator: "\u{1F}").utf8))
        return prefix + digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
