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
        var checked = check(record)
        if case .unknownEndpoint(let delivery) = checked {
            // Perhaps created a moment ago: catch up (bounded by the reader's timeout) before
            // calling it deleted. If the registry cannot be read, the delivery waits in a tier.
            do { try await directory.catchUp() } catch { return registryUnavailable(delivery, error: error) }
            checked = check(delivery)
        }
        switch checked {
        case .done(let records): return records
        case .unknownEndpoint(let delivery): return endpointDeleted(delivery)
        case .ready(let ready): return await send(ready)
        }
    }

    /// Waits at the endpoint's gate until it says send or defer, then sends. Retries,
    /// deferred deliveries and replays (from the DLQ or from history) leave a share of the
    /// in-flight budget to live first attempts, so a backlog of retries or a large replay
    /// cannot starve fresh traffic.
    func send(_ ready: ReadyDelivery) async -> [KafkaProducerRecord] {
        let isBackground = ready.delivery.isBackground
        if isBackground, !admitBackground() {
            return deferral(ready.delivery, wait: .seconds(1), reason: "retry_budget", policy: ready.policy, now: Date())
        }
        defer { if isBackground { retriesInFlight.withLock { $0 -= 1 } } }
        while true {
            let answer = Locked<DispatchGate.Admission>(.wait)
            let congested = isCongested
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let (admission, wake) = gate.withLock { $0.admit(ready.endpoint, now: Date(), congested: congested, waiter: waiter) }
                answer.withLock { $0 = admission }
                wake?.resume()
                if admission != .wait { waiter.resume() }
            }
            switch answer.withLock({ $0 }) {
            case .send: return await attempt(ready)
            case .deferFor(let wait, let reason): return deferral(ready.delivery, wait: wait, reason: reason, policy: ready.policy, now: Date())
            case .disabled: return deadLetter(ready.delivery, reason: "endpoint_disabled", error: "the endpoint was disabled", now: Date())
            case .wait: continue  // woken: ask again
            }
        }
    }

    /// Signs, resolves and POSTs; then decides what comes next (``conclude(_:started:result:)``).
    func attempt(_ ready: ReadyDelivery) async -> [KafkaProducerRecord] {
        let started = Date()
        let result = await post(ready, at: started)
        return conclude(ready, started: started, result: result)
    }

    /// The signed POST to the checked, pinned address.
    func post(_ ready: ReadyDelivery, at now: Date) async -> Result<WebhookResponse, WebhookTransferError> {
        // A fresh answer costs a dictionary lookup; only a miss resolves, on another thread.
        let (destinations, url) = (self.destinations, ready.endpoint.url)
        let answer = if let cached = destinations.cached(url) { cached } else { await OffPool.run { destinations.resolve(url) } }
        switch answer {
        case .success(let target): return await http.post(request(ready, at: now, resolve: target.curlResolveEntry))
        case .failure(let error):
            return .failure(WebhookTransferError(errorClass: error.isRetriable ? .dns : .refusedDestination, message: error.description, latency: .zero))
        }
    }

    /// The signed request to the pinned address `resolve` (synchronous: its locals stay
    /// off the delivery task's frame).
    func request(_ ready: ReadyDelivery, at now: Date, resolve: String?) -> WebhookRequest {
        let (delivery, endpoint) = (ready.delivery, ready.endpoint)
        let signed = WebhookSigner.headers(id: delivery.eventID, timestamp: Int64(now.timeIntervalSince1970), body: delivery.body, secrets: ready.secrets)
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/cloudevents+json"), ("user-agent", "Sluice/\(SluiceVersion.current)"),
        ]
        headers += signed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        headers += endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let timeout = endpoint.timeoutMs.map { Duration.milliseconds($0) } ?? self.delivery.requestTimeout
        return WebhookRequest(url: endpoint.url, headers: headers, body: delivery.body, timeout: timeout, resolve: resolve)
    }
}
