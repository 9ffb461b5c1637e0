import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// Logging in with an admin key, logging out, the static assets, and what every page
/// handler asks first: the request's session (or a redirect to the login page) and, for
/// a form, its CSRF token and the right to write.
extension DashboardApp {
    func registerAuthRoutes(_ ui: Group) {
        ui.get("assets/app.css") { _, _ in HTMLResponse.text(Assets.css, contentType: "text/css; charset=utf-8") }
        ui.get("assets/app.js") { _, _ in HTMLResponse.text(Assets.js, contentType: "text/javascript; charset=utf-8") }
        ui.get("login") { request, _ in loginPage(next: request.uri.queryParameters["next"].map(String.init), message: nil) }
        ui.post("login") { request, _ in try await login(request) }
        ui.post("logout") { request, _ in
            let form = try await readForm(request)
            var response = HTMLResponse.redirect("/ui/login")
            if let token = SessionCookies.value(SessionCookies.session, in: request), let session = sessions.session(token: token),
                session.checks(csrf: form["_csrf"])
            {
                sessions.remove(token: token)
            }
            response.setCookie(SessionCookies.expired(SessionCookies.session, secure: options.secureCookies))
            return response
        }
    }

    /// The login form, with a fresh double-submit token in a cookie and the form.
    func loginPage(next: String?, message: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = RandomID.make(length: 32)
        var data: [String: Any] = ["csrf": token, "next": UIError.localPath(next)]
        if let message { data["message"] = message }
        var response = HTMLResponse.page(renderer.standalone("login", data), status: status)
        response.setCookie(SessionCookies.make(SessionCookies.login, value: token, maxAge: 3600, secure: options.secureCookies))
        return response
    }

    func login(_ request: Request) async throws -> Response {
        let form = try await readForm(request)
        let next = UIError.localPath(form["next"])
        guard let expected = SessionCookies.value(SessionCookies.login, in: request), let given = form["_csrf"],
            ConstantTime.equal(Array(expected.utf8), Array(given.utf8))
        else {
            return loginPage(next: next, message: "The login form expired (or cookies are off); try again.", status: .forbidden)
        }
        guard let presented = form.nonEmpty("key"), presented.utf8.count <= 256 else {
            return loginPage(next: next, message: "Enter an admin API key (sk_…).", status: .unauthorized)
        }
        let key: APIKey?
        do { key = try await keys.authenticate(presented) } catch {
            return loginPage(next: next, message: "The API keys cannot be read from the broker now; try again shortly.", status: .serviceUnavailable)
        }
        guard let key else {
            return loginPage(next: next, message: "This key is unknown or revoked (sluice keys list shows the live ones).", status: .unauthorized)
        }
        guard key.admin else {
            return loginPage(next: next, message: "This is a tenant key; the dashboard takes admin keys. Tenants use a portal link (sluice portal-link).", status: .forbidden)
        }
        let session = sessions.create(.admin(key: presented), ttl: SessionStore.adminTTL)
        logger.info("dashboard login", metadata: ["key": "\(key.id)"])
        var response = HTMLResponse.redirect(next)
        response.setCookie(SessionCookies.make(SessionCookies.session, value: session.token, maxAge: Int(SessionStore.adminTTL.components.seconds), secure: options.secureCookies))
        response.setCookie(SessionCookies.expired(SessionCookies.login, secure: options.secureCookies))
        return response
    }

    /// The request's live session; else a redirect to the login page (back here after).
    func session(_ request: Request) async throws -> DashboardSession {
        guard let token = SessionCookies.value(SessionCookies.session, in: request), let session = sessions.session(token: token) else {
            throw UIError.redirect("/ui/login?next=" + URLText.query(request.uri.path))
        }
        if case .admin(let presented) = session.principal {
            let key: APIKey?
            do { key = try await keys.authenticate(presented) } catch {
                throw UIError.page(status: 503, title: "Not available now", message: "the API keys cannot be read from the broker now; try again shortly")
            }
            guard key?.admin == true else {
                sessions.remove(token: token)
                throw UIError.redirect("/ui/login")
            }
        }
        return session
    }

    /// The session of a form post: its CSRF token checked, and refused for a read-only portal.
    func writer(_ request: Request) async throws -> (DashboardSession, FormBody) {
        let session = try await session(request)
        let form = try await readForm(request)
        guard session.checks(csrf: form["_csrf"]) else {
            throw UIError.forbidden("the form's CSRF token does not match this session; reload the page and try again")
        }
        guard !session.principal.readOnly else { throw UIError.forbidden("this portal link is read-only") }
        return (session, form)
    }

    func readForm(_ request: Request) async throws -> FormBody {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: FormBody.maxBytes) } catch {
            throw UIError.page(status: 413, title: "Too large", message: "the form is larger than \(FormBody.maxBytes / 1024) KiB")
        }
        do { return try FormBody(parsing: String(buffer: buffer)) } catch { throw UIError.badRequest(error.description) }
    }

    /// The flash kept for the session (once).
    func flash(_ session: DashboardSession) -> Flash? { sessions.takeFlash(token: session.token) }

    /// Keeps `flash` for the next page and redirects there.
    func redirect(_ path: String, session: DashboardSession, flash: Flash) -> Response {
        sessions.setFlash(flash, token: session.token)
        return HTMLResponse.redirect(path)
    }
}
