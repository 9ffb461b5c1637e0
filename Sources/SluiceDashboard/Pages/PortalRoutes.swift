import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// The tenant portal: `GET /ui/portal?token=…` turns a signed link into a tenant session;
/// operators make links on `/ui/portal-links` (a form) or with `POST /ui/portal-links`
/// (`Authorization: Bearer` admin key, JSON `{tenant, ttl?, read_only?}`; kept outside the
/// OpenAPI document, under `/ui`).
extension DashboardApp {
    func registerPortalRoutes(_ ui: Group) {
        ui.get("portal") { request, _ in try await enterPortal(request) }
        ui.get("portal-links") { request, _ in
            let session = try await session(request)
            guard session.principal.isAdmin else { throw UIError.notFound("there is no page at /ui/portal-links") }
            return HTMLResponse.page(renderer.page("portal-links", [:], chrome: .init(title: "Portal links", session: session, active: "portal", flash: flash(session))))
        }
        ui.post("portal-links") { request, _ in try await makePortalLink(request) }
    }

    func enterPortal(_ request: Request) async throws -> Response {
        guard let key = portalKey else { throw UIError.page(status: 503, title: "Portal off", message: PortalLinkError.noKey.description) }
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        let link: PortalLink
        do { link = try PortalLink.verify(token, key: key) } catch {
            throw UIError.page(status: error == .expired ? 410 : 403, title: "Portal link refused", message: error.description)
        }
        let ttl = Duration.seconds(max(1, link.expires - Int64(Date().timeIntervalSince1970)))
        let session = sessions.create(.tenant(link.tenant, readOnly: link.readOnly), ttl: ttl)
        logger.info("portal session", metadata: ["tenant": "\(link.tenant)", "read_only": "\(link.readOnly)"])
        var response = HTMLResponse.redirect("/ui/endpoints")
        response.setCookie(SessionCookies.make(SessionCookies.session, value: session.token, maxAge: Int(ttl.components.seconds), secure: options.secureCookies))
        return response
    }

    /// From the form (admin session + CSRF) or from a program (admin bearer key, JSON).
    func makePortalLink(_ request: Request) async throws -> Response {
        guard let key = portalKey else { throw UIError.page(status: 503, title: "Portal off", message: PortalLinkError.noKey.description) }
        if let header = request.headers[.authorization] {
            return try await portalLinkForProgram(request, authorization: header, key: key)
        }
        let (session, form) = try await writer(request)
        guard session.principal.isAdmin else { throw UIError.notFound("there is no page at /ui/portal-links") }
        let link: PortalLink
        do {
            link = try PortalLink(tenant: form.nonEmpty("tenant") ?? "", ttl: try ttl(form["ttl"]), readOnly: form["read_only"] == "1")
        } catch { throw UIError.badRequest(error.description) }
        let data: [String: Any] = [
            "link": ["tenant": link.tenant, "readOnly": link.readOnly, "expires": Format.time(link.expiresAt), "url": link.url(base: baseURL(request), key: key)],
        ]
        return HTMLResponse.page(renderer.page("portal-links", data, chrome: .init(title: "Portal links", session: session, active: "portal")))
    }

    func portalLinkForProgram(_ request: Request, authorization: String, key: [UInt8]) async throws -> Response {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let apiKey = try await keys.authenticate(String(parts[1])), apiKey.admin else {
            return HTMLResponse.json(["detail": "send Authorization: Bearer with a live admin key (sluice keys create --admin)"], status: .unauthorized)
        }
        let buffer = try await request.body.collect(upTo: 16 * 1024)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any], let tenant = object["tenant"] as? String else {
            return HTMLResponse.json(["detail": "send JSON {\"tenant\": \"acme\", \"ttl\": \"1h\", \"read_only\": true}"], status: .badRequest)
        }
        do {
            let link = try PortalLink(tenant: tenant, ttl: try ttl(object["ttl"] as? String), readOnly: object["read_only"] as? Bool ?? false)
            return HTMLResponse.json(
                ["url": link.url(base: baseURL(request), key: key), "tenant": link.tenant, "read_only": link.readOnly, "expires_at": link.expiresAt.formatted(.iso8601)],
                status: .created)
        } catch {
            return HTMLResponse.json(["detail": error.description], status: .unprocessableContent)
        }
    }

    func ttl(_ text: String?) throws(PortalLinkError) -> Duration {
        guard let text, !text.isEmpty else { return .seconds(3600) }
        guard let parsed = DurationText.parse(text) else { throw .badTTL }
        return parsed
    }

    /// Where links point: the configured public URL, else this request's host.
    func baseURL(_ request: Request) -> String {
        if let url = options.publicURL { return url }
        let host = request.head.authority.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        return (options.secureCookies ? "https://" : "http://") + host
    }
}
