import Foundation
import SluiceCore

/// The long-running tasks (dead-letter and history replays) this server started, with their
/// progress, for `GET /v1/tasks/{id}`.
///
/// Invariant: a task is visible in a scope exactly when its tenant is (a task without a
/// tenant, started by an admin key across tenants, only to admin keys); at most ``capacity``
/// tasks are kept, the oldest finished ones dropped first. Tasks live in this process: a
/// restart forgets them (the replay itself is idempotent by its replay id).
///
/// ```swift
/// let board = TaskBoard()
/// let task = board.start(kind: .deadLetterReplay, tenant: "acme", replayID: "rp_1", dryRun: false)
/// board.update(task.id) { $0.progress.sent = 10 }
/// ```
public final class TaskBoard: Sendable {
    /// One task as reported.
    public struct Entry: Sendable, Equatable {
        public enum State: String, Sendable { case running, succeeded, failed }
        /// What the task does: `POST /v1/dead-letters/replay` or `POST /v1/endpoints/{id}/replay`.
        public enum Kind: String, Sendable { case deadLetterReplay = "dead_letter_replay", historyReplay = "history_replay" }
        public struct Progress: Sendable, Equatable {
            public var matched = 0, toSend = 0, sent = 0, alreadySent = 0, endpointUnavailable = 0
            /// History replays only: records read, events skipped as already delivered or too large.
            public var read: Int?, alreadyDelivered: Int?, tooLarge: Int?
        }
        public var id: String
        public var kind: Kind
        public var tenant: String?
        /// A history replay's endpoint.
        public var endpointID: String?
        public var state: State = .running
        public var createdAt: Date
        public var finishedAt: Date?
        public var error: String?
        /// The summary line of a finished history replay.
        public var summary: String?
        /// What of a history replay's window the events topic no longer covers.
        public var note: String?
        public var replayID: String?
        public var dryRun: Bool
        public var progress = Progress()
    }

    public static let capacity = 1000
    private let entries = Locked<[String: Entry]>([:])

    public init() {}

    /// Registers a running task.
    public func start(kind: Entry.Kind = .deadLetterReplay, tenant: String?, endpointID: String? = nil, replayID: String?, dryRun: Bool) -> Entry {
        let entry = Entry(
            id: "task_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), kind: kind, tenant: tenant, endpointID: endpointID,
            createdAt: Date(), replayID: replayID, dryRun: dryRun)
        entries.withLock { Self.insert(entry, into: &$0) }
        return entry
    }

    private static func insert(_ entry: Entry, into all: inout [String: Entry]) {
        if all.count >= capacity, let oldest = all.values.filter({ $0.state != .running }).min(by: { $0.createdAt < $1.createdAt }) {
            all[oldest.id] = nil
        }
        all[entry.id] = entry
    }

    public func update(_ id: String, _ change: @Sendable (inout Entry) -> Void) {
        entries.withLock { all in
            guard var entry = all[id] else { return }
            change(&entry)
            all[id] = entry
        }
    }

    /// Marks the task finished: succeeded, or failed with `error`.
    public func finish(_ id: String, error: String? = nil) {
        update(id) { entry in
            entry.state = error == nil ? .succeeded : .failed
            entry.error = error
            entry.finishedAt = Date()
        }
    }

    /// Registers a running task unless one of the same kind already sends replay `replayID`
    /// (a dry run sends nothing, so it never conflicts): a second run of the same replay
    /// beside the first would fence its producer. The new task, or the one already running.
    public func startAlone(kind: Entry.Kind, tenant: String?, endpointID: String?, replayID: String, dryRun: Bool) -> (entry: Entry, isNew: Bool) {
        let entry = Entry(
            id: "task_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), kind: kind, tenant: tenant, endpointID: endpointID,
            createdAt: Date(), replayID: replayID, dryRun: dryRun)
        return entries.withLock { all in
            if !dryRun, let running = all.values.first(where: { $0.kind == kind && $0.state == .running && !$0.dryRun && $0.replayID == replayID }) {
                return (running, false)
            }
            Self.insert(entry, into: &all)
            return (entry, true)
        }
    }

    /// The task `id` if `scope` sees it.
    public func entry(_ id: String, scope: AccessScope) -> Entry? {
        guard let entry = entries.withLock({ $0[id] }) else { return nil }
        switch scope {
        case .admin: return entry
        case .tenant(let own): return entry.tenant == own ? entry : nil
        }
    }
}
