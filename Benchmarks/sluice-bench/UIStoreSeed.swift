import Foundation
import SluiceAdmin
import SluiceCore

/// `sluice-bench ui-store --store FILE --count N --endpoints E`: a query store with N
/// attempts over the last 24 h spread across E endpoints of 10 tenants (one in eight
/// failing with a 5xx and an HTML excerpt), N/100 dead letters and N/200 ops events, for the
/// dashboard's page-latency benchmark (Benchmarks/ui_pages.py). No topic positions are
/// written, so a `sluice-admin` on a fresh broker keeps these rows and reads the empty
/// topics from their start.
func seedUIStore(_ args: Arguments) async throws -> [String: Any] {
    guard !args.prefix.isEmpty else { throw BenchError("--prefix names the store file to write") }
    let store = try SQLiteQueryStore(path: args.prefix)
    let box = try SecretBox(masterKeyBase64: SecretBox.Key.generateBase64())
    let now = Date()
    let endpoints = (0..<max(args.endpoints, 1)).map { index -> Endpoint in
        let id = "ep_bench\(index)"
        return Endpoint(
            id: id, tenant: "tenant\(index % 10)", url: "https://hooks.example.com/\(index)", filter: .all,
            sealedSecret: box.seal(Secret.generate(), endpointID: id), now: now.addingTimeInterval(-86_400 - Double(index)))
    }
    var batch = StoreBatch()
    batch.endpoints = endpoints.map { .upsert($0) }
    try await store.apply(batch)
    let chunk = 10_000
    var written = 0
    while written < args.count {
        var batch = StoreBatch()
        for index in written..<min(written + chunk, args.count) {
            let endpoint = endpoints[index % endpoints.count]
            let event = Event(id: "evt_bench\(index)", source: "/bench", type: "order.created", tenant: endpoint.tenant, body: Array("{}".utf8))
            let at = now.addingTimeInterval(-86_000 * Double(args.count - index) / Double(args.count))
            let failed = index % 8 == 0
            let attempt = Attempt(
                delivery: Delivery(event: event, endpointID: endpoint.id, now: at), at: at, status: failed ? 503 : 200,
                latencyMs: Double(20 + index % 180), errorClass: failed ? .httpStatus : .none, error: failed ? "HTTP 503" : nil,
                responseExcerpt: failed ? "<html><body>Service Unavailable</body></html>" : "ok", outcome: failed ? .retrying : .delivered)
            batch.attempts.append(StoredAttempt(partition: Int32(index % 8), offset: Int64(index / 8), attempt: attempt))
            if index % 100 == 0 {
                var delivery = Delivery(event: event, endpointID: endpoint.id, now: at)
                delivery.attempt = 8
                let letter = DeadLetter(delivery: delivery, reason: "attempts exhausted", finalError: "HTTP 503", attempts: [], deadAt: at)
                batch.deadLetters.append(StoredDeadLetter(partition: Int32(index % 8), offset: Int64(index / 8), letter: letter))
            }
            if index % 200 == 0 {
                let bytes = Array(#"{"kind":"circuit_opened","endpoint_id":"\#(endpoint.id)","tenant":"\#(endpoint.tenant)","detail":"after 5 consecutive failures","at":\#(at.timeIntervalSince1970 * 1000)}"#.utf8)
                batch.opsEvents.append(try StoredOpsEvent(partition: Int32(index % 8), offset: Int64(index / 8), bytes: bytes))
            }
        }
        try await store.apply(batch)
        written = min(written + chunk, args.count)
    }
    return ["store": args.prefix, "attempts": args.count, "endpoints": endpoints.count, "busiest": endpoints[0].id]
}
