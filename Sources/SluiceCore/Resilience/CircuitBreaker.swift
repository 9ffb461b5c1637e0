import Foundation

/// The per-endpoint circuit breaker: closed → open after `threshold` consecutive failures
/// → after the cool-down, half-open with a single probe → closed on its success, open
/// again on its failure. The cool-down grows on repeated trips: `coolDown`, then twice
/// as long after each failed probe, up to `maxCoolDown`; it starts over once the circuit
/// closes. So a dead endpoint costs one probe per cool-down, fewer and fewer of them, and
/// a recovered one is found within its current cool-down.
///
/// A pure state machine: the caller passes the time and acts on what each method
/// returns (send, defer, write an ops event), outside any lock.
///
/// While the probe is out, other requests are told to come back after the first cool-down
/// or when the probe must have answered (sent + its request timeout), whichever is later:
/// a probe to an endpoint that never answers holds for a whole timeout, and deliveries
/// told to come back sooner would go round a retry tier again and again meanwhile.
///
/// Invariant: at most one probe is in flight while half-open; the cool-down of trip `n`
/// (1-based) is `min(coolDown × 2^(n-1), maxCoolDown)`.
///
/// ```swift
/// var breaker = CircuitBreaker(threshold: 5, coolDown: .seconds(30), maxCoolDown: .seconds(3600))
/// switch breaker.admit(now: now, probeTimeout: .seconds(15)) { case .send, .probe: post(); case .reject(let until): deferUntil(until) }
/// if let change = breaker.record(success: false, now: now) { emitOpsEvent(change) }
/// ```
public struct CircuitBreaker: Sendable, Equatable {
    /// Where the circuit is; `open` holds the time a probe may go.
    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Date)
        case halfOpen(probeInFlight: Bool)
    }

    /// Whether a request may go now.
    public enum Admission: Sendable, Equatable {
        case send
        /// The single probe of a half-open circuit.
        case probe
        /// Defer: the circuit is open (or its probe is still out) until about this time.
        case reject(until: Date)
    }

    /// A change worth an ops event.
    public enum Transition: Sendable, Equatable {
        case opened(until: Date)
        case closed
    }

    public let threshold: Int
    public let coolDown: Duration
    public let maxCoolDown: Duration
    public private(set) var state: State = .closed(consecutiveFailures: 0)
    /// Times the circuit opened since it was last closed.
    public private(set) var trips = 0
    /// While a probe is out: when it must have answered (sent + its request timeout).
    public private(set) var probeAnswerBy: Date?

    public init(threshold: Int = 5, coolDown: Duration = .seconds(30), maxCoolDown: Duration? = nil) {
        self.threshold = max(1, threshold)
        self.coolDown = coolDown
        self.maxCoolDown = max(coolDown, maxCoolDown ?? coolDown)
    }

    /// Whether requests go freely (neither open nor probing).
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The cool-down of the current trip.
    public var currentCoolDown: Duration {
        guard trips > 1 else { return coolDown }
        return min(coolDown * (1 << min(trips - 1, 30)), maxCoolDown)
    }

    /// Whether a request may go now. `probeTimeout`: the request timeout of the probe this
    /// call may grant (how long it can be out).
    public mutating func admit(now: Date, probeTimeout: Duration = .zero) -> Admission {
        switch state {
        case .closed:
            return .send
        case .open(let until):
            guard now >= until else { return .reject(until: until) }
            return probe(now: now, timeout: probeTimeout)
        case .halfOpen(let inFlight):
            // The probe's answer decides: come back once it must have come (after the first
            // cool-down at least, soon after the probe, in the smallest tier) rather than
            // after a whole grown cool-down.
            if inFlight {
                let soonest = now.addingTimeInterval(coolDown.timeInterval)
                return .reject(until: max(soonest, probeAnswerBy ?? soonest))
            }
            return probe(now: now, timeout: probeTimeout)
        }
    }

    private mutating func probe(now: Date, timeout: Duration) -> Admission {
        state = .halfOpen(probeInFlight: true)
        probeAnswerBy = now.addingTimeInterval(max(0, timeout.timeInterval))
        return .probe
    }

    /// Records an attempt's result; returns a transition when the circuit opened or closed.
    public mutating func record(success: Bool, now: Date) -> Transition? {
        switch (state, success) {
        case (.closed, true):
            state = .closed(consecutiveFailures: 0)
            return nil
        case (.closed(let failures), false):
            guard failures + 1 >= threshold else {
                state = .closed(consecutiveFailures: failures + 1)
                return nil
            }
            return open(now: now)
        case (.halfOpen, true):
            state = .closed(consecutiveFailures: 0)
            trips = 0
            probeAnswerBy = nil
            return .closed
        case (.halfOpen, false):
            return open(now: now)
        case (.open, _):
            // A request admitted before the circuit opened finished late: keep it open.
            return nil
        }
    }

    private mutating func open(now: Date) -> Transition {
        trips += 1
        probeAnswerBy = nil
        let until = now.addingTimeInterval(currentCoolDown.timeInterval)
        state = .open(until: until)
        return .opened(until: until)
    }
}
