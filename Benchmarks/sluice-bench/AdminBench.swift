// The admin API's benchmark modes (make bench-admin; Benchmarks/admin.py drives them):
//
//   sluice-bench hummingbird --port 8080
//       a trivial Hummingbird 2 server, the raw limit beside sluice-admin: POST /v1/events
//       reads the body and answers 202 {"ids":[…]}, GET /v1/attempts answers a fixed page;
//       runs until SIGTERM.
//   sluice-bench store --brokers … --count 200000
//       writes --count attempt records to a fresh prefix's sluice.attempts, then times our
//       reader consuming them to the end (the raw limit) and the admin's StoreMaterialiser
//       building a fresh SQLite store from them (rows/s).
//   sluice-bench seed-attempts --store PATH --count 1000000 --endpoints 1000
//       writes --count attempts of tenant bench (10 % answered 500) straight into the SQLite
//       store at PATH through SQLiteQueryStore.apply, the same writer the materialiser uses.
import Foundation
import Hummingbird
import Logging
import SluiceAdmin
import SluiceCore
import SluiceKafka
import SluiceStage

/// `sluice-bench hummingbird`: serves until SIGTERM or SIGINT.
func hummingbirdBaseline(_ args: Arguments) async throws -> [String: Any] {
    var logger = Logger(label: "sluice-bench-hummingbird")
    logger.logLevel = .warning
    let router = Router()
    router.post("/v1/events") { request, context -> Response in
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let answer = #"{"ids":["evt_\#(body.readableBytes)"]}"#
        return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer)))
    }
    let page = #"{"data":[],"done":true}"#
    router.get("/v1/attempts") { _, _ -> Response in
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }
    let port = args.port
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "bench"), logger: logger)
    try await app.runService()
    return ["served": port]
}

/// `sluice-bench store`: the materialiser's rows/s beside a plain read of the same records.
func storeBenchmark(_ args: Arguments) async throws -> [String: Any] {
    let (client, admin, topology, logger) = try benchSetup(args)
    let prefix = "bench-\(RandomID.make(length: 6))."
    _ = try await TopologyApplier(admin: admin).apply(topology.resolvedTopics(prefix: prefix), dryRun: false)
    let producer = try KafkaProducer(config: KafkaProducerConfig(client: client, linger: .milliseconds(5)), logger: logger)
    var batch: [KafkaProducerRecord] = []
    for n in 0..<args.count {
        let attempt = benchAttempt(n, endpoints: args.endpoints, at: Date())
        batch.append(try KafkaProducerRecord(topic: prefix + "attempts", key: attempt.endpointID, wire: attempt))
        if batch.count == 10_000 {
            try await producer.send(batch)
            batch = []
        }
    }
    try await producer.send(batch)
    try await producer.close()

    var settings = StageSettings(brokers: args.brokers, topicPrefix: prefix, logLevel: "warning")
    settings.fetchWaitMax = .milliseconds(10)
    settings.readUncommitted = true
    let reader = try StageRuntime(name: "bench", settings: settings).reader()
    let readStart = ContinuousClock.now
    var read = 0
    try await reader.readToEnd(topic: prefix + "attempts") { _ in read += 1 }
    let readSeconds = (ContinuousClock.now - readStart).timeInterval

    let path = NSTemporaryDirectory() + "sluice-bench-store-\(RandomID.make(length: 6)).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    let store = try SQLiteQueryStore(path: path)
    let started = ContinuousClock.now
    let materialiser = try await StoreMaterialiser.open(store: store, reader: reader, topics: .init(prefix: prefix), logger: logger)
    let running = Task { try await materialiser.run() }
    let deadline = ContinuousClock.now + .seconds(args.timeout)
    while !materialiser.isCaughtUp, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    let seconds = (ContinuousClock.now - started).timeInterval
    running.cancel()
    _ = try? await running.value
    guard materialiser.isCaughtUp else { throw BenchError("the store did not catch up with \(args.count) attempts within \(args.timeout) s") }
    let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }.reduce(0, +)
    return [
        "count": args.count, "read": read, "read_per_s": Double(read) / readSeconds, "rows_per_s": Double(args.count) / seconds,
        "seconds": seconds, "store_bytes": bytes,
    ]
}

/// `sluice-bench seed-attempts`: a store holding `--count` attempts, written directly.
func seedAttempts(_ args: Arguments) async throws -> [String: Any] {
    let store = try SQLiteQueryStore(path: args.store)
    let started = ContinuousClock.now
    let now = Date()
    let chunk = 10_000
    for start in stride(from: 0, to: args.count, by: chunk) {
        var batch = StoreBatch()
        for n in start..<min(start + chunk, args.count) {
            // Spread over the last 6 hours, newest last; partition and offset as if read from 8 partitions.
            let at = now.addingTimeInterval(-21_600 + 21_600 * Double(n) / Double(max(1, args.count)))
            batch.attempts.append(StoredAttempt(partition: Int32(n % 8), offset: Int64(n / 8), attempt: benchAttempt(n, endpoints: args.endpoints, at: at)))
        }
        try await store.apply(batch)
    }
    let seconds = (ContinuousClock.now - started).timeInterval
    let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: args.store + $0)[.size] as? Int }.reduce(0, +)
    return ["count": args.count, "seconds": seconds, "rows_per_s": Double(args.count) / seconds, "store_bytes": bytes]
}

/// Attempt `n` of the bench: tenant `bench`, endpoint `ep_bench_<n mod endpoints>`, one in
/// ten answered 500 (retrying), the rest 200.
func benchAttempt(_ n: Int, endpoints: Int, at: Date) -> Attempt {
    let endpointID = String(format: "ep_bench_%04d", n % max(1, endpoints))
    let event = Event.structured(id: "evt-bench-\(n)", source: "/bench", type: "order.created", tenant: "bench", data: .string("x"))
    let failed = n % 10 == 0
    return Attempt(
        delivery: Delivery(event: event, endpointID: endpointID, now: at), at: at, status: failed ? 500 : 200, latencyMs: 12.5,
        errorClass: failed ? .httpStatus : .none, responseExcerpt: failed ? "internal error" : nil, outcome: failed ? .retrying : .delivered)
}
