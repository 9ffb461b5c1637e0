import Foundation

/// The per-endpoint circuit breaker: closed → open after `threshold` consecutive failures
/// → after `coolDown`, half-open with a single probe → closed on its success, open again
/// on its failure.
///
/// A pure state machine: the caller passes the time and acts on what each method
/// returns (send, defer, write an ops event), outside any lock.
///
/// Invariant: at most one probe is in flight while half-open.
///
/// ```swift
/// var breaker = CircuitBreaker(threshold: 5, coolDown: .seconds(30))
/// switch breaker.admit(now: now) { case .send, .probe: post(); case .reject(let until): deferUntil(until) }
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
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(threshold: Int = 5, coolDown: Duration = .seconds(30)) {
        precondition(threshold >= 1)
        self.threshold = threshold
        self.coolDown = coolDown
    }

    public mutating func admit(now: Date) -> Admission {
        switch state {
        case .closed:
            return .send
        case .open(let until):
            guard now >= until else { return .reject(until: until) }
            state = .halfOpen(probeInFlight: true)
            return .probe
        case .halfOpen(let inFlight):
            if inFlight { return .reject(until: now.addingTimeInterval(coolDown.timeInterval)) }
            state = .halfOpen(probeInFlight: true)
            return .probe
        }
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
            return .closed
        case (.halfOpen, false):
            return open(now: now)
        case (.open, _):
            // A request admitted before the circuit opened finished late: keep it open.
            return nil
        }
    }

    private mutating func open(now: Date) -> Transition {
        let until = now.addingTimeInterval(coolDown.timeInterval)
        state = .open(until: until)
        return .opened(until: until)
    }
}
