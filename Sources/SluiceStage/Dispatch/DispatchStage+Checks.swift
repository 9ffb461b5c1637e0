import Foundation
import SluiceCore
import SluiceKafka

/// What dispatch knows about a record before it asks the endpoint's gate: either its
/// outcome already (a bad record, an expired or not-yet-due delivery, a deleted or disabled
/// endpoint, an unreadable secret) or a delivery ready to send.
///
/// These checks are synchronous on purpose: an async function keeps all of its locals in
/// its task's frame for the delivery's whole life, and with 2,000 deliveries in flight
/// those frames were a third of dispatch's heap (heaptrack). Only what crosses the gate
/// and the request (``DispatchStage/ReadyDelivery``) stays.
extension DispatchStage {
    /// A delivery cleared to send, with what its attempt needs.
    struct ReadyDelivery: Sendable {
        let delivery: Delivery
        let endpoint: Endpoint
        let secrets: [Secret]
        let policy: RetryPolicy
    }

    enum Check: Sendable {
        /// The records that end or defer the delivery.
        case done([KafkaProducerRecord])
        /// Its endpoint is not in the registry: perhaps created a moment ago.
        case unknownEndpoint(Delivery)
        case ready(ReadyDelivery)
    }

    /// Decodes and checks a record of `sluice.deliveries`.
    func check(_ record: KafkaRecord) -> Check {
        let delivery: Delivery
        do throws(WireError) {
            guard let value = record.value else { throw WireError(kind: Delivery.kind, problem: "no value") }
            delivery = try Delivery(wireBytes: value)
            try delivery.validate(now: Date())
        } catch {
            Rejection.count(topic: record.topic, reason: "bad_delivery")
            return .done([routing.rejected(record, reason: "not a delivery record: \(error.problem)")])
        }
        if delivery.isExpired(maxAge: basePolicy.schedule.maxAge, now: Date()) {
            return .done(deadLetter(delivery, reason: "max_age", error: "older than the \(DurationText.format(basePolicy.schedule.maxAge)) maximum age", now: Date()))
        }
        return check(delivery)
    }

    /// Checks a decoded delivery against its endpoint.
    func check(_ delivery: Delivery) -> Check {
        let now = Date()
        guard let endpoint = directory.registry[delivery.endpointID] else { return .unknownEndpoint(delivery) }
        guard endpoint.enabled, !gate.withLock({ $0.isDisabledHere(endpoint) }) else {
            return .done(deadLetter(delivery, reason: "endpoint_disabled", error: endpoint.disabledReason ?? "the endpoint is disabled", now: now))
        }
        let policy = basePolicy.forEndpoint(endpoint)
        if delivery.notBefore.timeIntervalSince(now) > 1 {
            return .done(deferral(delivery, wait: .wait(seconds: delivery.notBefore.timeIntervalSince(now)), reason: "not_due", policy: policy, now: now))
        }
        do {
            let secrets = try openedSecrets.signingSecrets(of: endpoint, box: box, now: now)
            return .ready(ReadyDelivery(delivery: delivery, endpoint: endpoint, secrets: secrets, policy: policy))
        } catch {
            return .done(secretUnreadable(delivery, endpoint: endpoint, error: error, now: now))
        }
    }

    /// The delivery's endpoint is not in the registry read to its end: deleted. The
    /// delivery is dropped with an attempt record saying so.
    func endpointDeleted(_ delivery: Delivery) -> [KafkaProducerRecord] {
        let attempt = Attempt(delivery: delivery, at: Date(), status: nil, latencyMs: 0, errorClass: .endpointDeleted, error: "endpoint \(delivery.endpointID) does not exist", outcome: .dropped)
        metrics.attempt("dropped", "endpoint_deleted")
        finished(delivery)
        return [try? routing.attempt(attempt)].compactMap { $0 }
    }

    /// The delivery waits in a tier: the registry could not be read to find its endpoint.
    func registryUnavailable(_ delivery: Delivery, error: any Error) -> [KafkaProducerRecord] {
        runtime.logger.warning("could not catch up with the endpoints; deferring", metadata: ["endpoint": "\(delivery.endpointID)", "error": "\(error)"])
        return deferral(delivery, wait: .seconds(1), reason: "registry_unavailable", policy: basePolicy, now: Date())
    }

    /// Takes a place in the retry budget for a retry, deferred or replayed delivery; false
    /// when the budget is spent (live first attempts keep the fresh share). Those waiting
    /// at their endpoints' gates do not spend it: they hold no slot, and a few slow
    /// endpoints' retries waiting there deferred every other retry round a tier again.
    func admitBackground() -> Bool {
        let waiting = gate.withLock { $0.backgroundWaiting }
        return retriesInFlight.withLock { n in
            guard n - min(waiting, config.maxWaiting) < config.maxInFlight - config.maxInFlight * config.freshShare / 100 else { return false }
            n += 1
            return true
        }
    }
}
