import Foundation

/// When an endpoint started failing, as kept (key = endpoint id) on the compacted topic
/// `sluice.endpoint-health`, so that the disable window (``DisableWindow``, 5 days by
/// default) counts across dispatcher restarts and rebalances. A tombstone ends the streak.
///
/// Dispatch writes one when an endpoint's circuit first opens in a streak and a tombstone
/// when a probe closes it: a few records per outage, never one per request.
///
/// Invariant: `failingSince` is the first failure after the endpoint's last success.
///
/// ```swift
/// let streak = FailureStreak(endpointID: "ep_1", failingSince: Date())
/// let bytes = try streak.wireBytes()   // header sluice-format: failure-streak/1
/// ```
public struct FailureStreak: WireRecord, Equatable {
    public static let kind = "failure-streak"
    public static let version = 1
    public static let knownKeys: Set<String> = ["endpoint_id", "failing_since"]

    public var endpointID: String
    public var failingSince: Date
    public var extra: [String: JSONValue] = [:]

    public init(endpointID: String, failingSince: Date) {
        self.endpointID = endpointID
        self.failingSince = failingSince
    }

    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try check.id(endpointID, "endpoint_id")
        try check.time(failingSince, "failing_since")
    }

    enum CodingKeys: String, CodingKey {
        case endpointID = "endpoint_id", failingSince = "failing_since"
    }
}
