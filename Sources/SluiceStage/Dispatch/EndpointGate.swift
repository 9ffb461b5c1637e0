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
/// `Waiter` is what wakes a waiting delivery (a continuation in the stage, anything in
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

    /// The most an endpoint without its own `concurrency` may reach.
    let defaultLimit: Int
    /// Where an endpoint's adaptive limit starts (nil: its maximum).
    let initialLimit: Int?
    let bufferLimit: Int
    private var waiting: [String: WaitQueue<Waiter>] = [:]
    let circuitThreshold: Int
    let circuitCoolDown: Duration
    let circuitCoolDownMax: Duration
    let disableWindow: Duration
    /// An endpoint with every slot taken and no answer for this long is slow.
    let slowAfter: TimeInterval
    private var inFlight: [String: Int] = [:]
    /// When each busy endpoint last answered (or got its first request of a busy spell).
    private var lastProgress: [String: Date] = [:]
    private var breakers: [String: CircuitBreaker] = [:]
    private var buckets: [String: TokenBucket] = [:]
    private var windows: [String: DisableWindow] = [:]
    private var limits: [String: AdaptiveConcurrency] = [:]
    /// Endpoints disabled here, with the revision the disable wrote.
    private var disabledAt: [String: Int] = [:]

    init(
        defaultLimit: Int, initialLimit: Int? = nil, bufferLimit: Int = 256, circuitThreshold: Int, circuitCoolDown: Duration,
        circuitCoolDownMax: Duration? = nil, disableWindow: Duration, slowAfter: TimeInterval = 1
    ) {
        self.slowAfter = slowAfter
        self.defaultLimit = defaultLimit
        self.initialLimit = initialLimit
        self.bufferLimit = bufferLimit
        self.circuitThreshold = circuitThreshold
        self.circuitCoolDown = circuitCoolDown
        self.circuitCoolDownMax = circuitCoolDownMax ?? circuitCoolDown
        self.disableWindow = disableWindow
    }

    private func newBreaker() -> CircuitBreaker {
        CircuitBreaker(threshold: circuitThreshold, coolDown: circuitCoolDown, maxCoolDown: circuitCoolDownMax)
    }

    /// Whether this dispatcher disabled `endpoint` (at this revision or a later one it has
    /// not seen yet).
    func isDisabledHere(_ endpoint: Endpoint) -> Bool {
        disabledAt[endpoint.id].map { endpoint.revision <= $0 } ?? false
    }

    /// Records that this dispatcher disables `endpoint` (writing revision + 1). Returns
    /// whether this is the first call for it (only the first writes the revision and the
    /// ops event) and the waiters to wake, each to be refused.
    mutating func disable(_ endpoint: Endpoint) -> (first: Bool, wake: [Waiter]) {
        if let revision = disabledAt[endpoint.id], revision > endpoint.revision { return (false, []) }
        disabledAt[endpoint.id] = endpoint.revision + 1
        let woken = waiting.removeValue(forKey: endpoint.id).map(Array.init) ?? []
        return (true, woken)
    }

    /// The adaptive limit of `endpoint`, made or remade when its maximum changed.
    private mutating func limit(of endpoint: Endpoint) -> AdaptiveConcurrency {
        let maximum = endpoint.concurrency ?? defaultLimit
        if let limit = limits[endpoint.id], limit.maximum == maximum { return limit }
        let limit = AdaptiveConcurrency(maximum: maximum, initial: limits[endpoint.id]?.current ?? initialLimit ?? maximum)
        limits[endpoint.id] = limit
        return limit
    }

    /// The state of one endpoint, for a failing test's message and an operator's log.
    func describe(_ id: String) -> String {
        "in flight \(inFlight[id] ?? 0), waiting \(waiting[id]?.count ?? 0), limit \(limits[id].map { "\($0.current)" } ?? "none"), "
            + "circuit \(breakers[id].map { "\($0.state)" } ?? "none"), last progress \(lastProgress[id].map { "\($0)" } ?? "none")"
    }

    /// The current limit of the endpoint with this id (nil before its first request).
    func currentLimit(_ id: String) -> Int? { limits[id]?.current }

    /// Endpoints whose circuit is open or probing.
    var openCircuits: Int {
        breakers.values.filter { if case .closed = $0.state { false } else { true } }.count
    }

    /// Whether a request to `endpoint` may go now; `wake` is a waiter to resume (outside
    /// the lock). `congested`: the stage's in-flight bound is nearly full, so slow
    /// endpoints shed their waiters.
    mutating func admit(_ endpoint: Endpoint, now: Date, congested: Bool, waiter: Waiter) -> (Admission, wake: Waiter?) {
        if let revision = disabledAt[endpoint.id] {
            // A newer revision than the disable (an operator enabled it again) clears it.
            if endpoint.revision <= revision { return (.disabled, nextWaiter(endpoint.id)) }
            disabledAt[endpoint.id] = nil
        }
        guard inFlight[endpoint.id, default: 0] < limit(of: endpoint).current else {
            if congested, isSlow(endpoint.id, now: now) {
                return (.deferFor(.seconds(5), reason: "endpoint_slow"), nextWaiter(endpoint.id))
            }
            let queued = waiting[endpoint.id, default: []].count
            guard queued < bufferLimit || drainsQuickly(endpoint.id, queued: queued, now: now) else {
                return (.deferFor(.seconds(1), reason: "buffer_full"), nil)
            }
            waiting[endpoint.id, default: []].append(waiter)
            return (.wait, nil)
        }
        // The breaker's answer is kept only once the request goes: a probe deferred by the
        // rate limit was never sent, and a breaker left waiting for its result would reject
        // every later delivery of the endpoint.
        var breaker = breakers[endpoint.id] ?? newBreaker()
        let admission = breaker.admit(now: now)
        if case .reject(let until) = admission {
            let wait = Duration.wait(seconds: max(0.001, until.timeIntervalSince(now)))
            return (.deferFor(wait, reason: "circuit_open"), nextWaiter(endpoint.id))
        }
        if let rate = endpoint.rateLimit, rate > 0 {
            var bucket = buckets[endpoint.id] ?? TokenBucket(rate: rate, now: now)
            let wait = bucket.take(now: now)
            buckets[endpoint.id] = bucket
            if let wait { return (.deferFor(wait, reason: "rate_limit"), nextWaiter(endpoint.id)) }
        }
        breakers[endpoint.id] = breaker
        if inFlight[endpoint.id, default: 0] == 0 { lastProgress[endpoint.id] = now }
        inFlight[endpoint.id, default: 0] += 1
        return (.send(probe: admission == .probe), nil)
    }

    /// The waiters of every slow endpoint, taken off their queues: woken, each asks again
    /// and is deferred. The stage calls this periodically while congested, so deliveries
    /// waiting for a black hole are deferred even when no new delivery for it arrives.
    mutating func wakeSlow(now: Date) -> [Waiter] {
        var woken: [Waiter] = []
        for (id, queue) in waiting where isSlow(id, now: now) {
            woken += queue
            waiting[id] = nil
        }
        return woken
    }

    /// Whether `queued` waiting deliveries (and one more) would all be sent within
    /// `slowAfter` at the endpoint's current limit and recent latency: a fast endpoint
    /// with a burst past its buffer keeps it (sending it round a retry tier would delay
    /// healthy deliveries by the tier's minute), a slow one does not. An endpoint not
    /// answered yet (a stage that just started reads a whole backlog before the first
    /// answer) keeps its burst until it counts as slow.
    private func drainsQuickly(_ id: String, queued: Int, now: Date) -> Bool {
        guard let limit = limits[id], let latency = limit.recentLatency else { return !isSlow(id, now: now) }
        return Double(queued + 1) * latency / Double(limit.current) <= slowAfter
    }

    /// Busy, and no answer (nor a first request) for longer than `slowAfter`.
    private func isSlow(_ id: String, now: Date) -> Bool {
        lastProgress[id].map { now.timeIntervalSince($0) > slowAfter } ?? false
    }

    /// Takes the first waiter of `id` off its queue, in place (copying the queue out and
    /// back would copy it whole on every wake-up) and in constant time (a queue hundreds
    /// deep shifted on every wake-up was 6 % of dispatch's loop thread).
    private mutating func nextWaiter(_ id: String) -> Waiter? {
        guard let index = waiting.index(forKey: id) else { return nil }
        let first = waiting.values[index].popFirst()
        if waiting.values[index].isEmpty { waiting.remove(at: index) }
        return first
    }

    /// Releases the slot of a sent request and records its result. `failingSince`: the
    /// streak start kept durably for the endpoint, used when this copy has none yet.
    /// `load` and `latency` feed the adaptive limit (nil: the result says nothing of load).
    mutating func finish(
        _ endpoint: Endpoint, success: Bool, now: Date, failingSince: Date? = nil, load: AdaptiveConcurrency.Signal? = nil,
        latency: Duration = .zero
    ) -> Change {
        if let load {
            var limit = limit(of: endpoint)
            let saturated = inFlight[endpoint.id, default: 1] >= limit.current || !(waiting[endpoint.id]?.isEmpty ?? true)
            limit.record(load, latency: latency, saturated: saturated, now: now)
            limits[endpoint.id] = limit
        }
        inFlight[endpoint.id, default: 1] -= 1
        lastProgress[endpoint.id] = now
        if inFlight[endpoint.id] == 0 {
            inFlight[endpoint.id] = nil
            lastProgress[endpoint.id] = nil
        }
        let wake = nextWaiter(endpoint.id)
        var breaker = breakers[endpoint.id] ?? newBreaker()
        let transition = breaker.record(success: success, now: now)
        breakers[endpoint.id] = breaker
        var window = windows[endpoint.id] ?? DisableWindow(window: disableWindow, failingSince: failingSince)
        let disable = window.record(success: success, now: now)
        windows[endpoint.id] = window
        return Change(circuit: transition, disable: disable, failingSince: window.failingSince, wake: wake)
    }
}
