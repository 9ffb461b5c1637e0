import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// `/ui/dead-letters` (filters, paging, dry-run preview and replay through the API's replay
/// task), `/ui/tasks/{id}` (the task's progress, refreshing itself while it runs) and
/// `/ui/ops` (ops events).
extension DashboardApp {
    func registerDeadLetterRoutes(_ ui: Group) {
        ui.get("dead-letters") { request, _ in try await deadLetters(request) }
        ui.post("dead-letters/replay") { request, _ in try await replay(request) }
        ui.get("tasks/:id") { request, context in try await task(request, id: try context.parameters.require("id")) }
        ui.get("ops") { request, _ in try await opsEvents(request) }
    }

    func deadLetters(_ request: Request) async throws -> Response {
        let session = try await session(request)
        let query = request.uri.queryParameters
        let text = { (name: String) in query[Substring(name)].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "" }
        let (endpoint, tenant, type, since, until) = (text("endpoint"), text("tenant"), text("type"), text("since"), text("until"))
        var filter = AttemptFilter(
            endpointID: endpoint.isEmpty ? nil : endpoint, tenant: tenant.isEmpty ? nil : tenant,
            since: try Format.parseTime(since, field: "since"), until: try Format.parseTime(until, field: "until"))
        filter.eventType = type.isEmpty ? nil : type
        let iterator = query["after"].map(String.init)
        let page: Page<StoredDeadLetter>
        do { page = try await store.deadLetters(scope: session.principal.scope, filter: filter, page: PageRequest(limit: 50, iterator: iterator)) } catch is QueryStoreError {
            throw UIError.badRequest("that page link is not one this dashboard made; start from the first page")
        }
        let parameters: [String: String?] = ["endpoint": endpoint, "tenant": tenant, "type": type, "since": since, "until": until]
        var data: [String: Any] = [
            "filter": ["endpoint": endpoint, "tenant": tenant, "type": type, "since": since, "until": until],
            "filtered": parameters.values.contains { !($0 ?? "").isEmpty },
            "rows": page.items.map { d -> [String: Any] in
                var row: [String: Any] = [
                    "at": Format.time(d.deadAt), "eventID": d.eventID, "eventHref": URLText.event(d.eventID), "eventType": d.eventType,
                    "endpointID": d.endpointID, "endpointHref": URLText.endpoint(d.endpointID), "tenant": d.tenant, "attempts": d.attempts,
                    "reason": d.reason, "finalError": d.finalError,
                ]
                if let replay = d.replayID { row["replayID"] = replay }
                return row
            },
        ]
        if let next = page.iterator { data["nextHref"] = URLText.link("/ui/dead-letters", parameters.merging(["after": next]) { _, new in new }) }
        if iterator != nil { data["firstHref"] = URLText.link("/ui/dead-letters", parameters) }
        return HTMLResponse.page(renderer.page("dead-letters", data, chrome: .init(title: "Dead letters", session: session, active: "dead-letters", flash: flash(session))))
    }

    func replay(_ request: Request) async throws -> Response {
        let (session, form) = try await writer(request)
        let dryRun = form["mode"] == "dry-run"
        let named = ["endpoint", "tenant", "type", "event", "since", "until"].contains { form.nonEmpty($0) != nil }
        do {
            let task = try await actions.replayDeadLetters(
                endpointID: form.nonEmpty("endpoint"), tenant: form.nonEmpty("tenant"), eventType: form.nonEmpty("type"), eventID: form.nonEmpty("event"),
                since: try Format.parseTime(form["since"], field: "since"), until: try Format.parseTime(form["until"], field: "until"),
                all: !named && !dryRun, dryRun: dryRun, scope: session.principal.scope)
            return HTMLResponse.redirect("/ui/tasks/" + URLText.segment(task.id))
        } catch let problem as APIProblem where problem.status < 500 {
            return redirect("/ui/dead-letters", session: session, flash: Flash(.error, problem.detail))
        }
    }

    func task(_ request: Request, id: String) async throws -> Response {
        let session = try await session(request)
        guard let entry = actions.task(id, scope: session.principal.scope) else {
            throw UIError.notFound("no task \(id) on this server (tasks live in the server that started them, until it restarts)")
        }
        let p = entry.progress
        let running = entry.state == .running
        var data: [String: Any] = [
            "id": entry.id, "state": entry.state.rawValue, "stateClass": running ? "warn" : entry.state == .succeeded ? "ok" : "bad",
            "dryRun": entry.dryRun, "replayID": entry.replayID ?? "–", "matched": p.matched, "toSend": p.toSend, "sent": p.sent,
            "alreadySent": p.alreadySent, "endpointUnavailable": p.endpointUnavailable, "running": running,
            "progressSvg": SVGChart.rateBar(p.toSend > 0 ? Double(p.sent) / Double(p.toSend) : (running ? 0 : 1), width: 320),
        ]
        if let error = entry.error { data["error"] = error }  // a section on "" would still show
        if let summary = entry.summary { data["summary"] = summary }
        let kind = entry.kind == .historyReplay ? "History replay" : "Dead-letter replay"
        let title = entry.dryRun ? "\(kind) preview (dry run)" : kind
        return HTMLResponse.page(renderer.page("task", data, chrome: .init(title: title, session: session, active: entry.kind == .historyReplay ? "endpoints" : "dead-letters", refresh: running ? 1 : nil)))
    }

    func opsEvents(_ request: Request) async throws -> Response {
        let session = try await session(request)
        let query = request.uri.queryParameters
        let kind = query["kind"].map(String.init) ?? ""
        let endpoint = query["endpoint"].map(String.init) ?? ""
        let iterator = query["after"].map(String.init)
        let filter = OpsFilter(endpointID: endpoint.isEmpty ? nil : endpoint, kind: kind.isEmpty ? nil : kind)
        let page: Page<StoredOpsEvent>
        do { page = try await store.opsEvents(scope: session.principal.scope, filter: filter, page: PageRequest(limit: 50, iterator: iterator)) } catch is QueryStoreError {
            throw UIError.badRequest("that page link is not one this dashboard made; start from the first page")
        }
        let kinds = ["circuit_opened", "circuit_closed", "endpoint_disabled", "dead_letters", "secret_unreadable", "endpoint_test"]
        var data: [String: Any] = [
            "kinds": kinds.map { ["value": $0, "selected": $0 == kind] }, "endpoint": endpoint,
            "rows": page.items.map { o -> [String: Any] in
                [
                    "at": Format.time(o.at), "kind": o.kind, "kindClass": o.kind == "circuit_closed" ? "ok" : o.kind == "endpoint_test" ? "" : "warn",
                    "endpointID": o.endpointID, "endpointHref": URLText.endpoint(o.endpointID), "tenant": o.tenant, "detail": o.detail,
                ]
            },
        ]
        let parameters: [String: String?] = ["kind": kind, "endpoint": endpoint]
        if let next = page.iterator { data["nextHref"] = URLText.link("/ui/ops", parameters.merging(["after": next]) { _, new in new }) }
        if iterator != nil { data["firstHref"] = URLText.link("/ui/ops", parameters) }
        return HTMLResponse.page(renderer.page("ops", data, chrome: .init(title: "Ops events", session: session, active: "ops", flash: flash(session), refresh: 10)))
    }
}
