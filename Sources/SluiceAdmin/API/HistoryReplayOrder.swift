import Foundation
import SluiceCore
import SluiceStage

/// The body of `POST /v1/endpoints/{id}/replay`, checked as `sluice events replay` checks its
/// flags (one set of rules: ``HistoryReplayRequest``, ``HistoryWindow``, ``ReplaySender/rates``),
/// with problems worded for the API: the field at fault and what to send instead.
///
/// Invariant: an order exists only for a valid request: a window with `since` in the past
/// and before `until`, a type filter that parses, a rate in ``ReplaySender/rates``, a replay
/// id of 1…64 safe characters. Its replay id is the one the CLI derives from the same
/// request (`types` joined with commas as `--types` takes them), so an API replay and a CLI
/// replay of the same window share what they already sent.
///
/// ```swift
/// let order = try HistoryReplayOrder(body, endpointID: "ep_1", now: Date())
/// order.request.replayID   // "hr_…", the same for the same body
/// ```
struct HistoryReplayOrder: Sendable, Equatable {
    var request: HistoryReplayRequest
    /// Deliveries per second at most.
    var rate: Double
    var dryRun: Bool

    /// The CLI's default rate (`--rate`).
    static let defaultRate: Double = 500
    /// The longest `since` or `until` text taken (the spec's maxLength).
    static let maxTimeText = 64
    /// The most `types` patterns taken, and the longest one (the spec's bounds).
    static let maxTypes = 256
    static let maxTypeLength = 256

    init(_ body: Components.Schemas.HistoryReplayRequest, endpointID: String, now: Date) throws(APIProblem) {
        for (field, text) in [("since", body.since), ("until", body.until)] {
            guard let text else { continue }
            guard (1...Self.maxTimeText).contains(text.count) else {
                throw .unprocessable("\(field) takes 1…\(Self.maxTimeText) characters: \(TimeText.expected)")
            }
        }
        var types: String?
        if let patterns = body.types {
            guard (1...Self.maxTypes).contains(patterns.count) else {
                throw .unprocessable("types takes 1…\(Self.maxTypes) patterns (exact, prefix.* or *); leave it out to take every type the endpoint's filter takes")
            }
            for pattern in patterns {
                guard (1...Self.maxTypeLength).contains(pattern.count), !pattern.contains(",") else {
                    throw .unprocessable("types: each item is one pattern of 1…\(Self.maxTypeLength) characters without commas, e.g. [\"order.*\", \"invoice.paid\"]")
                }
            }
            types = patterns.joined(separator: ",")
        }
        let rate = body.rate ?? Self.defaultRate
        guard ReplaySender.rates.contains(rate) else {
            throw .unprocessable("rate \(rate) is out of range: give deliveries per second between 0.001 and 1000000 (default 500)")
        }
        do {
            request = try HistoryReplayRequest(
                endpointID: endpointID, since: body.since, until: body.until, types: types, onlyMissing: body.onlyMissing ?? false,
                replayID: body.replayId, now: now)
        } catch {
            throw Self.problem(error)
        }
        self.rate = rate
        dryRun = body.dryRun ?? false
    }

    /// A refusal of the shared request rules, worded with the API's field names.
    static func problem(_ error: HistoryReplayError) -> APIProblem {
        switch error {
        case .notATime(let flag, let text):
            return .unprocessable("\(flag) '\(text)' is not a time; use \(TimeText.expected)")
        case .sinceInFuture(let since):
            return .unprocessable("since (\(TimeText.format(since))) is in the future: no event is there yet; give a past time such as 2h or 2026-11-25T10:00:00Z")
        case .untilNotAfterSince(let since, let until):
            return .unprocessable("until (\(TimeText.format(until))) must be after since (\(TimeText.format(since))): the window is empty; swap them or widen it")
        case .windowOutsideRetention(let until, let keptFrom, let topic, let retention):
            return .unprocessable(
                "the window ends at \(TimeText.format(until)), before the oldest events \(topic) keeps (retention \(DurationText.format(retention)): "
                    + "from about \(TimeText.format(keptFrom))); those events are deleted and no history replay can bring them back. "
                    + "Dead letters are kept longer (GET /v1/dead-letters?since=…); otherwise the producer must publish them again")
        case .unknownEndpoint(let id):
            return .notFound("no endpoint \(id); GET /v1/endpoints lists yours")
        case .endpointDisabled(let id, let reason):
            return .conflict(
                "endpoint \(id) is disabled\(reason.map { " (\($0))" } ?? ""): its deliveries would go straight to the dead-letter queue; "
                    + "POST /v1/endpoints/\(id)/enable first, or look with \"dry_run\": true")
        case .badTypes(_, let problem):
            return .unprocessable("types: \(problem)")
        case .badReplayID(let id):
            return .unprocessable("replay_id '\(id)' must be 1-64 letters, digits, '_', '-' or '.'; or leave it out to derive it from the request")
        case .badRate(let rate):
            return .unprocessable("rate \(rate) is out of range: give deliveries per second between 0.001 and 1000000")
        }
    }
}
