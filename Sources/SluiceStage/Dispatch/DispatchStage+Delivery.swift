import Foundation
import SluiceCore
import SluiceHTTP
import SluiceKafka

extension DispatchStage {
    /// The stage's retry policy, before an endpoint's own schedule.
    var basePolicy: RetryPolicy { RetryPolicy(schedule: delivery.schedule, tiers: delivery.tiers) }

    /// The global in-flight bound is three quarters full: slow endpoints shed their
    /// waiters (``EndpointGate``) so that healthy ones keep a place.
    var isCongested: Bool { tracker.withLock { $0.inFlight } * 4 >= config.maxInFlight * 3 }

    /// Handles one record of `sluice.deliveries` from start to durable outcome.
    func handle(_ record: KafkaRecord) async {
        let records = await outcome(of: record)
        guard await writer.write(records, source: record) else { return }
        if let change = tracker.withLock({ $0.finished(record.topicPartition, record.offset) }) { apply(change) }
    }

    /// The records that make this delivery's outcome durable.
    func outcome(of record: KafkaRecord) async -> [KafkaProducerRecord] {
        let delivery: Delivery
        do throws(WireError) {
            guard let value = record.value else { throw WireError(kind: Delivery.kind, problem: "no value") }
            delivery = try Delivery(wireBytes: value)
            try delivery.validate(now: Date())
        } catch {
            Rejection.count(topic: record.topic, reason: "bad_delivery")
            return [routing.rejected(record, reason: "not a delivery record: \(error.problem)")]
        }
        if delivery.isExpired(maxAge: basePolicy.schedule.maxAge, now: Date()) {
            return deadLetter(delivery, reason: "max_age", error: "older than the \(DurationText.format(basePolicy.schedule.maxAge)) maximum age", now: Date())
        }
        var endpoint = directory.registry[delivery.endpointID]
        if endpoint == nil {
            // Perhaps created a moment ago: catch up (bounded by the reader's timeout) before
            // calling it deleted. If the registry cannot be read, the delivery waits in a tier.
            do { try await directory.catchUp() } catch {
                runtime.logger.warning("could not catch up with the endpoints; deferring", metadata: ["endpoint": "\(delivery.endpointID)", "error": "\(error)"])
                return deferral(delivery, wait: .seconds(1), reason: "registry_unavailable", policy: basePolicy, now: Date())
            }
            endpoint = directory.registry[delivery.endpointID]
        }
        let now = Date()
        guard let endpoint else {
            let attempt = Attempt(delivery: delivery, at: now, status: nil, latencyMs: 0, errorClass: .endpointDeleted, error: "endpoint \(delivery.endpointID) does not exist", outcome: .dropped)
            metrics.attempt("dropped", "endpoint_deleted")
            finished(delivery)
            return [try? routing.attempt(attempt)].compactMap { $0 }
        }
        guard endpoint.enabled, !gate.withLock({ $0.isDisabledHere(endpoint) }) else {
            return deadLetter(delivery, reason: "endpoint_disabled", error: endpoint.disabledReason ?? "the endpoint is disabled", now: now)
        }
        let policy = basePolicy.forEndpoint(endpoint)
        if delivery.notBefore.timeIntervalSince(now) > 1 {
            return deferral(delivery, wait: .wait(seconds: delivery.notBefore.timeIntervalSince(now)), reason: "not_due", policy: policy, now: now)
        }
        let secrets: [Secret]
        do { secrets = try openedSecrets.signingSecrets(of: endpoint, box: box, now: now) } catch {
            return secretUnreadable(delivery, endpoint: endpoint, error: error, now: now)
        }
        // Retries, deferred deliveries and replays (from the DLQ or from history) leave a
        // share of the in-flight budget to live first attempts, so a backlog of retries or
        // a large replay cannot starve fresh traffic.
        let isRetry = delivery.isBackground
        if isRetry {
            let admitted = retriesInFlight.withLock { n in
                guard n < config.maxInFlight - config.maxInFlight * config.freshShare / 100 else { return false }
                n += 1
                return true
            }
            guard admitted else { return deferral(delivery, wait: .seconds(1), reason: "retry_budget", policy: policy, now: now) }
        }
        defer { if isRetry { retriesInFlight.withLock { $0 -= 1 } } }
        // Ask the gate until it says send or defer; waiting means a slot may free up.
        while true {
            let answer = Locked<DispatchGate.Admission>(.wait)
            let congested = isCongested
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let (admission, wake) = gate.withLock { $0.admit(endpoint, now: Date(), congested: congested, waiter: waiter) }
                answer.withLock { $0 = admission }
                wake?.resume()
                if admission != .wait { waiter.resume() }
            }
            switch answer.withLock({ $0 }) {
            case .send: return await attempt(delivery, endpoint: endpoint, secrets: secrets, policy: policy)
            case .deferFor(let wait, let reason): return deferral(delivery, wait: wait, reason: reason, policy: policy, now: Date())
            case .disabled: return deadLetter(delivery, reason: "endpoint_disabled", error: "the endpoint was disabled", now: Date())
            case .wait: continue  // woken: ask again
            }
        }
    }

    /// Signs, resolves and POSTs; then decides what comes next.
    func attempt(_ delivery: Delivery, endpoint: Endpoint, secrets: [Secret], policy: RetryPolicy) async -> [KafkaProducerRecord] {
        let started = Date()
        let result = await post(delivery, to: endpoint, secrets: secrets, at: started)
        let now = Date()
        let attemptResult: AttemptResult
        var status: Int?
        var errorClass = Attempt.ErrorClass.none
        var errorText: String?
        var excerpt: String?
        var latency = Duration.zero
        switch result {
        case .success(let response):
            attemptResult = .response(status: response.status, retryAfter: response.retryAfter)
            status = response.status
            excerpt = response.excerpt
            latency = response.latency
            if !(200...299).contains(response.status) {
                errorClass = (300...399).contains(response.status) ? .redirect : .httpStatus
                errorText = "HTTP \(response.status)" + (response.location.map { " to \($0) (redirects are not followed)" } ?? "")
            }
        case .failure(let failure):
            attemptResult = .failure(failure.errorClass, message: failure.message)
            errorClass = failure.errorClass
            errorText = failure.message
            latency = failure.latency
        }
        metrics.latency(latency.timeInterval, endpoint: endpoint.id)
        let success = errorClass == .none
        let known = streaks.since(endpoint.id)
        let load = AdaptiveConcurrency.Signal(status: status, errorClass: errorClass)
        var recorded = delivery
        recorded.firstAttemptAt = delivery.firstAttemptAt ?? started
        recorded.history.append(.init(attempt: delivery.attempt, at: started, status: status, errorClass: errorClass))
        let decision = policy.decide(recorded, result: attemptResult, now: now)
        var out: [KafkaProducerRecord] = []
        // A disable (410) takes effect before this request's slot frees: the waiter that
        // the finish wakes must find the endpoint disabled, or it sends one request more.
        if case .disableEndpoint(let reason) = decision { out += disable(endpoint, reason: reason, now: now) }
        let change = gate.withLock { $0.finish(endpoint, success: success, now: now, failingSince: known, load: load, latency: latency) }
        change.wake?.resume()

        var outcome: Attempt.Outcome
        var nextAttemptAt: Date?
        switch decision {
        case .delivered:
            outcome = .delivered
            finished(recorded)
        case .retry(let next, let tier):
            outcome = .retrying
            nextAttemptAt = next.notBefore
            out += retry(next, tier: tier, now: now)
        case .deadLetter(let reason, let error):
            outcome = .deadLettered
            out += deadLetter(recorded, reason: reason, error: error, now: now)
        case .disableEndpoint(let reason):
            outcome = .endpointDisabled
            out += deadLetter(recorded, reason: "endpoint_gone", error: reason, now: now)
        }
        out += streakRecords(endpoint, change: change, known: known)
        if let transition = change.circuit {
            switch transition {
            case .opened(let until):
                metrics.circuit("open")
                out.append(routing.ops(kind: "circuit_opened", endpoint: endpoint, detail: "after \(self.delivery.circuitThreshold) consecutive failures; probing after \(until.formatted(.iso8601))", at: now))
            case .closed:
                metrics.circuit("closed")
                out.append(routing.ops(kind: "circuit_closed", endpoint: endpoint, detail: "a probe succeeded", at: now))
            }
        }
        if change.disable, outcome != .endpointDisabled {
            out += disable(endpoint, reason: "failing for longer than \(DurationText.format(self.delivery.disableWindow))", now: now)
        }
        metrics.attempt(outcome.rawValue, errorClass.rawValue)
        var attempt = Attempt(
            delivery: delivery, at: started, status: status, latencyMs: latency.timeInterval * 1000, errorClass: errorClass,
            error: errorText, responseExcerpt: excerpt, outcome: outcome)
        attempt.nextAttemptAt = nextAttemptAt
        if let a = try? routing.attempt(attempt) { out.insert(a, at: 0) }
        return out
    }

    /// The signed POST to the checked, pinned address.
    func post(_ delivery: Delivery, to endpoint: Endpoint, secrets: [Secret], at now: Date) async -> Result<WebhookResponse, WebhookTransferError> {
        let target: ResolvedDestination
        do throws(DestinationError) {
            // A fresh answer costs a dictionary lookup; only a miss resolves, on another thread.
            let (destinations, url) = (self.destinations, endpoint.url)
            let answer = if let cached = destinations.cached(url) { cached } else { await OffPool.run { destinations.resolve(url) } }
            target = try answer.get()
        } catch {
            return .failure(WebhookTransferError(errorClass: error.isRetriable ? .dns : .refusedDestination, message: error.description, latency: .zero))
        }
        let signed = WebhookSigner.headers(id: delivery.eventID, timestamp: Int64(now.timeIntervalSince1970), body: delivery.body, secrets: secrets)
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/cloudevents+json"), ("user-agent", "Sluice/\(SluiceVersion.current)"),
        ]
        headers += signed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        headers += endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let timeout = endpoint.timeoutMs.map { Duration.milliseconds($0) } ?? self.delivery.requestTimeout
        return await http.post(WebhookRequest(url: endpoint.url, headers: headers, body: delivery.body, timeout: timeout, resolve: target.curlResolveEntry))
    }
}
