import Foundation
import GRDB
import SluiceCore

/// ``ActivityStore`` on SQLite: attempt counts kept per endpoint and minute and per endpoint
/// and hour by triggers on the attempts table (an insert adds one, a delete, e.g. retention,
/// takes one away), so a day of counts reads at most 24 rows per endpoint, whatever the rate.
///
/// Invariant: `attempt_minutes` and `attempt_hours` hold, per bucket, exactly the count of
/// the attempts rows in it (the migration backfills them; an attempt is inserted once: rows
/// and positions are written in one transaction, and a record applied again, its partition
/// and offset already stored, inserts nothing, so the insert trigger does not count it twice
/// as `INSERT OR REPLACE` would).
extension SQLiteQueryStore: ActivityStore {
    /// v4: the per-minute and per-hour counts and the triggers that keep them.
    static func registerActivityMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4: attempt activity counts") { db in
            for (table, ms) in [("attempt_minutes", 60_000), ("attempt_hours", 3_600_000)] {
                let ok = "(CASE WHEN %@.status >= 200 AND %@.status < 300 THEN 1 ELSE 0 END)"
                try db.execute(sql: """
                    CREATE TABLE \(table) (
                        endpoint_id TEXT NOT NULL, tenant TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, ok INTEGER NOT NULL,
                        PRIMARY KEY (bucket, endpoint_id, tenant)) WITHOUT ROWID;
                    CREATE INDEX \(table)_by_tenant ON \(table) (tenant, bucket);
                    CREATE INDEX \(table)_by_endpoint ON \(table) (endpoint_id, bucket);
                    INSERT INTO \(table) (endpoint_id, tenant, bucket, n, ok)
                        SELECT endpoint_id, tenant, at_ms / \(ms), count(*), sum(\(ok.replacingOccurrences(of: "%@.", with: ""))) FROM attempts GROUP BY 1, 2, 3;
                    CREATE TRIGGER \(table)_add AFTER INSERT ON attempts BEGIN
                        INSERT INTO \(table) (endpoint_id, tenant, bucket, n, ok) VALUES (new.endpoint_id, new.tenant, new.at_ms / \(ms), 1, \(ok.replacingOccurrences(of: "%@", with: "new")))
                        ON CONFLICT (bucket, endpoint_id, tenant) DO UPDATE SET n = n + 1, ok = ok + excluded.ok;
                    END;
                    CREATE TRIGGER \(table)_remove AFTER DELETE ON attempts BEGIN
                        UPDATE \(table) SET n = n - 1, ok = ok - \(ok.replacingOccurrences(of: "%@", with: "old"))
                        WHERE bucket = old.at_ms / \(ms) AND endpoint_id = old.endpoint_id AND tenant = old.tenant;
                        DELETE FROM \(table) WHERE bucket = old.at_ms / \(ms) AND endpoint_id = old.endpoint_id AND tenant = old.tenant AND n <= 0;
                    END;
                    """)
            }
        }
    }

    public func activity(scope: AccessScope, filter: ActivityFilter, bucketSeconds: Int) async throws -> [ActivityBucket] {
        let size = Int64(max(60, min(bucketSeconds, 86_400 * 31)) / 60 * 60)  // whole minutes
        let (table, unit): (String, Int64) = size % 3600 == 0 ? ("attempt_hours", 3600) : ("attempt_minutes", 60)
        var query = ScopedQuery(scope: scope)
        query.require("bucket >= ?", Millis.of(filter.since) / (unit * 1000))
        if let tenant = filter.tenant { query.require("tenant = ?", tenant) }
        if let endpointID = filter.endpointID { query.require("endpoint_id = ?", endpointID) }
        let (sql, arguments) = query.sql(
            select: "SELECT endpoint_id, tenant, (bucket * \(unit)) / \(size) * \(size) AS start, sum(n) AS n, sum(ok) AS ok FROM \(table)")
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
