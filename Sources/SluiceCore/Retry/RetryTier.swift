/// One delay topic (`sluice.retry.1m`, `.10m`, `.1h`) and the delay it holds records for.
///
/// ```swift
/// RetryTier.tenMinutes.topicSuffix   // "retry.10m"
/// ```
public enum RetryTier: String, Sendable, CaseIterable, Codable, Comparable {
    case oneMinute = "1m"
    case tenMinutes = "10m"
    case oneHour = "1h"

    public var topicSuffix: String { "retry.\(rawValue)" }

    /// The nominal delay the tier is named for.
    public var nominalDelay: Duration {
        switch self {
        case .oneMinute: return .seconds(60)
        case .tenMinutes: return .seconds(600)
        case .oneHour: return .seconds(3600)
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.nominalDelay < b.nominalDelay }
}

/// The delay of each tier as deployed: the nominal ones, or shorter for tests and dev
/// (`SLUICE_RETRY_TIERS=1m=2s,10m=5s,1h=10s`).
///
/// Invariant: delays are positive and grow with the tier.
///
/// ```swift
/// let tiers = try RetryTiers(parsing: "1m=2s,10m=5s,1h=10s")
/// tiers.tier(for: .seconds(7))   // .tenMinutes (5 s ≤ 7 s < 10 s)
/// ```
public struct RetryTiers: Sendable, Equatable {
    public private(set) var delays: [RetryTier: Duration]

    public static let nominal = RetryTiers(unchecked: Dictionary(uniqueKeysWithValues: RetryTier.allCases.map { ($0, $0.nominalDelay) }))

    private init(unchecked delays: [RetryTier: Duration]) { self.delays = delays }

    /// Parses `1m=2s,10m=5s,1h=10s`; tiers not named keep their nominal delay.
    public init(parsing text: String) throws(ConfigError) {
        var delays = Self.nominal.delays
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let tier = RetryTier(rawValue: pair[0]), let delay = DurationText.parse(pair[1]),
                delay > .zero
            else {
                throw ConfigError(key: "retry.tiers", value: text, expected: "TIER=DELAY pairs like 1m=2s,10m=5s,1h=10s")
            }
            delays[tier] = delay
        }
        let ordered = RetryTier.allCases.map { delays[$0]! }
        guard ordered == ordered.sorted() else {
            throw ConfigError(key: "retry.tiers", value: text, expected: "delays that grow from 1m to 10m to 1h")
        }
        self.delays = delays
    }

    public func delay(of tier: RetryTier) -> Duration { delays[tier]! }

    /// The largest tier whose delay fits in `wait`, or the smallest when none does.
    public func tier(for wait: Duration) -> RetryTier {
        RetryTier.allCases.reversed().first { delay(of: $0) <= wait } ?? .oneMinute
    }
}
