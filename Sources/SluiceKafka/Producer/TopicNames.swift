import Glibc

/// The names of the topics a producer's delivery reports name, made into strings once
/// each instead of once per report (a name over 15 bytes is a heap allocation).
///
/// Invariant: only the producer's report thread touches it (hence `@unchecked Sendable`);
/// it keeps at most ``capacity`` names and makes any further one anew each time.
///
/// ```swift
/// let topic = topics.name(rd_kafka_topic_name(message.rkt))
/// ```
final class TopicNames: @unchecked Sendable {
    static let capacity = 64
    private var names: [String] = []

    /// The name `cName` spells, from the ones seen before when it is among them.
    func name(_ cName: UnsafePointer<CChar>) -> String {
        for name in names where name.withCString({ strcmp($0, cName) == 0 }) { return name }
        let name = String(cString: cName)
        if names.count < Self.capacity { names.append(name) }
        return name
    }
}
