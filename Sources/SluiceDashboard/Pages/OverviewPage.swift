import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// `/ui/`: deliveries per second, success rate, dead letters, open circuits, the worst
/// endpoints, the latest ops events; all in the session's scope, counted in the store.
extension DashboardApp {
    func registerOverview(_ ui: Group) {
        ui.get("") { request, _ in try await overview(request) }
    }

    func overview(_ request: Request) async throws -> Response {
        let session = try await session(request)
        let scope = session.principal.scope
        let now = Date()
        let hour = try await store.activity(scope: scope, filter: ActivityFilter(since: now.addingTimeInterval(-3600)), bucketSeconds: 60)
        let day = try await store.activity(scope: scope, filter: ActivityFilter(since: now.addingTimeInterval(-86_400)), bucketSeconds: 86_400)
        let deadLetters = try await store.deadLetterCount(scope: scope, tenant: nil)
        let circuits = try await openCircuits(scope: scope)
        let recent = try await store.opsEvents(scope: scope, filter: OpsFilter(), page: PageRequest(limit: 8)).items

        let series = ActivitySeries(hour, now: now, bucketSeconds: 60, count: 60)
        let lastFive = hour.filter { Double($0.start) >= now.timeIntervalSince1970 - 300 }
        let delivered5 = lastFive.reduce(0) { $0 + $1.succeeded }
        let (attempts1h, ok1h) = hour.reduce((0, 0)) { ($0.0 + $1.attempts, $0.1 + $1.succeeded) }
        let tiles: [[String: Any]] = [
            ["label": "Deliveries / s", "value": String(format: "%.2f", Double(delivered5) / 300), "note": "2xx answers, last 5 min", "testid": "tile-rate"],
            ["label": "Success rate", "value": Format.rate(attempts1h > 0 ? Double(ok1h) / Double(attempts1h) : nil), "note": "\(attempts1h) attempts, last hour", "testid": "tile-success"],
            ["label": "Dead letters", "value": "\(deadLetters)", "note": "parked, in the store's retention", "testid": "tile-dlq"],
            ["label": "Open circuits", "value": "\(circuits.count)", "note": "endpoints not being called now", "testid": "tile-circuits"],
        ]
        let worst = ActivitySeries.perEndpoint(day).filter { $0.attempts > 0 }
            .sorted { ($0.rate, -$0.failed) < ($1.rate, -$1.failed) }.prefix(8)
            .map { e -> [String: Any] in
                ["id": e.endpointID, "href": URLText.endpoint(e.endpointID), "tenant": e.tenant, "rate": Format.rate(e.rate), "rateSvg": SVGChart.rateBar(e.rate),
                 "failed": e.failed, "attempts": e.attempts]
            }
        let data: [String: Any] = [
            "tiles": tiles, "throughputSvg": SVGChart.sparkline(totals: series.totals, failures: series.failures, width: 720, height: 80),
            "worst": Array(worst),
            "circuits": circuits.map { ["endpointID": $0.endpointID, "href": URLText.endpoint($0.endpointID), "at": Format.time($0.at), "detail": $0.detail] },
            "recentOps": recent.map { ["at": Format.time($0.at), "kind": $0.kind, "endpointID": $0.endpointID, "detail": $0.detail] },
        ]
        return HTMLResponse.page(renderer.page("overview", data, chrome: .init(title: "Overview", session: session, active: "overview", flash: flash(session), refresh: 10)))
    }

    /// Endpoints whose newest circuit event is `circuit_opened`.
    func openCircuits(scope: AccessScope) async throws -> [StoredOpsEvent] {
        let latest = try await store.latestOps(scope: scope, kinds: ["circuit_opened", "circuit_closed"])
        let newest = Dictionary(grouping: latest, by: \.endpointID).compactMap { $0.value.max { $0.at < $1.at } }
        return newest.filter { $0.kind == "circuit_opened" }.sorted { $0.at > $1.at }
    }
}

/// Activity buckets laid out for charts: a fixed number of consecutive buckets (zeros
/// where nothing happened), and totals per endpoint.
struct ActivitySeries {
    var totals: [Double]
    var failures: [Double]

    /// The `count` buckets of `bucketSeconds` up to the one holding `now` (all endpoints added up).
    init(_ buckets: [ActivityBucket], now: Date, bucketSeconds: Int, count: Int) {
        let size = Int64(max(bucketSeconds, 1))
        let first = Int64(now.timeIntervalSince1970) / size * size - Int64(count - 1) * size
        totals = Array(repeating: 0, count: count)
        failures = Array(repeating: 0, count: count)
        for bucket in buckets {
            let index = Int((bucket.start - first) / size)
            guard totals.indices.contains(index) else { continue }
            totals[index] += Double(bucket.attempts)
            failures[index] += Double(bucket.failed)
        }
    }

    struct EndpointTotal {
        var endpointID: String
        var tenant: String
        var attempts: Int
        var succeeded: Int
        var failed: Int { attempts - succeeded }
        var rate: Double { attempts > 0 ? Double(succeeded) / Double(attempts) : 1 }
    }

    static func perEndpoint(_ buckets: [ActivityBucket]) -> [EndpointTotal] {
        var totals: [String: EndpointTotal] = [:]
        for b in buckets {
            totals[b.endpointID, default: EndpointTotal(endpointID: b.endpointID, tenant: b.tenant, attempts: 0, succeeded: 0)].attempts += b.attempts
            totals[b.endpointID]?.succeeded += b.succeeded
        }
        return totals.values.sorted { $0.endpointID < $1.endpointID }
    }
}
