// The stages' own work measured on one thread without a broker: fanout's (`transform`) and
// dispatch's (`attempt-work`), the parts of their CPU that do not swing with the broker.

import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

/// `sluice-bench transform`: the CPU of fanout's own work, without a broker: the bench's
/// events (32 tenants, `--factor` endpoints each taking every type, `--size` byte events)
/// decoded, matched and written as delivery records by ``FanoutTransform``, `--count`
/// events in all, on this thread. The figure the fanout rows' ratio depends on (the Kafka
/// layer's share is the same for fanout and its bare loop), and steadier than a run on
/// the broker: one thread, no broker, no scheduling of other processes' work in it.
func transformBenchmark(_ args: Arguments) async throws -> [String: Any] {
    let tenants = 32
    var registry = EndpointRegistry()
    for t in 0..<tenants {
        for _ in 0..<args.factor {
            let id = Endpoint.newID()
            registry.upsert(Endpoint(id: id, tenant: "bench-\(t)", url: "https://sink.test/\(id)", filter: .all, sealedSecret: "sealed"))
        }
    }
    let records = (0..<min(args.count, 10_000)).map { n in
        let event = benchEvent(n, tenant: "bench-\(n % tenants)", size: args.size)
        return KafkaRecord(topic: "sluice.events", partition: Int32(n % 16), offset: Int64(n), key: Array(event.tenant.utf8), value: event.body, headers: [])
    }
    let transform = FanoutTransform(decoder: EventDecoder(), deliveriesTopic: "sluice.deliveries", rejectedTopic: "sluice.rejected")
    let now = Date()
    // One pass first, not timed (first-use costs: metadata, caches).
    for record in records { _ = transform.transform(record, registry: registry, now: now) }
    var deliveries = 0
    let startedCPU = threadCPUSeconds()
    var done = 0
    while done < args.count {
        for record in records.prefix(args.count - done) {
            if case .deliveries(let out) = transform.transform(record, registry: registry, now: now) { deliveries += out.count }
            done += 1
        }
    }
    let cpu = threadCPUSeconds() - startedCPU
    return [
        "factor": args.factor, "events": done, "deliveries": deliveries,
        "cpu_us_per_event": cpu / Double(max(1, done)) * 1e6, "cpu_us_per_delivery": cpu / Double(max(1, deliveries)) * 1e6,
    ]
}

/// `sluice-bench attempt-work`: the CPU of dispatch's own work on one delivery, without a
/// broker or a socket: its record read (``Delivery``), signed (``WebhookSigner``), and its
/// attempt written as a record of `sluice.attempts`, `--count` times on this thread over
/// the bench's deliveries (`--size` byte events, 100 endpoints). What is left of dispatch's
/// CPU per delivery (`make profile-dispatch`) is curl, the kernel, librdkafka and the
/// hand-offs between threads.
func attemptWorkBenchmark(_ args: Arguments) async throws -> [String: Any] {
    let now = Date()
    let secret = Secret.generate()
    let records = try (0..<1_000).map { n in
        let event = benchEvent(n, tenant: "bench-\(n % 32)", size: args.size)
        return try Delivery(event: event, endpointID: "ep_\(n % 100)_\(RandomID.make(length: 16))", now: now).wireBytes()
    }
    var bytes = 0
    func one(_ record: [UInt8]) throws {
        let delivery = try Delivery(wireBytes: record)
        let headers = WebhookSigner.fields(id: delivery.eventID, timestamp: Int64(now.timeIntervalSince1970), body: delivery.body, secrets: [secret])
        let attempt = Attempt(delivery: delivery, at: now, status: 200, latencyMs: 12.5, errorClass: .none, error: nil, responseExcerpt: "ok", outcome: .delivered)
        let out = try KafkaProducerRecord(topic: "sluice.attempts", key: attempt.endpointID, wire: attempt)
        bytes += headers.count + (out.value?.count ?? 0)
    }
    for record in records { try one(record) }  // first-use costs, not timed
    let startedCPU = threadCPUSeconds()
    for n in 0..<args.count { try one(records[n % records.count]) }
    let cpu = threadCPUSeconds() - startedCPU
    return ["deliveries": args.count, "cpu_us_per_delivery": cpu / Double(max(1, args.count)) * 1e6, "bytes": bytes]
}

/// Event `n` of the benches: `order.created` for `tenant`, about `size` bytes as a record.
func benchEvent(_ n: Int, tenant: String, size: Int) -> Event {
    Event.structured(
        id: "evt-\(n)", source: "/bench", type: "order.created", tenant: tenant, data: .string(String(repeating: "x", count: max(0, size - 150))))
}

/// CPU seconds this thread has used so far.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
