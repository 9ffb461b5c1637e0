import Foundation
import Metrics
import SluiceCore
import SluiceHTTP

/// Dispatch's Prometheus metrics: attempts by outcome, deferrals by reason, circuit
/// changes and open circuits, deliveries in flight and not yet committed, attempt
/// latency, and the slowest endpoints' latency.
///
/// Invariant: endpoints are a label only of `sluice_dispatch_slowest_endpoint_seconds`,
/// which holds the `slowestCount` slowest endpoints of the last window and drops the
/// series of those that left it: the number of series stays bounded however many
/// endpoints there are.
final class DispatchMetrics: Sendable {
    let inFlight = Gauge(label: "sluice_dispatch_in_flight")
    let uncommitted = Gauge(label: "sluice_dispatch_uncommitted_deliveries")
    let openCircuits = Gauge(label: "sluice_dispatch_open_circuits")
    /// Deliveries waiting at their endpoints' gates (part of `sluice_dispatch_in_flight`).
    let waitingAtGates = Gauge(label: "sluice_dispatch_gate_waiting")
    /// The HTTP loop's window (``TransferWindow``): its limit, the young and parked
    /// transfers, and the requests waiting for room.
    let windowLimit = Gauge(label: "sluice_dispatch_http_window_limit")
    let transfers = (
        young: Gauge(label: "sluice_dispatch_http_transfers", dimensions: [("state", "young")]),
        parked: Gauge(label: "sluice_dispatch_http_transfers", dimensions: [("state", "parked")]),
        waiting: Gauge(label: "sluice_dispatch_http_transfers", dimensions: [("state", "waiting")]))
    let latency = Timer(label: "sluice_dispatch_attempt_seconds")
    /// Live deliveries' pickup lag: record written → read by dispatch (the replay lane's signal).
    let pickupLag = Timer(label: "sluice_dispatch_live_pickup_lag_seconds")
    /// Replayed deliveries per second the lane allows now.
    let replayRate = Gauge(label: "sluice_dispatch_replay_rate")
    /// Records written to a retry tier (retries and deferrals) …
    let tierRecords = Counter(label: "sluice_dispatch_tier_records_total")
    /// … and deliveries that reached their end (delivered, dead-lettered, dropped): their
    /// ratio is the tier records per delivery.
    let finished = Counter(label: "sluice_dispatch_finished_total")
    /// Tier passes of each delivery that reached its end (the recirculation bound).
    let passes = Recorder(label: "sluice_dispatch_tier_passes", aggregate: true)
    let slowestCount: Int
    private let board = Locked(EndpointLatencyBoard())
    private let slowest = Locked<[String: [Gauge]]>([:])

    /// Every outcome × error class series, made once (one is counted per attempt).
    private let attempts: [String: [String: Counter]]
    /// The deferral reasons' series, made once: an open circuit defers every delivery of
    /// its endpoint, thousands a second in the bench's mixed run.
    private let deferrals: [String: Counter]
    /// The reasons ``deferred(_:)`` is called with on the common paths.
    static let deferralReasons = ["circuit_open", "endpoint_slow", "buffer_full", "rate_limit", "retry_budget", "not_due", "registry_unavailable"]

    init(slowestCount: Int = 10) {
        self.slowestCount = slowestCount
        var attempts: [String: [String: Counter]] = [:]
        for outcome in Attempt.Outcome.allCases {
            for errorClass in Attempt.ErrorClass.allCases {
                attempts[outcome.rawValue, default: [:]][errorClass.rawValue] = Self.attemptCounter(outcome.rawValue, errorClass.rawValue)
            }
        }
        self.attempts = attempts
        deferrals = Dictionary(uniqueKeysWithValues: Self.deferralReasons.map { ($0, Self.deferralCounter($0)) })
    }

    private static func deferralCounter(_ reason: String) -> Counter {
        Counter(label: "sluice_dispatch_deferred_total", dimensions: [("reason", reason)])
    }

    private static func attemptCounter(_ outcome: String, _ errorClass: String) -> Counter {
        Counter(label: "sluice_dispatch_attempts_total", dimensions: [("outcome", outcome), ("error_class", errorClass)])
    }

    func attempt(_ outcome: String, _ errorClass: String) {
        (attempts[outcome]?[errorClass] ?? Self.attemptCounter(outcome, errorClass)).increment()
    }

    func record(_ load: CurlMultiClient.Load) {
        windowLimit.record(load.limit)
        transfers.young.record(load.young)
        transfers.parked.record(load.parked)
        transfers.waiting.record(load.waiting)
    }

    func deferred(_ reason: String) {
        (deferrals[reason] ?? Self.deferralCounter(reason)).increment()
    }

    func circuit(_ change: String) {
        Counter(label: "sluice_dispatch_circuit_transitions_total", dimensions: [("to", change)]).increment()
    }

    /// One attempt's latency, overall and for its endpoint's window.
    func latency(_ seconds: Double, endpoint: String) {
        latency.recordNanoseconds(Int64(seconds * 1e9))
        board.withLock { $0.record(endpoint, seconds: seconds) }
    }

    /// Ends the latency window: publishes its slowest endpoints (mean and max latency, and
    /// the adaptive concurrency limit that `limit` gives for each) and drops the series of
    /// endpoints no longer among them. Returns them, for the log.
    @discardableResult
    func publishSlowest(limit: (String) -> Int?) -> [EndpointLatencyBoard.Entry] {
        let top = board.withLock { $0.rotate(top: slowestCount, minimumAttempts: 3) }
        let limits = top.map { limit($0.endpoint) }
        let keep = Set(top.map(\.endpoint))
        let gone = slowest.withLock { series -> [Gauge] in
            let dropped = series.filter { !keep.contains($0.key) }
            for key in dropped.keys { series[key] = nil }
            for entry in top where series[entry.endpoint] == nil {
                series[entry.endpoint] = ["mean", "max"].map {
                    Gauge(label: "sluice_dispatch_slowest_endpoint_seconds", dimensions: [("endpoint", entry.endpoint), ("stat", $0)])
                } + [Gauge(label: "sluice_dispatch_slowest_endpoint_concurrency_limit", dimensions: [("endpoint", entry.endpoint)])]
            }
            for (entry, limit) in zip(top, limits) {
                series[entry.endpoint]?[0].record(entry.meanSeconds)
                series[entry.endpoint]?[1].record(entry.maxSeconds)
                if let limit { series[entry.endpoint]?[2].record(limit) }
            }
            return dropped.values.flatMap { $0 }
        }
        for gauge in gone { gauge.destroy() }
        return top
    }
}
