import Foundation
import SluiceCore

extension EndpointGate {
    /// The gate's fixed settings, and the decisions that need only them and one endpoint's
    /// state (kept apart so an entry can be changed in place while they are read).
    struct Rules: Sendable {
        /// The most an endpoint without its own `concurrency` may reach.
        let defaultLimit: Int
        /// Where an endpoint's adaptive limit starts (nil: its maximum).
        let initialLimit: Int?
        let bufferLimit: Int
        let circuitThreshold: Int
        let circuitCoolDown: Duration
        let circuitCoolDownMax: Duration
        let disableWindow: Duration
        /// An endpoint with every slot taken and no answer for this long is slow.
        let slowAfter: TimeInterval
        /// The request timeout of an endpoint without its own.
        let requestTimeout: Duration

        func newBreaker() -> CircuitBreaker {
            CircuitBreaker(threshold: circuitThreshold, coolDown: circuitCoolDown, maxCoolDown: circuitCoolDownMax)
        }

        /// The adaptive limit of `endpoint`, made or remade when its maximum changed.
        func limit(of endpoint: Endpoint, in state: inout EndpointState) -> AdaptiveConcurrency {
            let maximum = endpoint.concurrency ?? defaultLimit
            if let limit = state.limit, limit.maximum == maximum { return limit }
            let limit = AdaptiveConcurrency(maximum: maximum, initial: state.limit?.current ?? initialLimit ?? maximum)
            state.limit = limit
            return limit
        }

        /// Whether `queued` waiting deliveries (and one more) would all be sent within
        /// `slowAfter` at the endpoint's current limit and recent latency: a fast endpoint
        /// with a burst past its buffer keeps it (sending it round a retry tier would delay
        /// healthy deliveries by the tier's minute), a slow one does not. An endpoint not
        /// answered yet (a stage that just started reads a whole backlog before the first
        /// answer) keeps its burst until it counts as slow.
        func drainsQuickly(_ state: EndpointState, queued: Int, now: Date) -> Bool {
            guard let limit = state.limit, let latency = limit.recentLatency else { return !isSlow(state, now: now) }
            return Double(queued + 1) * latency / Double(limit.current) <= slowAfter
        }

        /// How long a delivery for an endpoint whose circuit is open or probing, with no slot
        /// free, is deferred: until the circuit lets a probe go; its probe out, until the
        /// probe must have answered (``CircuitBreaker/admit(now:probeTimeout:)``); the
        /// slots held by requests sent before it opened, one request timeout; each at least
        /// one first cool-down. Such a delivery never waits: a dead endpoint's limit falls
        /// to one, held by its probe for a whole timeout, and deliveries queued behind it
        /// filled dispatch's bound. Nor does it come back sooner than the answer can:
        /// deferred for the first cool-down only (33 ms at the bench's scaled schedule,
        /// against a black hole's 5 s timeout), a black hole's deliveries went round a tier
        /// again and again while its probe was out.
        func untilProbeAnswers(_ breaker: CircuitBreaker, timeout: Duration, now: Date) -> Duration {
            var peek = breaker
            guard case .reject(let until) = peek.admit(now: now), until > now else {
                return max(circuitCoolDown, timeout)
            }
            return .wait(seconds: until.timeIntervalSince(now))
        }

        /// Busy, and no answer (nor a first request) for longer than `slowAfter`.
        func isSlow(_ state: EndpointState, now: Date) -> Bool {
            state.lastProgress.map { now.timeIntervalSince($0) > slowAfter } ?? false
        }
    }
}
