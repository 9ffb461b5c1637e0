import Foundation

/// Aggregates of the query store for people watching the pipeline (the dashboard): attempt
/// counts per endpoint and time bucket, the dead-letter count, the newest circuit event per
/// endpoint, one attempt by id. Counted in the store (SQL), never by decoding every attempt.
///
/// Invariant: like every ``QueryStore`` read, each query takes an ``AccessScope`` and
/// counts nothing outside it.
///
/// ```swift
/// let buckets = try await store.activity(scope: .admin, filter: ActivityFilter(since: Date() - 86_400), bucketSeconds: 3600)
/// ```
public protocol ActivityStore: Sendable {
    /// Attempts at or after `filter.since` (rounded down to its minute or hour), counted per
    /// endpoint and `bucketSeconds` bucket (whole minutes, at least one).
    func activity(scope: AccessScope, filter: ActivityFilter, bucketSeconds: Int) async throws -> [ActivityBucket]
    /// How many dead letters the store holds in the scope (of `tenant` too, when given).
    func deadLetterCount(scope: AccessScope, tenant: String?) async throws -> Int
    /// The newest ops event of each of `kinds` per endpoint, in the scope.
    func latestOps(scope: AccessScope, kinds: [String]) async throws -> [StoredOpsEvent]
    /// The attempt `att_<partition>_<offset>` if the scope sees it (nil also for a malformed id).
    func attempt(id: String, scope: AccessScope) async throws -> StoredAttempt?
}

/// Which attempts an activity count covers.
public struct ActivityFilter: Sendable, Equatable {
    public var since: Date
    public var tenant: String?
    public var endpointID: String?

    public init(since: Date, tenant: String? = nil, endpointID: String? = nil) {
        (self.since, self.tenant, self.endpointID) = (since, tenant, endpointID)
    }
}

/// The attempts of one endpoint in one time bucket.
///
/// Invariant: `succeeded + failed == attempts`; `start` is a multiple of the bucket size
/// (unix seconds).
public struct ActivityBucket: Sendable, Equatable {
    public var endpointID: String
    public var tenant: String
    /// The bucket's first second (unix time).
    public var start: Int64
    public var attempts: Int
    /// Answered 2xx.
    public var succeeded: Int
    public var failed: Int { attempts - succeeded }

    public init(endpointID: String, tenant: String, start: Int64, attempts: Int, succeeded: Int) {
        (self.endpointID, self.tenant, self.start, self.attempts, self.succeeded) = (endpointID, tenant, start, attempts, succeeded)
    }
}
