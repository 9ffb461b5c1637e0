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
        await produceDurably(records)
        if let change = tracker.withLock({ $0.finished(record.topicPartition, record.offset) }) { apply(change) }
    }

    /// The records that make this delivery's outcome durable.
    func outcome(of record: KafkaRecord) async -> [KafkaProducerRecord] {
        guard let value = record.value, let delivery = try? Delivery(wireBytes: value) else {
            return [routing.rejected(record, reason: "not a delivery record")]
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
            return [try? routing.attempt(attempt)].compactMap { $0 }
        }
        guard endpoint.enabled else {
            return deadLetter(delivery, reason: "endpoint_disabled", error: endpoint.disabledReason ?? "the endpoint is disabled", now: now)
        }
        let policy = basePolicy.forEndpoint(endpoint)
        if delivery.notBefore.timeIntervalSince(now) > 1 {
            return deferral(delivery, wait: .milliseconds(Int64(delivery.notBefore.timeIntervalSince(now) * 1000)), reason: "not_due", policy: policy, now: now)
        }
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
            case .send: return await attempt(delivery, endpoint: endpoint, policy: policy)
            case .deferFor(let wait, let reason): return deferral(delivery, wait: wait, reason: reason, policy: policy, now: Date())
            case .wait: continue  // woken: ask again
            }
        }

    }

    /// Signs, resolves and POSTs; then decides what comes next.
    func attempt(_ delivery: Delivery, endpoint: Endpoint, policy: RetryPolicy) async -> [KafkaProducerRecord] {
        let started = Date()
        let result = await post(delivery, to: endpoint, at: started)
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
        let change = gate.withLock { $0.finish(endpoint, success: success, now: now) }
        change.wake?.resume()
        var recorded = delivery
        recorded.firstAttemptAt = delivery.firstAttemptAt ?? started
        recorded.history.append(.init(attempt: delivery.attempt, at: started, status: status, errorClass: errorClass))

        var out: [KafkaProducerRecord] = []
        var outcome: Attempt.Outcome
        switch policy.decide(recorded, result: attemptResult, now: now) {
        case .delivered:
            outcome = .delivered
        case .retry(let next, let tier):
            outcome = .retrying
            if let r = try? routing.retry(next, tier: tier) { out.append(r) }
        case .deadLetter(let reason, let error):
            outcome = .deadLettered
            out += deadLetter(recorded, reason: reason, error: error, now: now)
        case .disableEndpoint(let reason):
            outcome = .endpointDisabled
            out += disable(endpoint, reason: reason, now: now)
            out += deadLetter(recorded, reason: "endpoint_gone", error: reason, now: now)
        }
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
        let attempt = Attempt(
            delivery: delivery, at: started, status: status, latencyMs: latency.timeInterval * 1000, errorClass: errorClass,
            error: errorText, responseExcerpt: excerpt, outcome: outcome)
        if let a = try? routing.attempt(attempt) { out.insert(a, at: 0) }
        return out
    }

    /// The signed POST to the checked, pinned address.
    func post(_ delivery: Delivery, to endpoint: Endpoint, at now: Date) async -> Result<WebhookResponse, WebhookTransferError> {
        let target: ResolvedDestination
        do throws(DestinationError) {
            let (policy, resolver) = (self.delivery.destinations, config.resolver)
            target = try await OffPool.run { () throws(DestinationError) in try policy.resolve(endpoint.url, resolver: resolver) }
        } catch {
            return .failure(WebhookTransferError(errorClass: error.isRetriable ? .dns : .refusedDestination, message: error.description, latency: .zero))
        }
        let secrets: [Secret]
        do { secrets = try endpoint.signingSecrets(box: box, now: now) } catch {
            return .failure(WebhookTransferError(errorClass: .other, message: "cannot open the endpoint's secret: \(error)", latency: .zero))
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

    func deferral(_ delivery: Delivery, wait: Duration, reason: String, policy: RetryPolicy, now: Date) -> [KafkaProducerRecord] {
        metrics.deferred(reason)
        let (next, tier) = policy.deferral(delivery, wait: wait, now: now)
        return [try? routing.retry(next, tier: tier)].compactMap { $0 }
    }

    func deadLetter(_ delivery: Delivery, reason: String, error: String, now: Date) -> [KafkaProducerRecord] {
        let dead = DeadLetter(delivery: delivery, reason: reason, finalError: error, attempts: delivery.history, deadAt: now)
        return [try? routing.deadLetter(dead)].compactMap { $0 }
    }

    func disable(_ endpoint: Endpoint, reason: String, now: Date) -> [KafkaProducerRecord] {
        var disabled = endpoint
        disabled.enabled = false
        disabled.disabledReason = reason
        disabled.revision += 1
        disabled.updatedAt = now
        runtime.logger.warning("endpoint disabled", metadata: ["endpoint": "\(endpoint.id)", "reason": "\(reason)"])
        return [try? routing.endpoint(disabled), routing.ops(kind: "endpoint_disabled", endpoint: endpoint, detail: reason, at: now)].compactMap { $0 }
    }

    /// Produces `records` and waits for every acknowledgement, retrying until they are
    /// durable (or the stage stops: the offset then stays uncommitted and is read again).
    func produceDurably(_ records: [KafkaProducerRecord]) async {
        var backoff = Duration.milliseconds(100)
        while !records.isEmpty {
            do {
                try await producer.send(records)
                return
            } catch {
                runtime.logger.warning("could not write an outcome; retrying", metadata: ["error": "\(error)"])
                if Task.isCancelled { return }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}

