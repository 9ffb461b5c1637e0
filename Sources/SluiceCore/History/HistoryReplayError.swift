import Foundation

/// Why a history replay (`sluice events replay`) cannot run, worded for the operator: what
/// is wrong and what to do next.
///
/// Invariant: every case's description names the flag or the object at fault.
///
/// ```swift
/// throw HistoryReplayError.untilNotAfterSince(since: s, until: u)
/// // Error: --until (…) must be after --since (…): the window is empty
/// ```
public enum HistoryReplayError: Error, Sendable, Equatable, CustomStringConvertible {
    case notATime(flag: String, text: String)
    case sinceInFuture(Date)
    case untilNotAfterSince(since: Date, until: Date)
    /// The whole window lies before what the events topic keeps.
    case windowOutsideRetention(until: Date, keptFrom: Date, topic: String, retention: Duration)
    case unknownEndpoint(String)
    case endpointDisabled(String, reason: String?)
    case badTypes(String, problem: String)
    case badReplayID(String)
    case badRate(Double)

    public var description: String {
        switch self {
        case .notATime(let flag, let text):
            return "--\(flag) '\(text)' is not a time; use \(TimeText.expected)"
        case .sinceInFuture(let since):
            return "--since (\(TimeText.format(since))) is in the future: no event is there yet; give a past time such as 2h or 2026-11-25T10:00:00Z"
        case .untilNotAfterSince(let since, let until):
            return "--until (\(TimeText.format(until))) must be after --since (\(TimeText.format(since))): the window is empty; swap them or widen it"
        case .windowOutsideRetention(let until, let keptFrom, let topic, let retention):
            return "the window ends at \(TimeText.format(until)), before the oldest events \(topic) keeps (retention \(DurationText.format(retention)): "
                + "from about \(TimeText.format(keptFrom))); those events are deleted and no history replay can bring them back. "
                + "Dead letters are kept longer (sluice dlq list --since …); otherwise the producer must publish them again"
        case .unknownEndpoint(let id):
            return "endpoint \(id) does not exist; list the tenant's endpoints with `sluice endpoints list --tenant T`"
        case .endpointDisabled(let id, let reason):
            return "endpoint \(id) is disabled\(reason.map { " (\($0))" } ?? ""): its deliveries would go straight to the DLQ; "
                + "enable it first (sluice endpoints enable \(id)), or look with --dry-run"
        case .badTypes(let text, let problem):
            return "--types '\(text)': \(problem)"
        case .badReplayID(let id):
            return "--replay-id '\(id)' must be 1-64 letters, digits, '_', '-' or '.'"
        case .badRate(let rate):
            return "--rate \(rate) is out of range: give deliveries per second between 0.001 and 1000000"
        }
    }
}
