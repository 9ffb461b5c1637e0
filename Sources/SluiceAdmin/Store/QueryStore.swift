import Foundation
import SluiceCore
import SluiceKafka

/// The admin API's query store: a cache of the topics (endpoints, attempts, dead letters,
/// ops events), materialised
/// by ``StoreMaterialiser`` and read by the routes. SQLite today (``SQLiteQueryStore``);
/// the protocol is what a PostgreSQL backend would implement.
///
/// Invariants:
/// - ``apply(_:)`` writes a batch's rows and the topic positions they reach in one
///   transaction, so a restart resumes exactly where the rows end, and an empty store
///   (a deleted file) is rebuilt by reading the topics from the beginning.
/// - Every query takes an ``AccessScope`` as a required argument and returns nothing
///   outside it: scoping lives here, not in the routes.
///
/// ```swift
/// let page = try await store.attempts(scope: .tenant("acme"), filter: AttemptFilter(endpointID: "ep_1"), page: PageRequest())
/// ```
public protocol QueryStore: Sendable {
    /// The next offset to read of each partition of `topic` that rows came from.
    func positions(topic: String) async throws -> [TopicPartition: Int64]
    /// Applies a batch and its positions atomically.
    func apply(_ batch: StoreBatch) async throws

    func endpoint(id: String, scope: AccessScope) async throws -> Endpoint?
    /// Endpoints in the scope (of `tenant` too, when given), newest first.
    func endpoints(scope: AccessScope, tenant: String?, page: PageRequest) async throws -> Page<Endpoint>
    /// Attempts in the scope matching `filter`, newest first.
    func attempts(scope: AccessScope, filter: AttemptFilter, page: PageRequest) async throws -> Page<StoredAttempt>
    /// Dead letters in the scope matching `filter` (endpoint, event, parked since/until), newest first.
    func deadLetters(scope: AccessScope, filter: AttemptFilter, page: PageRequest) async throws -> Page<StoredDeadLetter>
    /// Ops events in the scope matching `filter`, newest first.
    func opsEvents(scope: AccessScope, filter: OpsFilter, page: PageRequest) async throws -> Page<StoredOpsEvent>
    /// The newest `limit` attempts of one endpoint at or after `since`, in the scope (for stats).
    func endpointAttempts(endpointID: String, scope: AccessScope, since: Date, limit: Int) async throws -> [Attempt]
    /// The indexed events with id `id` in the scope, newest first (an id may repeat: producers choose them).
    func events(id: String, scope: AccessScope) async throws -> [StoredEvent]
    /// Deletes attempts, dead letters, ops events, indexed events and idempotency answers
    /// older than `cutoff` (retention by age); returns how many rows went.
    func prune(olderThan cutoff: Date) async throws -> Int
    /// The master key ids the stored endpoints' secrets are sealed under (every tenant:
    /// it decides which key may seal, and returns no object).
    func sealingKeyIDs() async throws -> Set<String>

    /// The event ids answered to `key` of the scope's tenant since `since`, if any.
    func idempotentAnswer(scope: AccessScope, tenant: String, key: String, since: Date) async throws -> [String]?
    /// Remembers the answer to `key` (replacing an older one).
    func rememberIdempotent(scope: AccessScope, tenant: String, key: String, ids: [String], at: Date) async throws
}

/// Rows from consumed records, with the positions they reach.
public struct StoreBatch: Sendable {
    /// A change of `sluice.endpoints`, in record order.
    public enum EndpointChange: Sendable {
        case upsert(Endpoint)
        case delete(id: String)
    }

    public var endpoints: [EndpointChange] = []
    public var attempts: [StoredAttempt] = []
    public var deadLetters: [StoredDeadLetter] = []
    public var opsEvents: [StoredOpsEvent] = []
    public var events: [StoredEvent] = []
    /// The next offset per partition after this batch (markers and skipped records included).
    public var positions: [TopicPartition: Int64] = [:]

    public init() {}

    /// Leaves out the rows older than `cutoff` (retention by age applies as rows arrive
    /// too, so a store rebuilt from the topics holds what a pruned one does).
    public mutating func dropRows(olderThan cutoff: Date) {
        attempts.removeAll { $0.attempt.at < cutoff }
        deadLetters.removeAll { $0.deadAt < cutoff }
        opsEvents.removeAll { $0.at < cutoff }
        events.removeAll { $0.at < cutoff }
    }
}

/// An attempt with its stable id (from its place in `sluice.attempts`).
public struct StoredAttempt: Sendable, Equatable {
    public var id: String
    public var partition: Int32
    public var offset: Int64
    public var attempt: Attempt

    public init(partition: Int32, offset: Int64, attempt: Attempt) {
        self.id = "att_\(partition)_\(offset)"
        self.partition = partition
        self.offset = offset
        self.attempt = attempt
    }
}

/// Which attempts a list shows.
public struct AttemptFilter: Sendable, Equatable {
    public var endpointID: String?
    public var eventID: String?
    /// Narrows an admin scope to one tenant (a tenant scope is its tenant already).
    public var tenant: String?
    public var outcome: Attempt.Outcome?
    public var statusClass: StatusClass?
    /// Dead letters only: their event's type, exact or `prefix.*` (`*` matches all).
    public var eventType: String?
    /// At or after.
    public var since: Date?
    /// Before.
    public var until: Date?

    public init(
        endpointID: String? = nil, eventID: String? = nil, tenant: String? = nil, outcome: Attempt.Outcome? = nil,
        statusClass: StatusClass? = nil, since: Date? = nil, until: Date? = nil
    ) {
        (self.endpointID, self.eventID, self.tenant, self.outcome) = (endpointID, eventID, tenant, outcome)
        (self.statusClass, self.since, self.until) = (statusClass, since, until)
    }
}

/// A class of HTTP answers: `2xx` … or `none` (no response: timeout, connection error, refused).
public enum StatusClass: String, Sendable, Equatable, CaseIterable {
    case informational = "1xx", success = "2xx", redirect = "3xx", clientError = "4xx", serverError = "5xx", none

    /// The status / 100 of the class; nil for `none`.
    public var hundreds: Int? {
        switch self {
        case .informational: return 1
        case .success: return 2
        case .redirect: return 3
        case .clientError: return 4
        case .serverError: return 5
        case .none: return nil
        }
    }
}

/// A page request: at most `limit` items after `iterator` (nil: from the newest).
public struct PageRequest: Sendable, Equatable {
    public static let limits = 1...250
    public var limit: Int
    public var iterator: String?

    public init(limit: Int = 50, iterator: String? = nil) {
        self.limit = limit
        self.iterator = iterator
    }
}

/// A page of a list: `iterator` continues it; `done` when nothing follows.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var iterator: String?
    public var done: Bool { iterator == nil }

    public init(items: [Item], iterator: String?) {
        self.items = items
        self.iterator = iterator
    }
}

/// Why the store refused a query.
public enum QueryStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An iterator this store did not hand out.
    case badIterator
    case scope(String)

    public var description: String {
        switch self {
        case .badIterator: return "the iterator is not one this API returned; start again without it"
        case .scope(let why): return why
        }
    }
}
