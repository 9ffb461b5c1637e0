import Foundation
import SluiceCore

/// Per-endpoint admission for dispatch: a concurrency bound with a bounded buffer of
/// waiting deliveries, the circuit breaker, the token bucket and the disable window of
/// each endpoint, in one state machine.
///
/// ``admit(_:now:waiter:)`` answers send, wait (the waiter is woken when a slot frees,
/// and then asks again: the circuit or the rate limit may have changed meanwhile) or
/// defer (with how long); ``finish(_:success:now:)`` releases the slot, wakes the next
/// waiter, and reports what changed (circuit opened/closed, disable). A waiter that is
/// deferred after waking wakes the next one, so an open circuit drains its queue into
/// deferrals. The stage resumes waiters and acts on the answers outside any lock.
///
/// While the stage is congested (the caller says so: its global in-flight bound is nearly
/// full), a slow endpoint (every slot taken and no answer for `slowAfter`) gets no more
/// waiters: its deliveries are deferred (`endpoint_slow`), and those already waiting are
/// woken one after another to be deferred too. Waiting deliveries count against dispatch's
/// global in-flight bound, so without this a few hundred black holes would fill it and
/// starve every healthy endpoint until their requests time out. Without congestion a slow
/// endpoint keeps its waiters: a healthy endpoint that answers in two seconds under load
/// must not have its deliveries sent round a retry tier.
///
/// An endpoint this dispatcher disabled (a 410, or failing past the disable window) is
/// refused at once (``disable(_:)``), before the registry shows the new revision: its
/// waiters are woken to be refused too, and a second 410 in flight writes nothing more.
///
/// Each endpoint's limit adapts (``AdaptiveConcurrency``): it starts at `initialLimit`
/// (by default its maximum), shrinks on timeouts, refused connections, 429, 503 and rising
/// latency, and grows back while the endpoint keeps up, never above the endpoint's own
/// `concurrency` (or `defaultLimit`). So a struggling endpoint holds few of dispatch's
/// slots. (Starting low, at 4, was measured worse: on a loaded machine an endpoint with
/// its 4 slots busy and no answer for a second counts as slow, and 5 % of the bench's
/// healthy deliveries were deferred to a tier.)
///
/// A delivery that finds `bufferLimit` others waiting is deferred (`buffer_full`), unless
/// the endpoint answers fast enough to send them all within `slowAfter`, or has not
/// answered yet and is not slow: a burst for a healthy endpoint stays in memory (bounded
/// by the stage's global in-flight bound) rather than going round a retry tier.
///
/// Invariant: an endpoint never has more than its limit in flight, nor, once it has
/// answered or counts as slow, more deliveries waiting than `bufferLimit` or than it sends
/// in `slowAfter` at its recent latency, whichever is larger (before that, only the
/// stage's global bound holds them); ``disable(_:)`` answers `true` once per disable.
///
/// `Waiter` is a waiting delivery (``DispatchStage/Waiting`` in the stage, anything in
/// tests): being woken means "ask again".
struct EndpointGate<Waiter: Sendable>: Sendable {
    enum Admission: Equatable {
        case send(probe: Bool)
        /// Queued: the waiter is woken when a slot frees, and asks again.
        case wait
        case deferFor(Duration, reason: String)
        /// This dispatcher disabled the endpoint: to the DLQ, no request.
        case disabled
    }

    struct Change {
        var circuit: CircuitBreaker.Transition?
        var disable: Bool
        /// The endpoint's failure streak start after this result (nil: healthy).
        var failingSince: Date?
        /// The waiter to wake now that a slot is free.
        var wake: Waiter?
    }

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

