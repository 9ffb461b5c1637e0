import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// `/ui/endpoints`: the endpoints in the scope with state, 24 h success rate and an hourly
/// sparkline (one GROUP BY over the day's attempts), cursor-paged; and the create form.
extension DashboardApp {
    func registerEndpointRoutes(_ ui: Group) {
        ui.get("endpoints") { request, _ in try await endpointList(request) }
        ui.post("endpoints") { request, _ in try await createEndpoint(request) }
        ui.get("endpoints/:id") { request, context in try await endpointDetail(request, id: try context.parameters.require("id")) }
        ui.post("endpoints/:id/:action") { request, context in
            try await endpointAction(request, id: try context.parameters.require("id"), action: try context.parameters.require("action"))
        }
    }

    func endpointList(_ request: Request) async throws -> Response {
        let session = try await session(request)
        let scope = session.principal.scope
        let iterator = request.uri.queryParameters["after"].map(String.init)
        let page: Page<Endpoint>
        do { page = try await store.endpoints(scope: scope, tenant: nil, page: PageRequest(limit: 50, iterator: iterator)) } catch is QueryStoreError {
            throw UIError.badRequest("that page link is not one this dashboard made; start from the first page")
        }
        let now = Date()
        let buckets = try await store.activity(scope: scope, filter: ActivityFilter(since: now.addingTimeInterval(-86_400)), bucketSeconds: 3600)
        let byEndpoint = Dictionary(grouping: buckets, by: \.endpointID)
        let open = Set(try await openCircuits(scope: scope).map(\.endpointID))
        let rows = page.items.map { endpoint -> [String: Any] in
            let mine = byEndpoint[endpoint.id] ?? []
            let series = ActivitySeries(mine, now: now, bucketSeconds: 3600, count: 24)
            let (attempts, ok) = mine.reduce((0, 0)) { ($0.0 + $1.attempts, $0.1 + $1.succeeded) }
            let rate: Double? = attempts > 0 ? Double(ok) / Double(attempts) : nil
            let (state, stateClass) = Self.state(of: endpoint, circuitOpen: open.contains(endpoint.id))
            return [
                "id": endpoint.id, "href": URLText.endpoint(endpoint.id), "url": endpoint.url, "tenant": endpoint.tenant, "description": endpoint.note ?? "",
                "state": state, "stateClass": stateClass, "rate": Format.rate(rate), "rateSvg": SVGChart.rateBar(rate),
                "sparkSvg": SVGChart.sparkline(totals: series.totals, failures: series.failures), "attempts": attempts,
            ]
        }
        var data: [String: Any] = ["rows": rows, "openCreate": page.items.isEmpty && iterator == nil]
        if let next = page.iterator { data["nextHref"] = URLText.link("/ui/endpoints", ["after": next]) }
        if iterator != nil { data["firstHref"] = "/ui/endpoints" }
        return HTMLResponse.page(renderer.page("endpoints", data, chrome: .init(title: "Endpoints", session: session, active: "endpoints", flash: flash(session))))
    }

    func createEndpoint(_ request: Request) async throws -> Response {
        let (session, form) = try await writer(request)
        let types = (form["types"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        do {
            let (endpoint, secret) = try await actions.createEndpoint(
                tenant: session.principal.isAdmin ? form.nonEmpty("tenant") : nil, url: form.nonEmpty("url") ?? "", types: types.isEmpty ? ["*"] : types,
                description: form.nonEmpty("description"), scope: session.principal.scope)
            return redirect(URLText.endpoint(endpoint.id), session: session, flash: Flash(.ok, "Endpoint created. Its signing secret, shown once:", secret: secret))
        } catch let problem as APIProblem where problem.status < 500 {
            return redirect("/ui/endpoints", session: session, flash: Flash(.error, "Not created: \(problem.detail)"))
        }
    }

    /// The state badge: disabled, circuit open, or enabled.
    static func state(of endpoint: Endpoint, circuitOpen: Bool) -> (String, String) {
        if !endpoint.enabled { return ("disabled", "bad") }
        if circuitOpen { return ("circuit open", "warn") }
        return ("enabled", "ok")
    }
}
