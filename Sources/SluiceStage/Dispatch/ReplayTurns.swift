import SluiceKafka

/// Which replayed deliveries are still waiting for their turn in dispatch's replay lane,
/// per partition, and whether the partition they came from is still this dispatcher's.
///
/// A replay may wait seconds for its turn (``ReplayLane``). When its partition is revoked
/// meanwhile, it must not be delivered here (the next owner reads it again: it would go
/// twice), and the rebalance must not wait for it. Each revocation starts a new generation
/// of the partition: a waiter of an older generation abandons its record, and
/// ``revoke(_:)`` says how many of the partition's in-flight records are such abandoned
/// waiters, so the rebalance waits only for the deliveries actually being made.
///
/// Invariant: `waiting[tp]` counts the waiters of the partition's current generation that
/// have neither started their delivery nor been abandoned.
///
/// ```swift
/// var turns = ReplayTurns()
/// let ticket = turns.enqueue(tp)           // a replay starts waiting
/// let abandoned = turns.revoke([tp])[tp]    // 1: the rebalance need not wait for it
/// turns.begin(ticket)                       // false: its partition went meanwhile
/// ```
struct ReplayTurns: Sendable {
    /// A waiter's claim: its partition and the generation it was read in.
    struct Ticket: Sendable, Equatable {
        let partition: TopicPartition
        let generation: Int
    }

    private var generations: [TopicPartition: Int] = [:]
    private var waiting: [TopicPartition: Int] = [:]

    /// A replayed record of `partition` starts waiting for its turn.
    mutating func enqueue(_ partition: TopicPartition) -> Ticket {
        waiting[partition, default: 0] += 1
        return Ticket(partition: partition, generation: generations[partition] ?? 0)
    }

    /// The waiter's turn has come: true if its partition is still of its generation (it
    /// goes on to deliver), false if the partition was revoked since (it abandons).
    mutating func begin(_ ticket: Ticket) -> Bool {
        guard isCurrent(ticket) else { return false }
        waiting[ticket.partition, default: 1] -= 1
        return true
    }

    /// The waiter gives up without a revocation (the stage is stopping): it leaves the count.
    mutating func leave(_ ticket: Ticket) {
        guard isCurrent(ticket) else { return }
        waiting[ticket.partition, default: 1] -= 1
    }

    /// The partitions are revoked: their waiters are abandoned from now on. Returns, per
    /// partition, how many in-flight records are such waiters (never to be finished).
    mutating func revoke(_ partitions: [TopicPartition]) -> [TopicPartition: Int] {
        var abandoned: [TopicPartition: Int] = [:]
        for partition in partitions {
            generations[partition, default: 0] += 1
            abandoned[partition] = waiting.removeValue(forKey: partition) ?? 0
        }
        return abandoned
    }

    /// Whether the ticket's partition has not been revoked since it was issued.
    func isCurrent(_ ticket: Ticket) -> Bool { (generations[ticket.partition] ?? 0) == ticket.generation }

    /// Waiters of the partition's current generation.
    func waiting(_ partition: TopicPartition) -> Int { waiting[partition] ?? 0 }
}
