import Foundation
import GRDB
import SluiceCore
import SluiceKafka

/// The ``QueryStore`` on one SQLite file (GRDB, WAL: readers beside one writer).
///
/// Invariant: rows and the positions they reach are written in one transaction; an
/// endpoint row is replaced only by an equal or higher revision; every read goes through
/// ``ScopedQuery``, which adds the scope's tenant condition.
///
/// ```swift
/// let store = try SQLiteQueryStore(path: ".sluice-admin/store.sqlite")
/// try await store.apply(batch)
/// ```
public final class SQLiteQueryStore: QueryStore {
    let pool: DatabasePool

    /// Opens (creating when missing) the store at `path` and migrates it.
    public init(path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE positions (topic TEXT NOT NULL, part INTEGER NOT NULL, next_offset INTEGER NOT NULL, PRIMARY KEY (topic, part));
                CREATE TABLE endpoints (
                    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, created_ms INTEGER NOT NULL, revision INTEGER NOT NULL,
                    key_id TEXT, record BLOB NOT NULL);
                CREATE INDEX endpoints_by_tenant ON endpoints (tenant, created_ms, id);
                CREATE INDEX endpoints_by_time ON endpoints (created_ms, id);
                CREATE TABLE attempts (
                    part INTEGER NOT NULL, off INTEGER NOT NULL, tenant TEXT NOT NULL, endpoint_id TEXT NOT NULL,
                    event_id TEXT NOT NULL, at_ms INTEGER NOT NULL, record BLOB NOT NULL, PRIMARY KEY (part, off)) WITHOUT ROWID;
                CREATE INDEX attempts_by_time ON attempts (at_ms, part, off);
                CREATE INDEX attempts_by_tenant ON attempts (tenant, at_ms, part, off);
                CREATE INDEX attempts_by_endpoint ON attempts (endpoint_id, at_ms, part, off);
                CREATE INDEX attempts_by_event ON attempts (event_id, at_ms, part, off);
                CREATE TABLE idempotency (tenant TEXT NOT NULL, key TEXT NOT NULL, ids TEXT NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (tenant, key));
                """)
        }
        migrator.registerMigration("v2: dead letters and ops events") { db in
            try db.execute(sql: """
                CREATE TABLE dead_letters (
                    part INTEGER NOT NULL, off INTEGER NOT NULL, tenant TEXT NOT NULL, endpoint_id TEXT NOT NULL,
                    event_id TEXT NOT NULL, event_type TEXT NOT NULL, reason TEXT NOT NULL, final_error TEXT NOT NULL,
                    attempts INTEGER NOT NULL, dead_at_ms INTEGER NOT NULL, replay_id TEXT, PRIMARY KEY (part, off)) WITHOUT ROWID;
                CREATE INDEX dead_letters_by_time ON dead_letters (dead_at_ms, part, off);
                CREATE INDEX dead_letters_by_tenant ON dead_letters (tenant, dead_at_ms, part, off);
                CREATE INDEX dead_letters_by_endpoint ON dead_letters (endpoint_id, dead_at_ms, part, off);
                CREATE TABLE ops_events (
                    part INTEGER NOT NULL, off INTEGER NOT NULL, tenant TEXT NOT NULL, endpoint_id TEXT NOT NULL,
                    kind TEXT NOT NULL, detail TEXT NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (part, off)) WITHOUT ROWID;
                CREATE INDEX ops_events_by_time ON ops_events (at_ms, part, off);
                CREATE INDEX ops_events_by_tenant ON ops_events (tenant, at_ms, part, off);
                """)
        }
        registerEventMigration(&migrator)
        registerActivityMigration(&migrator)
        return migrator
    }

    public func positions(topic: String) async throws -> [TopicPartition: Int64] {
        try await pool.read { db in
            var positions: [TopicPartition: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT part, next_offset FROM positions WHERE topic = ?", arguments: [topic]) {
                let part: Int64 = row["part"]
                guard let partition = Int32(exactly: part) else { continue }
                positions[TopicPartition(topic, partition)] = row["next_offset"]
            }
            return positions
        }
    }

    public func apply(_ batch: StoreBatch) async throws {
        let endpointRows = try batch.endpoints.map { change -> (StoreBatch.EndpointChange, Data?) in
            if case .upsert(let endpoint) = change { return (change, Data(try endpoint.wireBytes())) }
            return (change, nil)
        }
        let attemptRows = try batch.attempts.map { ($0, Data(try $0.attempt.wireBytes())) }
        try await pool.write { db in
            for (change, record) in endpointRows {
                switch change {
                case .upsert(let e):
                    try db.execute(
                        sql: """
                            INSERT INTO endpoints (id, tenant, created_ms, revision, key_id, record) VALUES (?, ?, ?, ?, ?, ?)
                            ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, created_ms = excluded.created_ms,
                                revision = excluded.revision, key_id = excluded.key_id, record = excluded.record
                            WHERE excluded.revision >= endpoints.revision
                            """,
                        arguments: [e.id, e.tenant, Millis.of(e.createdAt), e.revision, SecretBox.keyID(ofSealed: e.sealedSecret), record])
                case .delete(let id):
                    try db.execute(sql: "DELETE FROM endpoints WHERE id = ?", arguments: [id])
                }
            }
            for (stored, record) in attemptRows {
                let a = stored.attempt
                try db.execute(
                    sql: """
                        INSERT INTO attempts (part, off, tenant, endpoint_id, event_id, at_ms, record, outcome, status)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (part, off) DO NOTHING
                        """,
                    arguments: [
                        Int64(stored.partition), stored.offset, a.tenant, a.endpointID, a.eventID, Millis.of(a.at), record, a.outcome.rawValue,
                        a.status,
                    ])
            }
            try Self.insertOperations(batch, db)
            try Self.insertEvents(batch.events, db)
            for (tp, next) in batch.positions {
                try db.execute(
                    sql: """
                        INSERT INTO positions (topic, part, next_offset) VALUES (?, ?, ?)
                        ON CONFLICT (topic, part) DO UPDATE SET next_offset = excluded.next_offset
                        """,
                    arguments: [tp.topic, Int64(tp.partition), next])
            }
        }
    }

    public func endpoint(id: String, scope: AccessScope) async throws -> Endpoint? {
        var query = ScopedQuery(scope: scope)
        query.require("id = ?", id)
        let (sql, arguments) = query.sql(select: "SELECT record FROM endpoints")
        let data = try await pool.read { db in try Data.fetchOne(db, sql: sql, arguments: arguments) }
        return try data.map { try Endpoint(wireBytes: Array($0)) }
    }

    public func endpoints(scope: AccessScope, tenant: String?, page: PageRequest) async throws -> Page<Endpoint> {
        var query = ScopedQuery(scope: scope)
        if let tenant { query.require("tenant = ?", tenant) }
        if let iterator = page.iterator {
            let parts = try PageCursor.decode(iterator, parts: 2)
            query.require("(created_ms, id) < (?, ?)", try PageCursor.int(parts[0]), parts[1])
        }
        let (sql, arguments) = query.sql(select: "SELECT record FROM endpoints", order: "created_ms DESC, id DESC", limit: page.limit + 1)
        let rows = try await pool.read { db in try Data.fetchAll(db, sql: sql, arguments: arguments) }
        let endpoints = try rows.map { try Endpoint(wireBytes: Array($0)) }
        return Self.page(endpoints, limit: page.limit) { [String(Millis.of($0.createdAt)), $0.id] }
    }

    public func attempts(scope: AccessScope, filter: AttemptFilter, page: PageRequest) async throws -> Page<StoredAttempt> {
        var query = ScopedQuery(scope: scope)
        if let endpointID = filter.endpointID { query.require("endpoint_id = ?", endpointID) }
        if let eventID = filter.eventID { query.require("event_id = ?", eventID) }
        if let tenant = filter.tenant { query.require("tenant = ?", tenant) }
        if let outcome = filter.outcome { query.require("outcome = ?", outcome.rawValue) }
        if let statusClass = filter.statusClass {
            if let hundreds = statusClass.hundreds {
                query.require("status >= ? AND status < ?", hundreds * 100, hundreds * 100 + 100)
            } else {
                query.require("status IS NULL")
            }
        }
        if let since = filter.since { query.require("at_ms >= ?", Millis.of(since)) }
        if let until = filter.until { query.require("at_ms < ?", Millis.of(until)) }
        if let iterator = page.iterator {
            let parts = try PageCursor.decode(iterator, parts: 3)
            query.require("(at_ms, part, off) < (?, ?, ?)", try PageCursor.int(parts[0]), try PageCursor.int(parts[1]), try PageCursor.int(parts[2]))
        }
        let (sql, arguments) = query.sql(
            select: "SELECT part, off, record FROM attempts", order: "at_ms DESC, part DESC, off DESC", limit: page.limit + 1)
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> (Int64, Int64, Data) in (row["part"], row["off"], row["record"]) }
        }
        let attempts = try rows.map { part, off, record in
            StoredAttempt(partition: Int32(truncatingIfNeeded: part), offset: off, attempt: try Attempt(wireBytes: Array(record)))
        }
        return Self.page(attempts, limit: page.limit) { [String(Millis.of($0.attempt.at)), String($0.partition), String($0.offset)] }
    }

    public func endpointAttempts(endpointID: String, scope: AccessScope, since: Date, limit: Int) async throws -> [Attempt] {
        var query = ScopedQuery(scope: scope)
        query.require("endpoint_id = ?", endpointID)
        query.require("at_ms >= ?", Millis.of(since))
        let (sql, arguments) = query.sql(select: "SELECT record FROM attempts", order: "at_ms DESC, part DESC, off DESC", limit: limit)
        let rows = try await pool.read { db in try Data.fetchAll(db, sql: sql, arguments: arguments) }
        return try rows.map { try Attempt(wireBytes: Array($0)) }
    }

    public func sealingKeyIDs() async throws -> Set<String> {
        Set(try await pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT key_id FROM endpoints WHERE key_id IS NOT NULL") })
    }

    public func idempotentAnswer(scope: AccessScope, tenant: String, key: String, since: Date) async throws -> [String]? {
        guard scope.allows(tenant: tenant) else { throw QueryStoreError.scope("tenant \(tenant) is outside this key's scope") }
        let text = try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT ids FROM idempotency WHERE tenant = ? AND key = ? AND at_ms >= ?", arguments: [tenant, key, Millis.of(since)])
        }
        return text.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
    }

    public func rememberIdempotent(scope: AccessScope, tenant: String, key: String, ids: [String], at: Date) async throws {
        guard scope.allows(tenant: tenant) else { throw QueryStoreError.scope("tenant \(tenant) is outside this key's scope") }
        let text = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO idempotency (tenant, key, ids, at_ms) VALUES (?, ?, ?, ?)",
                arguments: [tenant, key, text, Millis.of(at)])
        }
    }

    /// The first `limit` of `items` (fetched one beyond), with the iterator after the last.
    static func page<Item>(_ items: [Item], limit: Int, key: (Item) -> [String]) -> Page<Item> {
        guard items.count > limit, let last = items.prefix(limit).last else { return Page(items: items, iterator: nil) }
        return Page(items: Array(items.prefix(limit)), iterator: PageCursor.encode(key(last)))
    }
}

/// A query's conditions, starting with the scope's: the one place a tenant key's reads
/// are confined to its tenant.
struct ScopedQuery {
    private var conditions: [String] = []
    private var arguments: [(any DatabaseValueConvertible & Sendable)?] = []

    init(scope: AccessScope) {
        if let tenant = scope.tenant { require("tenant = ?", tenant) }
    }

    mutating func require(_ condition: String, _ values: (any DatabaseValueConvertible & Sendable)...) {
        conditions.append(condition)
        arguments.append(contentsOf: values.map { $0 })
    }

    /// A condition with a list of values (`IN (?, ?, …)`).
    mutating func require(_ condition: String, values: [any DatabaseValueConvertible & Sendable]) {
        conditions.append(condition)
        arguments.append(contentsOf: values.map { $0 })
    }

    func sql(select: String, order: String? = nil, limit: Int? = nil) -> (String, StatementArguments) {
        var sql = select
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        if let order { sql += " ORDER BY " + order }
        if let limit { sql += " LIMIT \(limit)" }
        return (sql, StatementArguments(arguments.map { $0 as (any DatabaseValueConvertible)? }))
    }
}
