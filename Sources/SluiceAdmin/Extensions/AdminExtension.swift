import Hummingbird
import Logging
import SluiceCore

/// Routes served by `sluice-admin` beside the API, from another module (the dashboard and
/// tenant portal under `/ui`): ``AdminServer/run(runtime:delivery:options:extensions:)``
/// registers each on the server's router with what the API itself works with.
///
/// Invariant: an extension reads through the scoped store and writes through
/// ``AdminActions`` (the API's own handlers), so it cannot bypass tenant scoping or the
/// checks of a route; it must not register paths under `/v1`.
///
/// ```swift
/// struct Hello: AdminExtension {
///     func register(on router: Router<BasicRequestContext>, with context: AdminExtensionContext) throws {
///         router.get("/hello") { _, _ in "hi" }
///     }
/// }
/// ```
public protocol AdminExtension: Sendable {
    func register(on router: Router<BasicRequestContext>, with context: AdminExtensionContext) throws
}

/// What an ``AdminExtension`` gets: the store (reads and aggregates), the API's actions,
/// the key directory (to check a presented key), the delivery settings (the master key)
/// and the logger.
public struct AdminExtensionContext: Sendable {
    public var store: any QueryStore & ActivityStore
    public var actions: AdminActions
    public var keys: APIKeyDirectory
    public var delivery: DeliverySettings
    public var logger: Logger

    public init(store: any QueryStore & ActivityStore, actions: AdminActions, keys: APIKeyDirectory, delivery: DeliverySettings, logger: Logger) {
        (self.store, self.actions, self.keys, self.delivery, self.logger) = (store, actions, keys, delivery, logger)
    }
}