        /// Busy, and no answer (nor a first request) for longer than `slowAfter`.
        func isSlow(_ state: EndpointState, now: Date) -> Bool {
            state.lastProgress.map { now.timeIntervalSince($0) > slowAfter } ?? false
        }
    }

    let rules: Rules

    /// Everything the gate knows of one endpoint, in one entry: each call costs one hash
    /// of the endpoint id, not one per concern (eight dictionaries were 4 % of dispatch's
    /// CPU in a profile).
    struct EndpointState: Sendable {
        var waiting = WaitQueue<Waiter>()
        var inFlight = 0
        /// When the busy endpoint last answered (or got its first request of a busy spell).
        var lastProgress: Date?
        var breaker: CircuitBreaker?
        var bucket: TokenBucket?
        var window: DisableWindow?
        var limit: AdaptiveConcurrency?
        /// The revision this dispatcher's disable wrote.
        var disabledAt: Int?
    }

    private var endpoints: [String: EndpointState] = [:]

    init(
        defaultLimit: Int, initialLimit: Int? = nil, bufferLimit: Int = 256, circuitThreshold: Int, circuitCoolDown: Duration,
        circuitCoolDownMax: Duration? = nil, disableWindow: Duration, slowAfter: TimeInterval = 1
    ) {
        rules = Rules(
            defaultLimit: defaultLimit, initialLimit: initialLimit, bufferLimit: bufferLimit, circuitThreshold: circuitThreshold,
            circuitCoolDown: circuitCoolDown, circuitCoolDownMax: circuitCoolDownMax ?? circuitCoolDown, disableWindow: disableWindow,
            slowAfter: slowAfter)
    }

    /// Whether this dispatcher disabled `endpoint` (at this revision or a later one it has
    /// not seen yet).
    func isDisabledHere(_ endpoint: Endpoint) -> Bool {
        endpoints[endpoint.id]?.disabledAt.map { endpoint.revision <= $0 } ?? false
    }

    /// Records that this dispatcher disables `endpoint` (writing revision + 1). Returns
    /// whether this is the first call for it (only the first writes the revision and the
    /// ops event) and the waiters to wake, each to be refused.
    mutating func disable(_ endpoint: Endpoint) -> (first: Bool, wake: [Waiter]) {
        modify(endpoint.id) { state in
            if let revision = state.disabledAt, revision > endpoint.revision { return (false, []) }
            state.disabledAt = endpoint.revision + 1
            defer { state.waiting = [] }
            return (true, Array(state.waiting))
        }
    }

    /// The state of one endpoint, for a failing test's message and an operator's log.
    func describe(_ id: String) -> String {
        let state = endpoints[id]
        return "in flight \(state?.inFlight ?? 0), waiting \(state?.waiting.count ?? 0), limit \(state?.limit.map { "\($0.current)" } ?? "none"), "
            + "circuit \(state?.breaker.map { "\($0.state)" } ?? "none"), last progress \(state?.lastProgress.map { "\($0)" } ?? "none")"
    }

    /// The current limit of the endpoint with this id (nil before its first request).
    func currentLimit(_ id: String) -> Int? { endpoints[id]?.limit?.current }

    /// Deliveries waiting at their endpoints' gates (each holds a place in the stage's
    /// in-flight bound).
    var waitingCount: Int { endpoints.values.reduce(0) { $0 + $1.waiting.count } }

    /// Endpoints whose circuit is open or probing.
    var openCircuits: Int {
        endpoints.values.filter { state in state.breaker.map { if case .closed = $0.state { false } else { true } } ?? false }.count
    }

    /// Whether a request to `endpoint` may go now; `wake` is a waiter to resume (outside
    /// the lock). `congested`: the stage's in-flight bound is nearly full, so slow
    /// endpoints shed their waiters.
    mutating func admit(_ endpoint: Endpoint, now: Date, congested: Bool, waiter: Waiter) -> (Admission, wake: Waiter?) {
        let rules = rules
        return modify(endpoint.id) { state in
            if let revision = state.disabledAt {
                // A newer revision than the disable (an operator enabled it again) clears it.
                if endpoint.revision <= revision { return (.disabled, state.waiting.popFirst()) }
                state.disabledAt = nil
            }
            guard state.inFlight < rules.limit(of: endpoint, in: &state).current else {
                if congested, rules.isSlow(state, now: now) {
                    return (.deferFor(.seconds(5), reason: "endpoint_slow"), state.waiting.popFirst())
                }
                let queued = state.waiting.count
                guard queued < rules.bufferLimit || rules.drainsQuickly(state, queued: queued, now: now) else {
                    return (.deferFor(.seconds(1), reason: "buffer_full"), nil)
                }
                state.waiting.append(waiter)
                return (.wait, nil)
            }
            // The breaker's answer is kept only once the request goes: a probe deferred by the
            // rate limit was never sent, and a breaker left waiting for its result would reject
            // every later delivery of the endpoint.
            var breaker = state.breaker ?? rules.newBreaker()
            let admission = breaker.admit(now: now)
            if case .reject(let until) = admission {
                let wait = Duration.wait(seconds: max(0.001, until.timeIntervalSince(now)))
                return (.deferFor(wait, reason: "circuit_open"), state.waiting.popFirst())
            }
            if let rate = endpoint.rateLimit, rate > 0 {
                var bucket = state.bucket ?? TokenBucket(rate: rate, now: now)
                let wait = bucket.take(now: now)
                state.bucket = bucket
                if let wait { return (.deferFor(wait, reason: "rate_limit"), state.waiting.popFirst()) }
            }
            state.breaker = breaker
            if state.inFlight == 0 { state.lastProgress = now }
            state.inFlight += 1
            return (.send(probe: admission == .probe), nil)
        }
    }

    /// The waiters of every slow endpoint, taken off their queues: woken, each asks again
    /// and is deferred. The stage calls this periodically while congested, so deliveries
    /// waiting for a black hole are deferred even when no new delivery for it arrives.
    mutating func wakeSlow(now: Date) -> [Waiter] {
        let rules = rules
        return takeQueues { rules.isSlow($0, now: now) }
    }

    /// The waiting deliveries `chosen` picks (at a stop all of them, at a revoke those of
    /// the partitions going), taken off their queues: what was not sent is left to the
    /// partition's next owner. Oldest first per endpoint.
    mutating func takeWaiting(where chosen: (Waiter) -> Bool) -> [Waiter] {
        var taken: [Waiter] = []
        for index in endpoints.indices where !endpoints.values[index].waiting.isEmpty {
            taken += endpoints.values[index].waiting.take(where: chosen)
        }
        return taken
    }

    /// The whole queues of the endpoints `chosen` picks, oldest first per endpoint.
    private mutating func takeQueues(of chosen: (EndpointState) -> Bool) -> [Waiter] {
        var taken: [Waiter] = []
        for index in endpoints.indices where !endpoints.values[index].waiting.isEmpty && chosen(endpoints.values[index]) {
            taken += endpoints.values[index].waiting
            endpoints.values[index].waiting = []
        }
        return taken
    }

    /// Runs `body` on the entry of `id` in place (made empty if new): one hash, and no copy
    /// of its waiting queue (copying it out and back would copy it whole on every wake-up).
    private mutating func modify<R>(_ id: String, _ body: (inout EndpointState) -> R) -> R {
        body(&endpoints[id, default: EndpointState()])
    }

    /// Releases the slot of a sent request and records its result. `failingSince`: the
    /// streak start kept durably for the endpoint, used when this copy has none yet.
    /// `load` and `latency` feed the adaptive limit (nil: the result says nothing of load).
    mutating func finish(
        _ endpoint: Endpoint, success: Bool, now: Date, failingSince: Date? = nil, load: AdaptiveConcurrency.Signal? = nil,
        latency: Duration = .zero
    ) -> Change {
        let rules = rules
        return modify(endpoint.id) { state in
            if let load {
                var limit = rules.limit(of: endpoint, in: &state)
                let saturated = max(state.inFlight, 1) >= limit.current || !state.waiting.isEmpty
                limit.record(load, latency: latency, saturated: saturated, now: now)
                state.limit = limit
            }
            state.inFlight = max(0, state.inFlight - 1)
            state.lastProgress = state.inFlight == 0 ? nil : now
            let wake = state.waiting.popFirst()
            var breaker = state.breaker ?? rules.newBreaker()
            let transition = breaker.record(success: success, now: now)
            state.breaker = breaker
            var window = state.window ?? DisableWindow(window: rules.disableWindow, failingSince: failingSince)
            let disable = window.record(success: success, now: now)
            state.window = window
            return Change(circuit: transition, disable: disable, failingSince: window.failingSince, wake: wake)
        }
    }
}
