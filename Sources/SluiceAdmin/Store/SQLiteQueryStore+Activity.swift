import Foundation
import GRDB
import SluiceCore

/// ``ActivityStore`` on SQLite: GROUP BY over a covering index of the attempts (time,
/// endpoint, tenant, status), so counting a day of attempts reads the index only.
extension SQLiteQueryStore: ActivityStore {
    /// v4: the covering index the activity counts read.
    static func registerActivityMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4: attempt activity index") { db in
            try db.execute(sql: "CREATE INDEX attempts_activity ON attempts (at_ms, endpoint_id, tenant, status)")
        }
    }

    public func activity(scope: AccessScope, filter: ActivityFilter, bucketSeconds: Int) async throws -> [ActivityBucket] {
        let bucketMs = Int64(max(1, min(bucketSeconds, 86_400 * 31))) * 1000
        var query = ScopedQuery(scope: scope)
        query.require("at_ms >= ?", Millis.of(filter.since))
        if let tenant = filter.tenant { query.require("tenant = ?", tenant) }
        if let endpointID = filter.endpointID { query.require("endpoint_id = ?", endpointID) }
        let (sql, arguments) = query.sql(
            select: """
                SELECT endpoint_id, tenant, (at_ms / \(bucketMs)) * \(bucketMs / 1000) AS start, count(*) AS n,
                    sum(CASE WHEN status >= 200 AND status < 300 THEN 1 ELSE 0 END) AS ok
                FROM attempts INDEXED BY attempts_activity
                """)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql + " GROUP BY endpoint_id, tenant, start ORDER BY start", arguments: arguments).map { row in
                ActivityBucket(endpointID: row["endpoint_id"], tenant: row["tenant"], start: row["start"], attempts: row["n"], succeeded: row["ok"])
            }
        }
    }

    public func deadLetterCount(scope: AccessScope, tenant: String?) async throws -> Int {
        var query = ScopedQuery(scope: scope)
        if let tenant { query.require("tenant = ?", tenant) }
        let (sql, arguments) = query.sql(select: "SELECT count(*) FROM dead_letters")
        return try await pool.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    public func latestOps(scope: AccessScope, kinds: [String]) async throws -> [StoredOpsEvent] {
        guard !kinds.isEmpty else { return [] }
        var query = ScopedQuery(scope: scope)
        query.require("kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))", values: kinds)
        let (sql, arguments) = query.sql(select: "SELECT part, off, kind, endpoint_id, tenant, detail, max(at_ms) AS at_ms FROM ops_events")
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql + " GROUP BY endpoint_id, kind", arguments: arguments).map { row in
                StoredOpsEvent(
                    partition: Int32(truncatingIfNeeded: row["part"] as Int64), offset: row["off"], kind: row["kind"],
                    endpointID: row["endpoint_id"], tenant: row["tenant"], detail: row["detail"],
                    at: Date(timeIntervalSince1970: Double(row["at_ms"] as Int64) / 1000))
            }
        }
    }

    public func attempt(id: String, scope: AccessScope) async throws -> StoredAttempt? {
        let parts = id.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "att", let part = Int64(parts[1]), let off = Int64(parts[2]) else { return nil }
        var query = ScopedQuery(scope: scope)
        query.require("part = ? AND off = ?", part, off)
        let (sql, arguments) = query.sql(select: "SELECT record FROM attempts")
        guard let record = try await pool.read({ db in try Data.fetchOne(db, sql: sql, arguments: arguments) }) else { return nil }
        return StoredAttempt(partition: Int32(truncatingIfNeeded: part), offset: off, attempt: try Attempt(wireBytes: Array(record)))
    }
}
