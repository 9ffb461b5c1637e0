import Foundation
import SluiceCore
import SluiceHTTP
import SluiceKafka

/// The path of one delivery, from its record to its durable outcome, without a task of
/// its own: the poll loop checks it and asks its endpoint's gate; curl's loop thread
/// concludes the attempt and hands the outcome to the producer; the producer's
/// delivery-report thread finishes the offset. A task is started only off the common
/// path (an endpoint to catch up on, a host to resolve, an outcome to write again).
///
/// Measured (`make profile-dispatch`): a task per delivery, resumed by curl and again by
/// the broker's acknowledgement, cost a thread wake-up and a task switch at each step.
extension DispatchStage {
    /// A delivery at its endpoint's gate, with the record its offset belongs to. Woken, it
    /// asks the gate again (``admit(_:)``).
    struct Waiting: Sendable {
        let ready: ReadyDelivery
        let record: KafkaRecord
    }

    /// The stage's retry policy, before an endpoint's own schedule.
    var basePolicy: RetryPolicy { RetryPolicy(schedule: delivery.schedule, tiers: delivery.tiers) }

    /// The global in-flight bound is three quarters full: slow endpoints shed their
    /// waiters (``EndpointGate``) so that healthy ones keep a place.
    var isCongested: Bool { heldInFlight * 4 >= config.maxInFlight * 3 }

    /// The deliveries that count against `maxInFlight`: those polled and not finished,
    /// less the requests parked by the HTTP window and the deliveries waiting at their
    /// endpoints' gates, each up to its own bound (`maxParked`, `maxWaiting`). A parked
    /// request or a waiting delivery costs memory, not CPU: while few, they leave the
    /// bound to the deliveries that are working.
    var heldInFlight: Int {
        let tracked = tracker.withLock { $0.inFlight }
        let waiting = gate.withLock { $0.waitingCount }
        return tracked - min(http.load.parked, config.maxParked) - min(waiting, config.maxWaiting)
    }

    /// Handles one record of `sluice.deliveries` (counted in `handling` by the caller)
    /// until its outcome is durable and its offset finished.
    func dispatch(_ record: KafkaRecord) {
        switch check(record) {
        case .done(let records): write(records, for: record)
        case .ready(let ready): send(ready, for: record)
        case .unknownEndpoint(let delivery):
            // Perhaps created a moment ago: catch up (bounded by the reader's timeout) before
            // calling it deleted. If the registry cannot be read, the delivery waits in a tier.
            Task { [self] in
                do { try await directory.catchUp() } catch { return write(registryUnavailable(delivery, error: error), for: record) }
                switch check(delivery) {
                case .done(let records): write(records, for: record)
                case .ready(let ready): send(ready, for: record)
                case .unknownEndpoint(let delivery): write(endpointDeleted(delivery), for: record)
                }
            }
        }
    }

    /// Makes `records` durable, then finishes `record`'s offset and its place in `handling`.
    func write(_ records: [KafkaProducerRecord], for record: KafkaRecord) {
        writer.write(records, source: record) { [self] written in
            if written, let change = tracker.withLock({ $0.finished(record.topicPartition, record.offset) }) { apply(change) }
            handling.withLock { $0 -= 1 }
        }
    }

    /// Asks the endpoint's gate, then sends, defers or parks. Retries, deferred deliveries
    /// and replays (from the DLQ or from history) leave a share of the in-flight budget to
    /// live first attempts, so a backlog of retries or a large replay cannot starve fresh
    /// traffic.
    func send(_ ready: ReadyDelivery, for record: KafkaRecord) {
        if ready.delivery.isBackground, !admitBackground() {
            return write(deferral(ready.delivery, wait: .seconds(1), reason: "retry_budget", policy: ready.policy, now: Date()), for: record)
        }
        admit(Waiting(ready: ready, record: record))
    }

    /// Asks the gate for `first`, and then for each delivery the answers wake in turn (a
    /// loop, not recursion: an open circuit drains its whole queue one waiter after another).
    func admit(_ first: Waiting) {
        var next: Waiting? = first
        while let waiting = next {
            let congested = isCongested
            let (admission, wake) = gate.withLock { $0.admit(waiting.ready.endpoint, now: Date(), congested: congested, waiter: waiting) }
            next = wake
            let delivery = waiting.ready.delivery
            switch admission {
            case .wait: break  // woken when a slot frees, it asks again
            case .send: attempt(waiting)
            case .deferFor(let wait, let reason):
                leaveGate(waiting, deferral(delivery, wait: wait, reason: reason, policy: waiting.ready.policy, now: Date()))
            case .disabled:
                leaveGate(waiting, deadLetter(delivery, reason: "endpoint_disabled", error: "the endpoint was disabled", now: Date()))
            }
        }
    }

