import Hummingbird
import SluiceCore

/// Checks `Authorization: Bearer sk_…` on every `/v1` route but the OpenAPI document and
/// runs the rest of the request in the key's ``AccessScope`` (``AccessScope/current``).
///
/// Invariant: a request without a live key never reaches a handler of a `/v1` route;
/// handlers read the scope only through ``AccessScope/required()``.
///
/// ```swift
/// router.add(middleware: AuthMiddleware(keys: keys))
/// ```
public struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    public static var openPaths: Set<String> { ["/healthz", "/readyz", "/v1/openapi.yaml"] }
    public let keys: APIKeyDirectory

    public init(keys: APIKeyDirectory) { self.keys = keys }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") || path == "/v1", !Self.openPaths.contains(path) else { return try await next(request, context) }
        guard let header = request.headers[.authorization] else {
            throw APIProblem.unauthorized("send Authorization: Bearer sk_…; an operator makes a key with `sluice keys create --tenant T`")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIProblem.unauthorized("the Authorization header must be `Bearer sk_…`")
        }
        let presented = parts[1].trimmingCharacters(in: .whitespaces)
        let key: APIKey?
        do { key = try await keys.authenticate(presented) } catch {
            throw APIProblem.unavailable("cannot read the API keys from the broker now; try again shortly")
        }
        guard let key else {
            throw APIProblem.unauthorized("this API key is unknown or revoked; `sluice keys list` shows the live ones")
        }
        let scope: AccessScope = key.tenant.map { .tenant($0) } ?? .admin
        return try await AccessScope.$current.withValue(scope) { try await next(request, context) }
    }
}

extension AccessScope {
    /// The scope of the current request; a handler reached without one is a wiring error,
    /// answered 401 rather than served unscoped.
    static func required() throws -> AccessScope {
        guard let scope = current else { throw APIProblem.unauthorized("send Authorization: Bearer sk_…") }
        return scope
    }
}
