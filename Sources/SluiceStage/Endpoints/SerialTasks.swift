import SluiceCore

/// Runs async jobs one after another, in the order they were added; a caller may instead
/// join the last job if it has not started yet (its effect then covers the caller's).
///
/// Invariant: at most one job runs at a time; a job starts only after every earlier one
/// ended (whether it threw or not).
///
/// ```swift
/// let serial = SerialTasks()
/// try await serial.join { try await catchUpWithTheTopic() }   // shares a queued catch-up
/// ```
public final class SerialTasks: Sendable {
    private struct State {
        var last: Task<Void, any Error>?
        /// The last job while it waits for its turn (joinable), with its number.
        var queued: (id: Int, task: Task<Void, any Error>)?
        var nextID = 0
    }

    private let state = Locked(State())

    public init() {}

    /// Adds `job` after every job added before, and waits for it.
    public func append(_ job: @escaping @Sendable () async throws -> Void) async throws {
        try await enqueue(job, joining: false).value
    }

    /// Waits for the queued, not yet started job if there is one (it was added by the
    /// same kind of caller), else adds `job` and waits for it.
    public func join(_ job: @escaping @Sendable () async throws -> Void) async throws {
        try await enqueue(job, joining: true).value
    }

    private func enqueue(_ job: @escaping @Sendable () async throws -> Void, joining: Bool) -> Task<Void, any Error> {
        state.withLock { state in
            if joining, let queued = state.queued { return queued.task }
            let before = state.last
            state.nextID += 1
            let id = state.nextID
            let task = Task { [self] in
                _ = await before?.result
                self.state.withLock { if $0.queued?.id == id { $0.queued = nil } }
                try await job()
            }
            state.last = task
            state.queued = joining ? (id, task) : nil
            return task
        }
    }
}
