import Foundation
import Histogram
import Logging
import SluiceCore
import SluiceKafka
import SluiceStage

/// `sluice-bench dispatch-prepare`: a fresh topology under its own prefix, `--endpoints`
/// endpoints at `--sink` (each its own path), and `--count` deliveries spread over them,
/// written straight to `sluice.deliveries`. Prints the prefix and master key that the real
/// `sluice-dispatch` (started by `Benchmarks/run.py`) needs.
///
/// `--mix mixed` gives the endpoints the seeds' health: 80 % answer in 5–50 ms, 10 % in
/// 1–3 s, 5 % fail (500), 5 % never answer (paths the bench sink understands).
func dispatchPrepare(_ args: Arguments) async throws -> [String: Any] {
    let (client, admin, topology, logger) = try benchSetup(args)
    let prefix = "bench-\(RandomID.make(length: 6))."
    _ = try await TopologyApplier(admin: admin).apply(topology.resolvedTopics(prefix: prefix), dryRun: false)
    let masterKey = SecretBox.Key.generateBase64()
    let box = try SecretBox(masterKeyBase64: masterKey)
    let producer = try KafkaProducer(config: KafkaProducerConfig(client: client, linger: .milliseconds(5)), logger: logger)
    var settings = StageSettings(brokers: args.brokers, topicPrefix: prefix, logLevel: "warning")
    settings.fetchWaitMax = .milliseconds(10)
    settings.readUncommitted = true
    let store = EndpointStore(topic: prefix + "endpoints", producer: producer, reader: try StageRuntime(name: "bench", settings: settings).reader())
    var endpoints: [Endpoint] = []
    for n in 0..<args.endpoints {
        let id = Endpoint.newID()
        // With --hosts, endpoint n lives on 127.0.0.(1 + n % hosts), the sink's port: one
        // connection pool per host, as endpoints spread over many customers' servers are.
        let sink = args.hosts > 1 ? args.sink.replacingOccurrences(of: "127.0.0.1", with: "127.0.0.\(1 + n % args.hosts)") : args.sink
        var endpoint = Endpoint(id: id, tenant: "bench-\(n % 32)", url: "\(sink)/\(id)", filter: .all, sealedSecret: box.seal(.generate(), endpointID: id))
        if args.mix != "fast" {
            // Both runs give the endpoints that are healthy in the mix the same paths, so the
            // all-healthy run measures those very endpoints; the others answer as in the mix
            // (`mixed`) or as a healthy endpoint would (`healthy`).
            endpoint.url += "/" + MixedEndpoints.path(args.mix == "mixed" || MixedEndpoints.isHealthy(n) ? n : n - n % 20)
            endpoint.timeoutMs = 5_000
        }
        endpoints.append(endpoint)
    }
    if args.mix != "fast" {
        // The endpoints whose rate both runs report: those healthy in the mix (80 %).
        let healthy = endpoints.indices.filter(MixedEndpoints.isHealthy).map { endpoints[$0].id }
        try healthy.joined(separator: "\n").write(toFile: args.healthy, atomically: true, encoding: .utf8)
    }
    try await store.putAll(endpoints)
    let body = String(repeating: "x", count: max(0, args.size - 150))
    var batch: [KafkaProducerRecord] = []
    for n in 0..<args.count {
        let endpoint = endpoints[n % endpoints.count]
        let event = Event.structured(id: "evt-\(n)", source: "/bench", type: "order.created", tenant: endpoint.tenant, data: .string(body))
        batch.append(try KafkaProducerRecord(topic: prefix + "deliveries", key: endpoint.id, wire: Delivery(event: event, endpointID: endpoint.id, now: Date())))
        if batch.count == 10_000 {
            try await producer.send(batch)
            batch = []
        }
    }
    try await producer.send(batch)
    try await producer.close()
    return ["prefix": prefix, "master_key": masterKey, "endpoints": endpoints.count, "deliveries": args.count]
}

