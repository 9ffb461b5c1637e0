import Foundation
import SluiceCore
import Testing

@testable import SluiceAdmin
@testable import SluiceDashboard

@Suite struct RenderingTests {
    let renderer = try! PageRenderer()
    let hostile = #"<script>alert("x")</script>'&"#
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;"

    func session(_ principal: SessionPrincipal = .admin(key: "sk_x")) -> DashboardSession {
        SessionStore().create(principal, ttl: .seconds(60))
    }

    @Test func aResponseExcerptRendersAsText() throws {
        let event = Event(id: hostile, source: "/t", type: "order.created", tenant: "acme", body: Array("{}".utf8))
        var delivery = Delivery(event: event, endpointID: "ep_1", now: Date())
        delivery.replayID = hostile
        let attempt = Attempt(
            delivery: delivery, at: Date(), status: 500, latencyMs: 12, errorClass: .httpStatus, error: hostile, responseExcerpt: hostile, outcome: .retrying)
        let stored = StoredAttempt(partition: 0, offset: 1, attempt: attempt)
        var endpoint = Endpoint(id: "ep_1", tenant: "acme", url: "https://a.example/\(hostile)", filter: .all, sealedSecret: "x")
        endpoint.headers = ["x-note": hostile]
        var drawer = AttemptView.drawer(stored, endpoint: endpoint)
        drawer["closeHref"] = "/ui/endpoints/ep_1"
        let data: [String: Any] = ["base": "/ui/endpoints/ep_1", "url": endpoint.url, "drawer": drawer, "attempts": [AttemptView.row(stored)]]
        let html = renderer.page("endpoint", data, chrome: .init(title: "Endpoint \(hostile)", session: session(), active: "endpoints"))
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains(hostile))
        #expect(html.contains("<pre data-testid=\"response-excerpt\">\(escaped)</pre>"))
        #expect(html.contains("x-note: \(escaped)"))
    }

    @Test func everyFormCarriesTheSessionsCSRFToken() {
        let session = session()
        let html = renderer.page(
            "endpoint", ["base": "/ui/endpoints/ep_1", "enabled": true], chrome: .init(title: "Endpoint", session: session, active: "endpoints"))
        let forms = html.components(separatedBy: "<form method=\"post\"").count - 1
        let tokens = html.components(separatedBy: "name=\"_csrf\" value=\"\(session.csrf)\"").count - 1
        #expect(forms >= 4)  // disable, test, rotate, logout
        #expect(tokens == forms)
    }

    @Test func aReadOnlyPortalShowsNoActions() {
        let html = renderer.page(
            "endpoint", ["base": "/ui/endpoints/ep_1", "enabled": true],
            chrome: .init(title: "Endpoint", session: session(.tenant("acme", readOnly: true)), active: "endpoints"))
        #expect(!html.contains("data-testid=\"send-test\""))
        #expect(!html.contains("/ui/portal-links"))
        #expect(html.contains("tenant acme (read-only)"))
    }

    @Test func listsEscapeWhatTenantsAndReceiversChose() {
        let rows: [[String: Any]] = [["id": "ep_1", "href": "/ui/endpoints/ep_1", "url": hostile, "tenant": hostile, "description": hostile, "state": "enabled"]]
        let html = renderer.page("endpoints", ["rows": rows], chrome: .init(title: "Endpoints", session: session(), active: "endpoints"))
        #expect(!html.contains(hostile))
        #expect(html.components(separatedBy: escaped).count - 1 == 3)
    }

    @Test func chartsHoldNumbersAndEscapedLabels() {
        let spark = SVGChart.sparkline(totals: [1, .nan, -3, .infinity, 4], failures: [1, 0, 0, 0, 9])
        #expect(spark.hasPrefix("<svg") && !spark.contains("nan") && !spark.contains("inf"))
        let bars = SVGChart.bars([("<b>", 3), ("p99", 1e300)], unit: " ms")
        #expect(bars.contains("&lt;b&gt;") && !bars.contains("<b>"))
        #expect(SVGChart.rateBar(nil).contains("no attempts"))
        #expect(SVGChart.rateBar(0.5).contains("50.0 %"))
    }

    @Test func activitySeriesFillsEmptyBuckets() {
        let now = Date(timeIntervalSince1970: 7200 + 30)
        let buckets = [
            ActivityBucket(endpointID: "a", tenant: "t", start: 7200, attempts: 4, succeeded: 3),
            ActivityBucket(endpointID: "b", tenant: "t", start: 7200, attempts: 1, succeeded: 1),
            ActivityBucket(endpointID: "a", tenant: "t", start: 3600, attempts: 2, succeeded: 0),
            ActivityBucket(endpointID: "a", tenant: "t", start: 0, attempts: 9, succeeded: 9),  // before the window
        ]
        let series = ActivitySeries(buckets, now: now, bucketSeconds: 3600, count: 2)
        #expect(series.totals == [2, 5])
        #expect(series.failures == [2, 1])
        let totals = ActivitySeries.perEndpoint(buckets)
        #expect(totals.map(\.endpointID) == ["a", "b"] && totals[0].attempts == 15 && totals[0].failed == 3)
    }
}
