import Foundation
import SluiceCore

/// How one event's delivery to one endpoint stands, derived from the attempts and dead
/// letters the store holds: the newest of them decides.
///
/// Invariant: `attempts` are oldest first; `state` is `dead` when a dead letter is at
/// least as new as the last attempt, else the last attempt's outcome (`retrying` with its
/// `nextAttemptAt`), else `pending`.
///
/// ```swift
/// let states = EventDeliveryState.derive(attempts: rows, deadLetters: letters, expected: ["ep_1"])
/// ```
public struct EventDeliveryState: Sendable, Equatable {
    public enum State: String, Sendable {
        case pending, delivered, retrying, dead, dropped
    }

    public var endpointID: String
    public var state: State
    public var nextAttemptAt: Date?
    public var deadLetterID: String?
    public var attempts: [StoredAttempt]

    /// One state per endpoint that has attempts or dead letters, or is `expected` (in the
    /// order of first appearance: expected first, then the rest by id).
    public static func derive(attempts: [StoredAttempt], deadLetters: [StoredDeadLetter], expected: [String]) -> [EventDeliveryState] {
        let byEndpoint = Dictionary(grouping: attempts, by: \.attempt.endpointID)
        let lettersByEndpoint = Dictionary(grouping: deadLetters, by: \.endpointID)
        var order = expected
        for id in Set(byEndpoint.keys).union(lettersByEndpoint.keys).sorted() where !order.contains(id) { order.append(id) }
        return order.map { id in
            let tried = (byEndpoint[id] ?? []).sorted { ($0.attempt.at, $0.partition, $0.offset) < ($1.attempt.at, $1.partition, $1.offset) }
            let letter = lettersByEndpoint[id]?.max { $0.deadAt < $1.deadAt }
            var result = EventDeliveryState(endpointID: id, state: .pending, attempts: tried)
            if let letter, tried.last.map({ letter.deadAt >= $0.attempt.at }) ?? true {
                result.state = .dead
                result.deadLetterID = letter.id
            } else if let last = tried.last?.attempt {
                switch last.outcome {
                case .delivered: result.state = .delivered
                case .retrying:
                    result.state = .retrying
                    result.nextAttemptAt = last.nextAttemptAt
                case .deadLettered, .endpointDisabled:
                    result.state = .dead
                    result.deadLetterID = letter?.id
                case .dropped: result.state = .dropped
                }
            }
            return result
        }
    }
}
