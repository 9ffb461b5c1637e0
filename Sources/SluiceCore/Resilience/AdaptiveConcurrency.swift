import Foundation

/// How many requests one endpoint may have in flight, learned from its answers (AIMD, in
/// the manner of Vector's adaptive request concurrency and TCP congestion control): it
/// starts low, grows by about one per round trip while the endpoint is kept busy and its
/// latency holds, halves on a sign of overload (a timeout, a refused or reset connection,
/// 429, 503), and shrinks by a tenth while latency climbs above twice its baseline. A
/// slow or struggling endpoint therefore holds few of dispatch's slots, and a fast one
/// gets up to its configured maximum.
///
/// A pure state machine: the caller passes each result and the time, and reads
/// ``current``.
///
/// Invariant: `1 ≤ current ≤ maximum`; at most one decrease per latency window (a burst
/// of timeouts from one window halves the limit once, not once per timeout).
///
/// ```swift
/// var limit = AdaptiveConcurrency(maximum: 64)
/// limit.record(.ok, latency: .milliseconds(20), saturated: true, now: now)
/// if inFlight < limit.current { send() }
/// ```
public struct AdaptiveConcurrency: Sendable, Equatable {
    /// What a result says about the endpoint's load.
    public enum Signal: Sendable, Equatable {
        /// Answered (2xx, or a failure that is not about load: 4xx, 500): latency counts.
        case ok
        /// Timed out, refused or reset, 429 or 503: back off.
        case overloaded
    }

    public let maximum: Int
    /// The limit, fractional so that additive increase is about one per round trip.
    public private(set) var limit: Double
    /// Smoothed latency of answered requests (seconds).
    public private(set) var recentLatency: Double?
    /// The endpoint's latency when not loaded: the lowest seen, creeping up slowly so an
    /// endpoint that really became slower is not held down forever.
    public private(set) var baselineLatency: Double?
    private var lastDecrease: Date?
    private var baselineUpdated: Date?

    public init(maximum: Int, initial: Int = 4) {
        self.maximum = max(1, maximum)
        limit = Double(min(max(1, initial), self.maximum))
    }

    /// The requests that may be in flight now.
    public var current: Int { min(maximum, max(1, Int(limit))) }

    /// Records one result. `saturated`: the endpoint had as many requests in flight as
    /// its limit allows, or more waiting (the limit, not the traffic, held it back).
    public mutating func record(_ signal: Signal, latency: Duration, saturated: Bool, now: Date) {
        let seconds = max(0, latency.timeInterval)
        switch signal {
        case .overloaded:
            decrease(by: 0.5, now: now)
        case .ok:
            recentLatency = recentLatency.map { $0 * 0.8 + seconds * 0.2 } ?? seconds
            updateBaseline(seconds, now: now)
            if let recent = recentLatency, let baseline = baselineLatency, recent > 2 * baseline + 0.005 {
                decrease(by: 0.9, now: now)
            } else if saturated {
                limit = min(Double(maximum), limit + 1 / limit)
            }
        }
    }

    /// The lowest latency seen, drawn up towards higher ones with a time constant of
    /// ``baselineCreep``: an endpoint that became slower for good is its own baseline again
    /// after a few minutes, while a rise over seconds still reads as load.
    private mutating func updateBaseline(_ seconds: Double, now: Date) {
        defer { baselineUpdated = now }
        guard let baseline = baselineLatency, seconds >= baseline else {
            baselineLatency = seconds
            return
        }
        let elapsed = baselineUpdated.map { max(0, now.timeIntervalSince($0)) } ?? 0
        baselineLatency = baseline + (seconds - baseline) * min(1, elapsed / Self.baselineCreep)
    }

    /// Seconds over which the baseline follows a lasting rise of latency.
    public static let baselineCreep: Double = 300

    /// Multiplies the limit by `factor`, unless it was decreased within the last latency
    /// window (the requests answered now were sent before that decrease).
    private mutating func decrease(by factor: Double, now: Date) {
        let window = max(0.1, recentLatency ?? 1)
        if let last = lastDecrease, now.timeIntervalSince(last) < window { return }
        limit = max(1, limit * factor)
        lastDecrease = now
    }
}

extension AdaptiveConcurrency.Signal {
    /// What an attempt's result says of its endpoint's load: a timeout, a refused or reset
    /// connection, 429 or 503 is overload; any other answer is `ok` (its latency counts);
    /// other failures (TLS, DNS, a refused destination) say nothing (nil).
    public init?(status: Int?, errorClass: Attempt.ErrorClass) {
        if let status {
            self = status == 429 || status == 503 ? .overloaded : .ok
            return
        }
        switch errorClass {
        case .timeout, .connect, .reset: self = .overloaded
        default: return nil
        }
    }
}
