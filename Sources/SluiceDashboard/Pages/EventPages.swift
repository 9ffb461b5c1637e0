import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// `/ui/events`: look an event up by id; `/ui/events/{id}`: its payload (fetched from its
/// topic), how its delivery stands per endpoint, and resend / replay buttons.
extension DashboardApp {
    func registerEventRoutes(_ ui: Group) {
        ui.get("events") { request, _ in
            let session = try await session(request)
            if let id = request.uri.queryParameters["id"].map(String.init)?.trimmingCharacters(in: .whitespaces), !id.isEmpty {
                return HTMLResponse.redirect(URLText.event(id))
            }
            return HTMLResponse.page(renderer.page("events", ["query": ""], chrome: .init(title: "Events", session: session, active: "events", flash: flash(session))))
        }
        ui.get("events/:id") { request, context in try await eventPage(request, id: try context.parameters.require("id")) }
        ui.post("events/:id/resend") { request, context in try await resend(request, eventID: try context.parameters.require("id")) }
    }

    func eventPage(_ request: Request, id: String) async throws -> Response {
        let session = try await session(request)
        let detail = try await actions.event(id, scope: session.principal.scope)
        let e = detail.event
        var pending = false
        let deliveries = detail.deliveries.map { d -> [String: Any] in
            if d.state == .pending || d.state == .retrying { pending = true }
            var row: [String: Any] = [
                "endpointID": d.endpointID, "endpointHref": URLText.endpoint(d.endpointID), "state": d.state.rawValue,
                "stateClass": d.state == .delivered ? "ok" : d.state == .dead || d.state == .dropped ? "bad" : "warn", "dead": d.state == .dead,
                "attempts": d.attempts.map { a -> [String: Any] in
                    var view = AttemptView.row(a)
                    view["drawerHref"] = URLText.link(URLText.endpoint(d.endpointID), ["event": e.eventID, "attempt": a.id])
                    return view
                },
            ]
            if let next = d.nextAttemptAt { row["nextAttempt"] = Format.time(next) }
            return row
        }
        var data: [String: Any] = [
            "id": e.eventID, "eventID": e.eventID, "eventPathID": URLText.segment(e.eventID), "type": e.eventType, "tenant": e.tenant,
            "received": Format.time(e.at), "topic": e.topic, "partition": e.partition, "offset": e.offset, "deliveries": deliveries,
        ]
        if let body = detail.body { data["payload"] = Self.pretty(body) }
        let chrome = PageRenderer.Chrome(title: "Event", session: session, active: "events", flash: flash(session), refresh: pending ? 3 : nil)
        return HTMLResponse.page(renderer.page("event", data, chrome: chrome))
    }

    func resend(_ request: Request, eventID: String) async throws -> Response {
        let (session, form) = try await writer(request)
        guard let endpointID = form.nonEmpty("endpoint_id") else { throw UIError.badRequest("name the endpoint to resend to (endpoint_id)") }
        do {
            let replay = try await actions.resend(eventID: eventID, endpointID: endpointID, scope: session.principal.scope)
            return redirect(URLText.event(eventID), session: session, flash: Flash(.ok, "Sent again to \(endpointID) (resend \(replay)); its attempt appears here within a few seconds."))
        } catch let problem as APIProblem where problem.status != 404 && problem.status < 500 {
            return redirect(URLText.event(eventID), session: session, flash: Flash(.error, problem.detail))
        }
    }

    /// A JSON body indented (as text, escaped by the template); other bytes as UTF-8 text.
    static func pretty(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        {
            return String(decoding: data, as: UTF8.self)
        }
        return String(decoding: body, as: UTF8.self)
    }
}
