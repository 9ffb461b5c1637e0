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
/// woken one after another to be deferred too. Waiting deliveries past the stage's
/// `maxWaiting` count against its global in-flight bound, so without this a few hundred
/// black holes would fill it and starve every healthy endpoint until their requests time out. Without congestion a slow
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
/// Invariant: ``waitingCount`` is the sum of the endpoints' queues (``backgroundWaiting``
/// of those `isBackground` picks); an endpoint never has more than its limit in flight, nor, once it has
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
        /// Its circuit is open or probing.
        var circuitNotClosed: Bool { breaker.map { !$0.isClosed } ?? false }
    }

    private var endpoints: [String: EndpointState] = [:]

    /// Deliveries waiting at the endpoints' gates, over all of them (kept as each one
    /// enters and leaves a queue: the stage reads it for every delivery it admits).
    private(set) var waitingCount = 0
    /// Those of them that `isBackground` picks (retries, deferred and replayed deliveries).
    private(set) var backgroundWaiting = 0
    /// Which waiters count in ``backgroundWaiting``.
    let isBackground: @Sendable (Waiter) -> Bool

    init(
        defaultLimit: Int, initialLimit: Int? = nil, bufferLimit: Int = 256, circuitThreshold: Int, circuitCoolDown: Duration,
        circuitCoolDownMax: Duration? = nil, disableWindow: Duration, slowAfter: TimeInterval = 1,
        requestTimeout: Duration = DeliverySettings().requestTimeout,
        isBackground: @escaping @Sendable (Waiter) -> Bool = { _ in false }
    ) {
        self.isBackground = isBackground
        rules = Rules(
            defaultLimit: defaultLimit, initialLimit: initialLimit, bufferLimit: bufferLimit, circuitThreshold: circuitThreshold,
            circuitCoolDown: circuitCoolDown, circuitCoolDownMax: circuitCoolDownMax ?? circuitCoolDown, disableWindow: disableWindow,
            slowAfter: slowAfter, requestTimeout: requestTimeout)
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
        let result = modify(endpoint.id) { state in
            if let revision = state.disabledAt, revision > endpoint.revision { return (first: false, wake: [Waiter]()) }
            state.disabledAt = endpoint.revision + 1
            defer { state.waiting = [] }
            return (first: true, wake: Array(state.waiting))
        }
        left(result.wake)
        return result
    }

    /// The state of one endpoint, for a failing test's message and an operator's log.
    func describe(_ id: String) -> String {
        let state = endpoints[id]
        return "in flight \(state?.inFlight ?? 0), waiting \(state?.waiting.count ?? 0), limit \(state?.limit.map { "\($0.current)" } ?? "none"), "
            + "circuit \(state?.breaker.map { "\($0.state)" } ?? "none"), last progress \(state?.lastProgress.map { "\($0)" } ?? "none")"
    }

    /// The current limit of the endpoint with this id (nil before its first request).
    func currentLimit(_ id: String) -> Int? { endpoints[id]?.limit?.current }

    /// Whether `id` answers slower than `seconds` of late (its adaptive limit's recent
    /// latency) or its circuit is open or probing.
    func isStraggling(_ id: String, slowerThan seconds: Double) -> Bool {
        guard let state = endpoints[id] else { return false }
        return (state.limit?.recentLatency ?? 0) > seconds || state.circuitNotClosed
    }

    /// Endpoints whose circuit is open or probing.
    var openCircuits: Int {
        endpoints.values.count(where: \.circuitNotClosed)
    }

    /// Whether a request to `endpoint` may go now; `wake` is a waiter to resume (outside
    /// the lock). `congested`: the stage's in-flight bound is nearly full, so slow
    /// endpoints shed their waiters.
    mutating func admit(_ endpoint: Endpoint, now: Date, congested: Bool, waiter: Waiter) -> (Admission, wake: Waiter?) {
        let rules = rules
        let (admission, wake) = modify(endpoint.id) { state -> (Admission, wake: Waiter?) in
            if let revision = state.disabledAt {
                // A newer revision than the disable (an operator enabled it again) clears it.
                if endpoint.revision <= revision { return (.disabled, state.waiting.popFirst()) }
                state.disabledAt = nil
            }
            guard state.inFlight < rules.limit(of: endpoint, in: &state).current else {
                if let breaker = state.breaker, !breaker.isClosed {
                    return (.deferFor(rules.untilProbeAnswers(breaker, timeout: endpoint.requestTimeout(default: rules.requestTimeout), now: now), reason: "circuit_open"), state.waiting.popFirst())
                }
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
            let admission = breaker.admit(now: now, probeTimeout: endpoint.requestTimeout(default: rules.requestTimeout))
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
        if admission == .wait { entered(waiter) }
        if let wake { left(CollectionOfOne(wake)) }
        return (admission, wake)
    }

    private mutating func entered(_ waiter: Waiter) {
        waitingCount += 1
        if isBackground(waiter) { backgroundWaiting += 1 }
    }

    /// Every waiter that leaves a queue is returned by the method that took it: each such
    /// method passes them here.
    private mutating func left(_ waiters: some Sequence<Waiter>) {
        for waiter in waiters {
            waitingCount -= 1
            if isBackground(waiter) { backgroundWaiting -= 1 }
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
        updateEach { state in
            if !state.waiting.isEmpty { taken += state.waiting.take(where: chosen) }
        }
        left(taken)
        return taken
    }

    /// The whole queues of the endpoints `chosen` picks, oldest first per endpoint.
    private mutating func takeQueues(of chosen: (EndpointState) -> Bool) -> [Waiter] {
        var taken: [Waiter] = []
        updateEach { state in
            guard !state.waiting.isEmpty, chosen(state) else { return }
            taken += state.waiting
            state.waiting = []
        }
        left(taken)
        return taken
    }

    /// Runs `body` on every entry in place. Not `for index in endpoints.indices`: the
    /// indices keep a reference to the dictionary's storage, so the first change made
    /// a copy of every endpoint's state (heaptrack: 2.4 MiB at a time with 5,000).
    private mutating func updateEach(_ body: (inout EndpointState) -> Void) {
        var index = endpoints.startIndex
        while index != endpoints.endIndex {
            body(&endpoints.values[index])
            endpoints.formIndex(after: &index)
        }
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
        let change = modify(endpoint.id) { state in
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
        if let wake = change.wake { left(CollectionOfOne(wake)) }
        return change
    }
}
