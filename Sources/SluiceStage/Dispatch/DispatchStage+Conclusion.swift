import Foundation
import SluiceCore
import SluiceHTTP
import SluiceKafka

extension DispatchStage {
    /// What an attempt's result means: its attempt record and the delivery's next step
    /// (delivered, a retry, a dead letter, an endpoint disable), the gate's and the
    /// breaker's bookkeeping, and their ops events.
    func conclude(_ ready: ReadyDelivery, started: Date, result: Result<WebhookResponse, WebhookTransferError>) -> [KafkaProducerRecord] {
        let (delivery, endpoint, policy) = (ready.delivery, ready.endpoint, ready.policy)
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
        if let next = change.wake { admit(next) }

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
}
