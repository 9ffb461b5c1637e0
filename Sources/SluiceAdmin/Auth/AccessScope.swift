/// What a request may see: every tenant (an admin key) or one tenant (a tenant key).
///
/// Invariant: every query of the ``QueryStore`` takes a scope as a required argument and
/// filters by it, so no route can read another tenant's rows; an object outside the scope
/// is answered like a missing one (404).
///
/// ```swift
/// let scope = AccessScope.tenant("acme")
/// scope.allows(tenant: "globex")   // false
/// ```
public enum AccessScope: Sendable, Equatable, CustomStringConvertible {
    case admin
    case tenant(String)

    /// The scope of the request being handled, set by ``AuthMiddleware`` for every `/v1`
    /// route that needs a key.
    @TaskLocal public static var current: AccessScope?

    /// True when an object of `tenant` is visible in this scope.
    public func allows(tenant: String) -> Bool {
        switch self {
        case .admin: return true
        case .tenant(let own): return own == tenant
        }
    }

    /// The tenant a tenant key is for; nil for an admin key.
    public var tenant: String? {
        if case .tenant(let own) = self { return own }
        return nil
    }

    public var description: String {
        switch self {
        case .admin: return "admin"
        case .tenant(let own): return "tenant \(own)"
        }
    }
}
