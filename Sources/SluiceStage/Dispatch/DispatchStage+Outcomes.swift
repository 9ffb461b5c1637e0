import Foundation
import SluiceCore
import SluiceKafka

/// The records of each way a delivery ends or waits: a retry, a deferral, a dead letter,
/// an endpoint disable, an unreadable secret.
///
/// Invariant: every function returns at least one record for the delivery (a dead letter
/// when nothing else can be written), so no delivery's offset passes without a trace.
extension DispatchStage {
    func retry(_ next: Delivery, tier: RetryTier, now: Date) -> [KafkaProducerRecord] {
        do {
            let record = try routing.retry(next, tier: tier)
            metrics.tierRecords.increment()
            return [record]
        } catch {
            return deadLetter(next, reason: "unwritable", error: "could not write the retry: \(error)", now: now)
        }
    }

    func deferral(_ delivery: Delivery, wait: Duration, reason: String, policy: RetryPolicy, now: Date) -> [KafkaProducerRecord] {
        switch policy.deferral(delivery, wait: wait, now: now) {
        case .wait(let next, let tier):
            metrics.deferred(reason)
            return retry(next, tier: tier, now: now)
        case .expired(let error):
            return deadLetter(delivery, reason: "max_age", error: "\(error) (deferred: \(reason))", now: now)
        }
    }

    func deadLetter(_ delivery: Delivery, reason: String, error: String, now: Date) -> [KafkaProducerRecord] {
        finished(delivery)
        let dead = DeadLetter(delivery: delivery, reason: reason, finalError: error, attempts: delivery.history, deadAt: now)
        do { return [try routing.deadLetter(dead)] } catch {
            runtime.logger.error("could not write a dead letter", metadata: ["endpoint": "\(delivery.endpointID)", "event": "\(delivery.eventID)", "error": "\(error)"])
            return []
        }
    }

    /// A delivery reached its end: its tier passes go to the recirculation metrics.
    func finished(_ delivery: Delivery) {
        metrics.finished.increment()
        metrics.passes.record(delivery.passes)
    }

    /// Disables `endpoint` here at once and, the first time only, writes its disabled
    /// revision and one `endpoint_disabled` ops event; deliveries waiting for it are woken
    /// to be dead-lettered.
    func disable(_ endpoint: Endpoint, reason: String, now: Date) -> [KafkaProducerRecord] {
        let (first, waiters) = gate.withLock { $0.disable(endpoint) }
        wake(waiters)
        guard first else { return [] }
        var disabled = endpoint
        disabled.enabled = false
        disabled.disabledReason = reason
        disabled.revision += 1
        disabled.updatedAt = now
        runtime.logger.warning("endpoint disabled", metadata: ["endpoint": "\(endpoint.id)", "reason": "\(reason)"])
        return [try? routing.endpoint(disabled), routing.ops(kind: "endpoint_disabled", endpoint: endpoint, detail: reason, at: now)].compactMap { $0 }
    }

    /// The endpoint's secret cannot be opened (another master key, a damaged record): no
    /// attempt can ever succeed until an operator fixes it, so the delivery is parked at
    /// once (`secret_unreadable`, replayable then), with an error log line and an ops event
    /// once per endpoint revision.
    func secretUnreadable(_ delivery: Delivery, endpoint: Endpoint, error: SecretBoxError, now: Date) -> [KafkaProducerRecord] {
        let detail = "cannot open the endpoint's secret: \(error); check SLUICE_MASTER_KEY, then replay its dead letters"
        var out = deadLetter(delivery, reason: "secret_unreadable", error: detail, now: now)
        let first = unreadableSecrets.withLock { $0.insert("\(endpoint.id)@\(endpoint.revision)").inserted }
        if first {
            runtime.logger.error("an endpoint's secret cannot be opened", metadata: ["endpoint": "\(endpoint.id)", "error": "\(error)"])
            out.append(routing.ops(kind: "secret_unreadable", endpoint: endpoint, detail: detail, at: now))
        }
        return out
    }

    /// Keeps the endpoint's failure streak durable: its start when a circuit opens on a
    /// streak the topic does not hold yet, a tombstone when it recovers.
    func streakRecords(_ endpoint: Endpoint, change: DispatchGate.Change, known: Date?) -> [KafkaProducerRecord] {
        if change.failingSince == nil, known != nil {
            return [streaks.record(endpoint.id, failingSince: nil)].compactMap { $0 }
        }
        if case .opened = change.circuit, let since = change.failingSince, since != known {
            return [streaks.record(endpoint.id, failingSince: since)].compactMap { $0 }
        }
        return []
    }
}
