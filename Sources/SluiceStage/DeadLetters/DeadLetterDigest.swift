import Foundation
import SluiceCore

/// New dead letters per endpoint, summarised into at most one `ops` event per endpoint
/// and `interval` (an hour by default): the first dead letter of a quiet endpoint is
/// reported at once; the ones after it are counted and reported together when the
/// interval since the last report has passed.
///
/// Invariant: every dead letter added is counted in exactly one summary (while the
/// process runs); no endpoint gets two summaries less than `interval` apart.
///
/// ```swift
/// var digest = DeadLetterDigest(interval: .seconds(3600))
/// let now = digest.add(dead, at: Date())    // [Summary] to write now (first of the hour)
/// let later = digest.due(at: Date())        // the ones whose hour has passed
/// ```
struct DeadLetterDigest: Sendable {
    struct Summary: Sendable, Equatable {
        var endpointID: String
        var tenant: String
        var count: Int
        var reasons: [String: Int]
        var lastEventID: String
        var lastError: String

        var detail: String {
            let why = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            return "\(count) new dead letter\(count == 1 ? "" : "s") (\(why)); last: \(lastEventID): \(lastError)"
        }
    }

    let interval: Duration
    private var pending: [String: Summary] = [:]
    private var lastReport: [String: Date] = [:]

    init(interval: Duration = .seconds(3600)) { self.interval = interval }

    /// Counts `dead`; returns its endpoint's summary when one may be written now.
    mutating func add(_ dead: DeadLetter, at now: Date) -> [Summary] {
        let d = dead.delivery
        var summary = pending[d.endpointID] ?? Summary(endpointID: d.endpointID, tenant: d.tenant, count: 0, reasons: [:], lastEventID: "", lastError: "")
        summary.count += 1
        summary.reasons[dead.reason, default: 0] += 1
        summary.lastEventID = d.eventID
        summary.lastError = dead.finalError
        pending[d.endpointID] = summary
        return mayReport(d.endpointID, at: now) ? take([d.endpointID], at: now) : []
    }

    /// Summaries whose endpoint's interval has passed.
    mutating func due(at now: Date) -> [Summary] {
        take(pending.keys.filter { mayReport($0, at: now) }.sorted(), at: now)
    }

    private func mayReport(_ endpointID: String, at now: Date) -> Bool {
        guard let last = lastReport[endpointID] else { return true }
        return now.timeIntervalSince(last) >= interval.timeInterval
    }

    private mutating func take(_ endpointIDs: [String], at now: Date) -> [Summary] {
        endpointIDs.compactMap { id in
            guard let summary = pending.removeValue(forKey: id) else { return nil }
            lastReport[id] = now
            return summary
        }
    }
}
