import Foundation
import Hummingbird
import Logging
import SluiceAdmin
import SluiceCore

/// The dashboard for operators and the portal for tenants, served by `sluice-admin` under
/// `/ui`: pages rendered on the server (mustache, SVG charts), forms with CSRF tokens,
/// sessions in `HttpOnly`, `SameSite=Strict` cookies (`Secure` unless
/// `SLUICE_DASHBOARD_INSECURE_COOKIES=1`, which `sluice dev` sets for plain http).
///
/// Invariant: every page reads through the scoped store in the session's ``AccessScope``
/// and every action goes through ``AdminActions`` (the API's handlers), so a tenant's
/// portal sees its tenant only and another tenant's ids answer 404, as in the API.
///
/// ```swift
/// try await AdminServer.run(runtime: runtime, delivery: delivery, options: options, extensions: [Dashboard(options: .fromEnvironment())])
/// ```
public struct Dashboard: AdminExtension {
    /// How the dashboard sets its cookies and makes portal links.
    public struct Options: Sendable, Equatable {
        /// `Secure` on the session cookie (off only for plain-http development).
        public var secureCookies: Bool
        /// The external URL portal links start with (`SLUICE_ADMIN_PUBLIC_URL`); nil: from
        /// the request's `Host` (https when cookies are secure).
        public var publicURL: String?

        public init(secureCookies: Bool = true, publicURL: String? = nil) {
            (self.secureCookies, self.publicURL) = (secureCookies, publicURL)
        }

        public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Options {
            let insecure = ["1", "true", "yes"].contains(environment["SLUICE_DASHBOARD_INSECURE_COOKIES"]?.lowercased() ?? "")
            let url = environment["SLUICE_ADMIN_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
            return Options(secureCookies: !insecure, publicURL: url)
        }
    }

    public var options: Options

    public init(options: Options = .fromEnvironment()) { self.options = options }

    public func register(on router: Router<BasicRequestContext>, with context: AdminExtensionContext) throws {
        let portalKey = context.delivery.masterKey.flatMap { try? PortalLink.signingKey(masterKeyBase64: $0) }
        let app = DashboardApp(
            store: context.store, actions: context.actions, keys: context.keys, sessions: SessionStore(), renderer: try PageRenderer(),
            portalKey: portalKey, options: options, logger: context.logger)
        let ui = router.group("ui").add(middleware: DashboardMiddleware(renderer: app.renderer, logger: context.logger))
        app.registerAuthRoutes(ui)
        app.registerOverview(ui)
        app.registerEndpointRoutes(ui)
        app.registerEventRoutes(ui)
        app.registerDeadLetterRoutes(ui)
        app.registerPortalRoutes(ui)
        // Any other /ui path: the dashboard's 404 page, not the API's problem JSON.
        ui.get("**") { request, _ -> Response in throw UIError.notFound("there is no page at \(request.uri.path)") }
    }
}

/// What the dashboard's handlers work with (one per server).
struct DashboardApp: Sendable {
    let store: any QueryStore & ActivityStore
    let actions: AdminActions
    let keys: APIKeyDirectory
    let sessions: SessionStore
    let renderer: PageRenderer
    /// Nil when no master key is configured: portal links are then refused with a message.
    let portalKey: [UInt8]?
    let options: Dashboard.Options
    let logger: Logger

    typealias Group = RouterGroup<BasicRequestContext>
}
