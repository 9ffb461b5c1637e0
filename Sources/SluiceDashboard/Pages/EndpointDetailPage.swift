import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// `/ui/endpoints/{id}`: settings, actions (enable, disable, rotate secret, send test, replay
/// from history), 24 h
/// stats, and the attempt log (filters, cursor paging, an attempt drawer opened by
/// `?attempt=att_…`, rendered on the server).
extension DashboardApp {
    /// Attempts whose latency and answers the detail page charts (the newest).
    static let statsSample = 2000

    func endpointDetail(_ request: Request, id: String) async throws -> Response {
        let session = try await session(request)
        let scope = session.principal.scope
        let endpoint = try await actions.endpoint(id, scope: scope)
        let query = request.uri.queryParameters
        let base = URLText.endpoint(endpoint.id)
        let filter = try AttemptLogFilter(query)
        let iterator = query["after"].map(String.init)
        let page: Page<StoredAttempt>
        do {
            page = try await store.attempts(scope: scope, filter: filter.attemptFilter(endpointID: endpoint.id), page: PageRequest(limit: 50, iterator: iterator))
        } catch is QueryStoreError { throw UIError.badRequest("that page link is not one this dashboard made; start from the first page") }
        let selected = query["attempt"].map(String.init)
        let link = { (extra: [String: String?]) in URLText.link(base, filter.parameters.merging(extra) { _, new in new }) }

        var data = try await stats(of: endpoint, scope: scope)
        if let reason = endpoint.disabledReason { data["disabledReason"] = reason }  // a section on "" would still show
        data["base"] = base
        data["filter"] = ["event": filter.eventID ?? ""]
        let outcomes: [String] = ["delivered", "retrying", "dead_lettered", "endpoint_disabled", "dropped"]
        data["outcomes"] = outcomes.map { value -> [String: Any] in
            ["value": value, "selected": filter.outcome?.rawValue == value]
        }
        data["statusClasses"] = StatusClass.allCases.map { ["value": $0.rawValue, "selected": $0 == filter.statusClass] }
        data["attempts"] = page.items.map { stored -> [String: Any] in
            var row = AttemptView.row(stored)
            row["selected"] = stored.id == selected
            row["drawerHref"] = link(["after": iterator, "attempt": stored.id])
            return row
        }
        if let next = page.iterator { data["nextHref"] = link(["after": next]) }
        if iterator != nil { data["firstHref"] = link([:]) }
        if let selected, let attempt = try await store.attempt(id: selected, scope: scope), attempt.attempt.endpointID == endpoint.id {
            var drawer = AttemptView.drawer(attempt, endpoint: endpoint)
            drawer["closeHref"] = link(["after": iterator])
            data["drawer"] = drawer
        }
        let chrome = PageRenderer.Chrome(title: "Endpoint \(endpoint.id)", session: session, active: "endpoints", flash: flash(session))
        return HTMLResponse.page(renderer.page("endpoint", data, chrome: chrome))
    }

    /// Settings and the last 24 hours (counts from the store's aggregate; latency and answers from the newest attempts).
    func stats(of endpoint: Endpoint, scope: AccessScope) async throws -> [String: Any] {
        let now = Date()
        let since = now.addingTimeInterval(-86_400)
        let buckets = try await store.activity(scope: scope, filter: ActivityFilter(since: since, endpointID: endpoint.id), bucketSeconds: 3600)
        let series = ActivitySeries(buckets, now: now, bucketSeconds: 3600, count: 24)
        let (count, ok) = buckets.reduce((0, 0)) { ($0.0 + $1.attempts, $0.1 + $1.succeeded) }
        let rate: Double? = count > 0 ? Double(ok) / Double(count) : nil
        let sample = AttemptStats(try await store.endpointAttempts(endpointID: endpoint.id, scope: scope, since: since, limit: Self.statsSample))
        let open = try await openCircuits(scope: scope).contains { $0.endpointID == endpoint.id }
        let (state, stateClass) = Self.state(of: endpoint, circuitOpen: open)
        var charts: [String: Any] = [
            "count": count, "rate": Format.rate(rate), "rateSvg": SVGChart.rateBar(rate, width: 160),
            "sparkSvg": SVGChart.sparkline(totals: series.totals, failures: series.failures, width: 320, height: 40),
        ]
        if sample.count > 0 {  // no latency or answers to chart without attempts
            charts["sampled"] = sample.count
            charts["latencySvg"] = SVGChart.bars([("p50", sample.p50 ?? 0), ("p95", sample.p95 ?? 0), ("p99", sample.p99 ?? 0)], unit: " ms")
            charts["statusSvg"] = SVGChart.bars(["2xx", "3xx", "4xx", "5xx", "none"].map { ($0, Double(sample.byStatusClass[$0] ?? 0)) })
        }
        return [
            "id": endpoint.id, "url": endpoint.url, "tenant": endpoint.tenant, "types": endpoint.filter.patterns.joined(separator: ", "),
            "description": endpoint.note ?? "–", "enabled": endpoint.enabled,
            "state": state, "stateClass": stateClass,
            "timeout": endpoint.timeoutMs.map { "\($0) ms" } ?? "default", "schedule": endpoint.schedule ?? "default",
            "rateLimit": endpoint.rateLimit.map { "\(SVGChart.format($0)) / s" } ?? "none", "concurrency": endpoint.concurrency.map(String.init) ?? "adaptive",
            "headers": endpoint.headers.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
            "secretNote": endpoint.previousSecret.map { "rotated; the previous secret is also sent until \(Format.time($0.expiresAt))" } ?? "one secret",
            "created": Format.time(endpoint.createdAt), "updated": Format.time(endpoint.updatedAt), "revision": endpoint.revision,
            "stats": charts,
        ]
    }

    func endpointAction(_ request: Request, id: String, action: String) async throws -> Response {
        let (session, form) = try await writer(request)
        let scope = session.principal.scope
        let base = URLText.endpoint(id)
        do {
            switch action {
            case "replay":
                let types = form.nonEmpty("types").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
                let task = try await actions.replayHistory(
                    endpointID: id, since: form.nonEmpty("since") ?? "", until: form.nonEmpty("until"), types: types,
                    onlyMissing: form["only_missing"] == "1", dryRun: form["mode"] == "dry-run", scope: scope)
                return HTMLResponse.redirect("/ui/tasks/" + URLText.segment(task.id))
            case "enable":
                _ = try await actions.setEnabled(id, true, scope: scope)
                return redirect(base, session: session, flash: Flash(.ok, "Endpoint enabled."))
            case "disable":
                _ = try await actions.setEnabled(id, false, scope: scope)
                return redirect(base, session: session, flash: Flash(.ok, "Endpoint disabled: nothing is sent to it until it is enabled again."))
            case "rotate-secret":
                let secret = try await actions.rotateSecret(id, scope: scope)
                return redirect(base, session: session, flash: Flash(.ok, "Secret rotated; the old one is still sent for 24 h. The new secret, shown once:", secret: secret))
            case "test":
                let eventID = try await actions.sendTest(id, scope: scope)
                return redirect(
                    URLText.link(base, ["event": eventID]), session: session,
                    flash: Flash(.ok, "Test event \(eventID) sent; its attempt appears below within a few seconds.", link: (URLText.event(eventID), "Open the event")))
            default:
                throw UIError.notFound("there is no endpoint action '\(action)'")
            }
        } catch let problem as APIProblem where problem.status != 404 && problem.status < 500 {
            return redirect(base, session: session, flash: Flash(.error, problem.detail))
        }
    }
}