    /// Deliveries still waiting at their endpoints' gates that `chosen` picks are not sent
    /// (at a stop, after the drain, all of them; at a revoke, those of the partitions
    /// going). Their offsets stay uncommitted, so the partition's next owner reads them
    /// again; waiting for a slow endpoint to take them one by one would hold a stop or a
    /// rebalance for minutes, and sending them after a revoke would send them twice.
    /// Returns how many were left per partition (they stay in flight in the tracker).
    @discardableResult
    func leaveWaiting(_ why: String, where chosen: (Waiting) -> Bool = { _ in true }) -> [TopicPartition: Int] {
        let left = gate.withLock { $0.takeWaiting(where: chosen) }
        guard !left.isEmpty else { return [:] }
        let background = left.count { $0.ready.delivery.isBackground }
        retriesInFlight.withLock { $0 -= background }
        handling.withLock { $0 -= left.count }
        runtime.logger.info(
            "left deliveries waiting at their endpoints' gates to the partitions' next owner", metadata: ["deliveries": "\(left.count)", "why": "\(why)"])
        return Dictionary(left.map { ($0.record.topicPartition, 1) }, uniquingKeysWith: +)
    }

    /// Wakes deliveries the gate let go of (a disable, slow endpoints shedding waiters).
    func wake(_ woken: [Waiting]) {
        for waiting in woken { admit(waiting) }
    }

    /// The delivery is done with its gate (and its place in the retry budget): its outcome
    /// is written.
    func leaveGate(_ waiting: Waiting, _ records: [KafkaProducerRecord]) {
        if waiting.ready.delivery.isBackground { retriesInFlight.withLock { $0 -= 1 } }
        write(records, for: waiting.record)
    }

    /// Resolves (a fresh answer is a dictionary lookup; only a miss resolves, on another
    /// thread), signs and POSTs; the answer is concluded on curl's loop thread.
    func attempt(_ waiting: Waiting) {
        let started = Date()
        let (destinations, url) = (self.destinations, waiting.ready.endpoint.url)
        if let cached = destinations.cached(url) { return post(waiting, to: cached, at: started) }
        Task { [self] in post(waiting, to: await OffPool.run { destinations.resolve(url) }, at: started) }
    }

    /// The signed POST to the checked, pinned address, or the failure to resolve it.
    func post(_ waiting: Waiting, to answer: Result<ResolvedDestination, DestinationError>, at started: Date) {
        switch answer {
        case .success(let target):
            http.post(request(waiting.ready, at: started, resolve: target.curlResolveEntry), pool: pool(for: waiting.ready.endpoint.id)) { [self] result in
                if case .failure(let failure) = result, failure.isAbandoned { return abandon(waiting) }
                leaveGate(waiting, conclude(waiting.ready, started: started, result: result))
            }
        case .failure(let error):
            let failure = WebhookTransferError(errorClass: error.isRetriable ? .dns : .refusedDestination, message: error.description, latency: .zero)
            leaveGate(waiting, conclude(waiting.ready, started: started, result: .failure(failure)))
        }
    }

    /// A request the HTTP client gave up at a stop: the endpoint did not fail, so no attempt
    /// is recorded; its offset stays unfinished, and the partition's next owner sends it
    /// again (at least once: the endpoint may have received this one).
    func abandon(_ waiting: Waiting) {
        if waiting.ready.delivery.isBackground { retriesInFlight.withLock { $0 -= 1 } }
        handling.withLock { $0 -= 1 }
    }

    /// The signed request to the pinned address `resolve`.
    func request(_ ready: ReadyDelivery, at now: Date, resolve: String?) -> WebhookRequest {
        let (delivery, endpoint) = (ready.delivery, ready.endpoint)
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(5 + endpoint.headers.count)
        headers += [("content-type", "application/cloudevents+json"), ("user-agent", Self.userAgent)]
        headers += WebhookSigner.fields(id: delivery.eventID, timestamp: Int64(now.timeIntervalSince1970), body: delivery.body, secrets: ready.secrets)
        if !endpoint.headers.isEmpty { headers += endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        let timeout = endpoint.requestTimeout(default: self.delivery.requestTimeout)
        return WebhookRequest(url: endpoint.url, headers: headers, body: delivery.body, timeout: timeout, resolve: resolve)
    }

    /// Sluice's `user-agent`, made once.
    static let userAgent = "Sluice/\(SluiceVersion.current)"
}