/// `sluice-bench attempts`: reads `sluice.attempts` of `--prefix` until `--count` attempts
/// arrived (or `--timeout`); prints the throughput from the first attempt's start to the
/// last one's end and the latency percentiles (exact, from every attempt).
func attemptsReport(_ args: Arguments) async throws -> [String: Any] {
    let (client, _, _, logger) = try benchSetup(args)
    var config = KafkaConsumerConfig(client: client, groupID: "bench-attempts-\(RandomID.make(length: 6))", isolation: .readUncommitted)
    config.fetchWaitMax = .milliseconds(10)
    let consumer = try KafkaConsumer(config: config, logger: logger)
    try consumer.subscribe([args.prefix + "attempts"])
    var attempts: [Attempt] = []
    let deadline = ContinuousClock.now + .seconds(Int64(args.timeout))
    // With unhealthy endpoints, many deliveries are never attempted (their circuit is
    // open): the run is over when every delivery to a healthy endpoint was delivered.
    let healthyIDs = args.mix == "fast" ? [] : Set(((try? String(contentsOfFile: args.healthy, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
    let healthyExpected = args.mix == "mixed" ? healthyIDs.count * (args.count / max(1, args.endpoints)) : Int.max
    var healthyDelivered = 0
    while attempts.count < args.count, healthyDelivered < healthyExpected, ContinuousClock.now < deadline {
        for event in try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(100)) {
            if case .record(let r) = event, let value = r.value, let attempt = try? Attempt(wireBytes: value) {
                attempts.append(attempt)
                if attempt.outcome == .delivered, healthyIDs.contains(attempt.endpointID) { healthyDelivered += 1 }
            }
        }
    }
    try await consumer.close()
    guard let first = attempts.map(\.at).min() else { return ["attempts": 0] }
    let last = attempts.map { $0.at.addingTimeInterval($0.latencyMs / 1000) }.max() ?? first
    let seconds = max(0.001, last.timeIntervalSince(first))
    var result: [String: Any] = [
        "attempts": attempts.count, "seconds": seconds, "per_s": Double(attempts.count) / seconds,
        "delivered": attempts.filter { $0.outcome == .delivered }.count,
        "latency_ms": percentiles(attempts.map(\.latencyMs)),
    ]
    if args.mix != "fast", let text = try? String(contentsOfFile: args.healthy, encoding: .utf8) {
        // The healthy endpoints' own figures: from the first attempt to their last answer.
        let ids = Set(text.split(separator: "\n").map(String.init))
        let healthy = attempts.filter { ids.contains($0.endpointID) }
        let end = healthy.map { $0.at.addingTimeInterval($0.latencyMs / 1000) }.max() ?? first
        result["healthy"] = [
            "attempts": healthy.count, "delivered": healthy.filter { $0.outcome == .delivered }.count,
            "per_s": Double(healthy.count) / max(0.001, end.timeIntervalSince(first)), "latency_ms": percentiles(healthy.map(\.latencyMs)),
        ]
    }
    return result
}

/// p50, p99, p999 and max of `values` (milliseconds), through an HdrHistogram of
/// microseconds with three significant digits.
func percentiles(_ values: [Double]) -> [String: Double] {
    guard !values.isEmpty else { return [:] }
    var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    for value in values { _ = histogram.record(UInt64(max(0, value * 1000))) }
    func at(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
    return ["p50": at(50), "p99": at(99), "p999": at(99.9), "max": Double(histogram.max) / 1000]
}

/// The seeds' endpoint mix, by endpoint index.
enum MixedEndpoints {
    static func path(_ n: Int) -> String {
        switch n % 20 {
        case 0..<16: "delay/\(5 + (n &* 7919) % 46)"  // 80 %: 5–50 ms
        case 16, 17: "delay/\(1000 + (n &* 104_729) % 2001)"  // 10 %: 1–3 s
        case 18: "status/500"  // 5 %
        default: "blackhole"  // 5 %
        }
    }

    static func isHealthy(_ n: Int) -> Bool { n % 20 < 16 }
}

/// What every benchmark starts from: a quiet logger, the broker's client settings, an
/// admin client and the repository's topology.
func benchSetup(_ args: Arguments) throws -> (KafkaClientConfig, KafkaAdmin, Topology, Logger) {
    var logger = Logger(label: "sluice-bench")
    logger.logLevel = .warning
    let client = KafkaClientConfig(brokers: args.brokers, clientID: "sluice-bench")
    let topologyPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topology/sluice.yaml").path
    return (client, try KafkaAdmin(config: client, logger: logger), try Topology.load(path: topologyPath), logger)
}

/// `sluice-bench publish`: publishes `--count` events to `--prefix`'s `sluice.events`
/// for the 32 bench tenants, at `--rate` per second (0: as fast as the broker takes them),
/// and writes each event's publish time (unix seconds, when handed to the producer) to
/// `--times` as JSON, for end-to-end latency against the sink's receipts. Event ids are
/// `--ids` (default `e2e-`) followed by their number.
func publishTimed(_ args: Arguments) async throws -> [String: Any] {
    let (client, _, _, logger) = try benchSetup(args)
    let producer = try KafkaProducer(config: KafkaProducerConfig(client: client, linger: .milliseconds(2)), logger: logger)
    let body = String(repeating: "x", count: max(0, args.size - 150))
    var times: [String: Double] = [:]
    var receipts: [KafkaDeliveryReceipt] = []
    // One acknowledged event first (a tenant with no endpoints: unmatched), so the producer's
    // start (metadata, its idempotent id) is not counted in the first events' latency.
    let warmUp = Event.structured(id: "e2e-warm-up", source: "/bench", type: "order.created", tenant: "bench-none", data: .string(""))
    _ = try await producer.enqueue(KafkaProducerRecord(topic: args.prefix + "events", key: Array(warmUp.tenant.utf8), value: warmUp.body))
        .acknowledgement()
    let started = ContinuousClock.now
    for n in 0..<args.count {
        if args.rate > 0 {
            let due = started + .milliseconds(Int64(Double(n) / args.rate * 1000))
            if due > .now { try await Task.sleep(until: due) }
        }
        let event = Event.structured(id: "\(args.ids)\(n)", source: "/bench", type: "order.created", tenant: "bench-\(n % 32)", data: .string(body))
        times[event.id] = Date().timeIntervalSince1970
        receipts.append(try await producer.enqueue(KafkaProducerRecord(topic: args.prefix + "events", key: Array(event.tenant.utf8), value: event.body)))
    }
    for receipt in receipts { _ = try await receipt.acknowledgement() }
    let seconds = (ContinuousClock.now - started).timeInterval
    try await producer.close()
    try JSONSerialization.data(withJSONObject: times).write(to: URL(fileURLWithPath: args.times))
    return ["published": args.count, "seconds": seconds, "per_s": Double(args.count) / seconds]
}
