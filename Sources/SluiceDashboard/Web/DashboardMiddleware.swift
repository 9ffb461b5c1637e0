import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceAdmin

/// Wraps every `/ui` request: turns ``UIError`` and ``APIProblem`` into a page or a redirect
/// (never the API's problem JSON), any other error into a 500 page that hides its text,
/// and adds the security headers (a strict CSP: no inline script, no framing; no referrer,
/// so a portal link's token never leaves in a `Referer`; no caching).
struct DashboardMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let renderer: PageRenderer
    let logger: Logger

    static let securityHeaders: [(HTTPField.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (.cacheControl, "no-store"),
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as UIError {
            response = render(error)
        } catch let problem as APIProblem {
            response = render(UIError(problem))
        } catch let error as HTTPError where error.status == .notFound {
            response = render(.notFound("there is no page at \(request.uri.path)"))
        } catch {
            logger.error("dashboard request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = render(.page(status: 500, title: "Internal error", message: "the page could not be made; the server's log has the details"))
        }
        for (name, value) in Self.securityHeaders where response.headers[name] == nil { response.headers[name] = value }
        return response
    }

    func render(_ error: UIError) -> Response {
        switch error {
        case .redirect(let path): return HTMLResponse.redirect(path)
        case .page(let status, let title, let message):
            let html = renderer.standalone("error", ["status": status, "title": title, "message": message])
            return HTMLResponse.page(html, status: HTTPResponse.Status(code: status))
        }
    }
}

/// Responses of the dashboard.
enum HTMLResponse {
    static func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 to a local path (``UIError/localPath(_:)`` keeps it local).
    static func redirect(_ path: String) -> Response {
        Response(status: .seeOther, headers: [.location: UIError.localPath(path)])
    }

    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
