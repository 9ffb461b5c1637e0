/// Where one event stands at one endpoint, from its activity lines (attempts and dead
/// letters, any order): what `sluice events show` prints per endpoint.
///
/// Invariant: the latest dead letter decides unless something came after it: a delivered
/// attempt after it is a successful replay, a failed one a replay still retrying.
///
/// ```swift
/// DeliveryState(lines).description   // "delivered after a replay"
/// ```
public enum DeliveryState: Equatable, Sendable, CustomStringConvertible {
    case delivered
    case retrying
    case deadLettered
    case deliveredAfterReplay
    case retryingAfterReplay

    public init(_ lines: [ActivityLine]) {
        let ordered = lines.sorted { $0.at < $1.at }
        let lastDead = ordered.lastIndex { $0.kind == .deadLetter }
        let after = lastDead.map { ordered[($0 + 1)...] } ?? ordered[...]
        let delivered = after.contains { $0.kind == .attempt && !$0.isFailure }
        switch (lastDead, delivered) {
        case (nil, true): self = .delivered
        case (nil, false): self = .retrying
        case (_, true): self = .deliveredAfterReplay
        case (_, false): self = after.contains { $0.kind == .attempt } ? .retryingAfterReplay : .deadLettered
        }
    }

    public var description: String {
        switch self {
        case .delivered: "delivered"
        case .retrying: "retrying (or waiting in a tier)"
        case .deadLettered: "dead-lettered"
        case .deliveredAfterReplay: "delivered after a replay"
        case .retryingAfterReplay: "replayed, retrying"
        }
    }
}
