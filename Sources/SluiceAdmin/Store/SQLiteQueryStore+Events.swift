import Foundation
import GRDB
import SluiceCore

/// The event index (coordinates, no payloads), the attempt columns the delivery log
/// filters on, and retention by age, in the SQLite store.
extension SQLiteQueryStore {
    /// v3: the event index; attempts gain `outcome` and `status` (backfilled from their records).
    static func registerEventMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3: events, attempt outcome and status") { db in
            try db.execute(sql: """
                CREATE TABLE events (
                    topic TEXT NOT NULL, part INTEGER NOT NULL, off INTEGER NOT NULL, event_id TEXT NOT NULL, tenant TEXT NOT NULL,
                    event_type TEXT NOT NULL, endpoint_id TEXT, at_ms INTEGER NOT NULL, PRIMARY KEY (topic, part, off)) WITHOUT ROWID;
                CREATE INDEX events_by_id ON events (event_id, at_ms);
                CREATE INDEX events_by_time ON events (at_ms);
                ALTER TABLE attempts ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
                ALTER TABLE attempts ADD COLUMN status INTEGER;
                CREATE INDEX idempotency_by_time ON idempotency (at_ms);
                """)
            for row in try Row.fetchAll(db, sql: "SELECT part, off, record FROM attempts") {
                let record: Data = row["record"]
                guard let attempt = try? Attempt(wireBytes: Array(record)) else { continue }
                try db.execute(
                    sql: "UPDATE attempts SET outcome = ?, status = ? WHERE part = ? AND off = ?",
                    arguments: [attempt.outcome.rawValue, attempt.status, row["part"] as Int64, row["off"] as Int64])
            }
        }
    }

    static func insertEvents(_ events: [StoredEvent], _ db: Database) throws {
        for e in events {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO events (topic, part, off, event_id, tenant, event_type, endpoint_id, at_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [e.topic, Int64(e.partition), e.offset, e.eventID, e.tenant, e.eventType, e.endpointID, Millis.of(e.at)])
        }
    }

    public func events(id: String, scope: AccessScope) async throws -> [StoredEvent] {
        var query = ScopedQuery(scope: scope)
        query.require("event_id = ?", id)
        let (sql, arguments) = query.sql(select: "SELECT * FROM events", order: "at_ms DESC", limit: 20)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                StoredEvent(
                    topic: row["topic"], partition: Int32(truncatingIfNeeded: row["part"] as Int64), offset: row["off"], eventID: row["event_id"],
                    tenant: row["tenant"], eventType: row["event_type"], endpointID: row["endpoint_id"],
                    at: Date(timeIntervalSince1970: Double(row["at_ms"] as Int64) / 1000))
            }
        }
    }

    public func prune(olderThan cutoff: Date) async throws -> Int {
        let ms = Millis.of(cutoff)
        return try await pool.write { db in
            var removed = 0
            for (table, column) in [("attempts", "at_ms"), ("dead_letters", "dead_at_ms"), ("ops_events", "at_ms"), ("events", "at_ms"), ("idempotency", "at_ms")] {
                try db.execute(sql: "DELETE FROM \(table) WHERE \(column) < ?", arguments: [ms])
                removed += db.changesCount
            }
            return removed
        }
    }
}
