import Foundation
import GRDB
import SluiceCore

/// Dead letters and ops events in the SQLite store: rows without payloads (those stay on
/// their topics), read through ``ScopedQuery`` like every other list.
extension SQLiteQueryStore {
    static func insertOperations(_ batch: StoreBatch, _ db: Database) throws {
        for d in batch.deadLetters {
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO dead_letters
                        (part, off, tenant, endpoint_id, event_id, event_type, reason, final_error, attempts, dead_at_ms, replay_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Int64(d.partition), d.offset, d.tenant, d.endpointID, d.eventID, d.eventType, d.reason, d.finalError, d.attempts,
                    Millis.of(d.deadAt), d.replayID,
                ])
        }
        for o in batch.opsEvents {
            try db.execute(
                sql: "INSERT OR REPLACE INTO ops_events (part, off, tenant, endpoint_id, kind, detail, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [Int64(o.partition), o.offset, o.tenant, o.endpointID, o.kind, o.detail, Millis.of(o.at)])
        }
    }

    public func deadLetters(scope: AccessScope, filter: AttemptFilter, page: PageRequest) async throws -> Page<StoredDeadLetter> {
        var query = ScopedQuery(scope: scope)
        if let endpointID = filter.endpointID { query.require("endpoint_id = ?", endpointID) }
        if let eventID = filter.eventID { query.require("event_id = ?", eventID) }
        if let tenant = filter.tenant { query.require("tenant = ?", tenant) }
        if let type = filter.eventType, type != "*" {
            if type.hasSuffix(".*") {
                let prefix = String(type.dropLast())  // "order."
                query.require("substr(event_type, 1, ?) = ?", prefix.count, prefix)
            } else {
                query.require("event_type = ?", type)
            }
        }
        if let since = filter.since { query.require("dead_at_ms >= ?", Millis.of(since)) }
        if let until = filter.until { query.require("dead_at_ms < ?", Millis.of(until)) }
        try Self.after(page.iterator, columns: "dead_at_ms", &query)
        let (sql, arguments) = query.sql(select: "SELECT * FROM dead_letters", order: "dead_at_ms DESC, part DESC, off DESC", limit: page.limit + 1)
        let letters = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                StoredDeadLetter(
                    partition: Int32(truncatingIfNeeded: row["part"] as Int64), offset: row["off"], eventID: row["event_id"],
                    endpointID: row["endpoint_id"], tenant: row["tenant"], eventType: row["event_type"], reason: row["reason"],
                    finalError: row["final_error"], attempts: row["attempts"],
                    deadAt: Date(timeIntervalSince1970: Double(row["dead_at_ms"] as Int64) / 1000), replayID: row["replay_id"])
            }
        }
        return Self.page(letters, limit: page.limit) { [String(Millis.of($0.deadAt)), String($0.partition), String($0.offset)] }
    }

    public func opsEvents(scope: AccessScope, filter: OpsFilter, page: PageRequest) async throws -> Page<StoredOpsEvent> {
        var query = ScopedQuery(scope: scope)
        if let endpointID = filter.endpointID { query.require("endpoint_id = ?", endpointID) }
        if let kind = filter.kind { query.require("kind = ?", kind) }
        if let since = filter.since { query.require("at_ms >= ?", Millis.of(since)) }
        if let until = filter.until { query.require("at_ms < ?", Millis.of(until)) }
        try Self.after(page.iterator, columns: "at_ms", &query)
        let (sql, arguments) = query.sql(select: "SELECT * FROM ops_events", order: "at_ms DESC, part DESC, off DESC", limit: page.limit + 1)
        let events = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                StoredOpsEvent(
                    partition: Int32(truncatingIfNeeded: row["part"] as Int64), offset: row["off"], kind: row["kind"],
                    endpointID: row["endpoint_id"], tenant: row["tenant"], detail: row["detail"],
                    at: Date(timeIntervalSince1970: Double(row["at_ms"] as Int64) / 1000))
            }
        }
        return Self.page(events, limit: page.limit) { [String(Millis.of($0.at)), String($0.partition), String($0.offset)] }
    }

    /// Continues after a (time, partition, offset) iterator.
    static func after(_ iterator: String?, columns time: String, _ query: inout ScopedQuery) throws {
        guard let iterator else { return }
        let parts = try PageCursor.decode(iterator, parts: 3)
        query.require("(\(time), part, off) < (?, ?, ?)", try PageCursor.int(parts[0]), try PageCursor.int(parts[1]), try PageCursor.int(parts[2]))
    }
}
