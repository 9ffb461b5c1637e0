import SluiceAdmin

/// What ends a dashboard request early: a redirect (to the login page, after a form) or an
/// error shown as a page.
///
/// Invariant: ``DashboardMiddleware`` turns every one into a response; the message is
/// operator-facing and never holds a secret.
public enum UIError: Error, Sendable, Equatable {
    /// 303 See Other to a path of this server (never an absolute URL: no open redirect).
    case redirect(String)
    /// A page with the status and message.
    case page(status: Int, title: String, message: String)

    static func notFound(_ message: String) -> UIError { .page(status: 404, title: "Not found", message: message) }
    static func forbidden(_ message: String) -> UIError { .page(status: 403, title: "Not allowed", message: message) }
    static func badRequest(_ message: String) -> UIError { .page(status: 400, title: "Bad request", message: message) }

    /// The same problem as a page.
    init(_ problem: APIProblem) { self = .page(status: problem.status, title: problem.title, message: problem.detail) }

    /// A local path to return to: starts with `/ui` and is not protocol-relative; else `/ui/`.
    static func localPath(_ candidate: String?) -> String {
        guard let candidate, candidate.hasPrefix("/ui"), !candidate.hasPrefix("//"), !candidate.contains("\\"),
            !candidate.unicodeScalars.contains(where: { $0.value < 0x20 })
        else { return "/ui/" }
        return candidate
    }
}
