/// The outcome of every produced record, waiting for whoever awaits it.
///
/// A state machine: the delivery-report thread calls ``complete(_:with:)``, the awaiting
/// task calls ``wait(_:continuation:)``, in either order; each returns the continuation to
/// resume (if any), which the caller resumes outside the lock. A record registered with
/// an ``AcknowledgementGroup`` (``register(group:)``) has no waiter: its report goes to
/// the group, which the caller tells outside the lock.
///
/// Invariant: each id is registered once, completed once and waited for at most once;
/// a slot is removed when both have happened (or the produce call failed).
struct DeliveryTable {
    typealias Outcome = Result<KafkaRecordMetadata, KafkaError>
    typealias Waiter = CheckedContinuation<Outcome, Never>

    /// Who hears of a completed record, outside the lock.
    enum Completion {
        case resume(Waiter, Outcome)
        case group(AcknowledgementGroup, Outcome)
    }

    private enum Slot {
        case pending
        case done(Outcome)
        case waiting(Waiter)
        case grouped(AcknowledgementGroup)
    }

    private var slots: [UInt: Slot] = [:]
    private var nextID: UInt = 1

    /// Records handed to librdkafka and not yet acknowledged or failed.
    private(set) var inFlight = 0

    /// A record to be awaited (``wait(_:continuation:)``), or, with `group`, reported to it.
    mutating func register(group: AcknowledgementGroup? = nil) -> UInt {
        defer { nextID &+= 1; if nextID == 0 { nextID = 1 } }
        slots[nextID] = group.map { .grouped($0) } ?? .pending
        inFlight += 1
        return nextID
    }

    /// The produce call failed: nothing will report on `id`.
    mutating func cancel(_ id: UInt) {
        if slots.removeValue(forKey: id) != nil { inFlight -= 1 }
    }

    /// The broker answered (or librdkafka gave up) on `id`.
    mutating func complete(_ id: UInt, with outcome: Outcome) -> Completion? {
        guard let slot = slots[id] else { return nil }
        inFlight -= 1
        switch slot {
        case .pending:
            slots[id] = .done(outcome)
            return nil
        case .waiting(let waiter):
            slots[id] = nil
            return .resume(waiter, outcome)
        case .grouped(let group):
            slots[id] = nil
            return .group(group, outcome)
        case .done:
            preconditionFailure("delivery \(id) reported twice")
        }
    }

    /// The outcome of `id` if it is already known (and forgets it), without waiting: most
    /// waits come after a flush or a commit, when every report is in.
    mutating func takeOutcome(_ id: UInt) -> Outcome? {
        guard case .done(let outcome) = slots[id] else { return nil }
        slots[id] = nil
        return outcome
    }

    /// A task awaits `id`: returns the outcome at once if it is already known.
    mutating func wait(_ id: UInt, continuation: Waiter) -> Outcome? {
        switch slots[id] {
        case .pending:
            slots[id] = .waiting(continuation)
            return nil
        case .done(let outcome):
            slots[id] = nil
            return outcome
        case .waiting, .grouped, nil:
            preconditionFailure("delivery \(id) awaited twice")
        }
    }
}
