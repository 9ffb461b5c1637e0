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
        let event = Event.structured(
            id: "evt-\(n)", source: "/bench", type: "order.created", tenant: "bench-\(n % tenants)",
            data: .string(String(repeating: "x", count: max(0, args.size - 150))))
        return KafkaRecord(topic: "sluice.events", partition: Int32(n % 16), offset: Int64(n), key: Array(event.tenant.utf8), value: event.body, headers: [])
    }
    let transform = FanoutTransform(decoder: EventDecoder(), deliveriesTopic: "sluice.deliveries", rejectedTopic: "sluice.rejected")
    let now = Date()
    var deliveries = 0
    // One pass first, not timed (first-use costs: metadata, caches).
    for record in records { if case .deliveries(let out) = transform.transform(record, registry: registry, now: now) { deliveries += out.count } }
    deliveries = 0
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

/// CPU seconds this thread has used so far.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
