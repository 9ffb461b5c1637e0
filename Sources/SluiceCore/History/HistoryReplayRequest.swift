import Foundation

/// What one history replay is asked to send: the events of an endpoint's tenant in a
/// window that its filter (narrowed by `types`, when given) takes, optionally only those
/// the endpoint never answered 2xx to, under one replay id.
///
/// Invariant: the replay id is the same for the same request as written (a relative
/// `--since 2h` names the same replay on every run), so running it again, or after an
/// interruption, sends nothing twice; `--replay-id` names it explicitly instead.
///
/// ```swift
/// let request = try HistoryReplayRequest(endpointID: "ep_1", since: "1h", until: nil, types: "order.*", onlyMissing: true, now: Date())
/// request.selects(event, publishedAt: time, endpoint: endpoint)   // .take
/// ```
public struct HistoryReplayRequest: Sendable, Equatable {
    public let endpointID: String
    public let window: HistoryWindow
    /// Narrows the endpoint's own filter: an event must match both.
    public let types: EventTypeFilter?
    public let onlyMissing: Bool
    public let replayID: String

    /// Why an event of the scanned range is or is not replayed.
    public enum Selection: Sendable, Equatable {
        case take
        case otherTenant
        /// The endpoint's filter (or `--types`) does not take its type.
        case otherType
        case outsideWindow
    }

    public init(
        endpointID: String, window: HistoryWindow, types: EventTypeFilter?, onlyMissing: Bool, replayID: String
    ) {
        self.endpointID = endpointID
        self.window = window
        self.types = types
        self.onlyMissing = onlyMissing
        self.replayID = replayID
    }

    /// From the flags as written; the replay id derives from them unless `replayID` is given.
    public init(
        endpointID: String, since: String, until: String?, types: String?, onlyMissing: Bool, replayID: String? = nil, now: Date
    ) throws(HistoryReplayError) {
        let window = try HistoryWindow(since: since, until: until, now: now)
        var filter: EventTypeFilter?
        if let types {
            do { filter = try EventTypeFilter(parsing: types) } catch { throw .badTypes(types, problem: error.description) }
        }
        if let replayID, !Self.isValidReplayID(replayID) { throw .badReplayID(replayID) }
        let words = [("endpoint", endpointID), ("since", since), ("until", until), ("types", types), ("only-missing", onlyMissing ? "yes" : nil)]
            .compactMap { name, value in value.map { "\(name)=\($0)" } }
        self.init(
            endpointID: endpointID, window: window, types: filter, onlyMissing: onlyMissing,
            replayID: replayID ?? ReplayMarker.replayID(prefix: "hr_", for: ["events"] + words))
    }

    /// Whether `event`, published at `publishedAt`, goes to `endpoint` in this replay.
    public func selects(_ event: Event, publishedAt: Date?, endpoint: Endpoint) -> Selection {
        guard event.tenant == endpoint.tenant else { return .otherTenant }
        guard endpoint.filter.matches(event.type), types?.matches(event.type) ?? true else { return .otherType }
        guard window.contains(publishedAt) else { return .outsideWindow }
        return .take
    }

    /// 1-64 of `A-Z a-z 0-9 _ - .`: safe in a transactional id and a record field.
    public static func isValidReplayID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0)) }
    }
}
