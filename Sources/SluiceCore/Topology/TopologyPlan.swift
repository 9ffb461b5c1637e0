/// What `sluice topology apply` would do: topics to create and differences to report.
///
/// Apply never changes or deletes an existing topic: a partition count or config that
/// differs is reported for an operator to decide (Tansu cannot add partitions at all).
///
/// Invariant: a topic is either in `create` or compared, never both.
///
/// ```swift
/// let plan = TopologyPlan(wanted: topology.resolvedTopics(prefix: "sluice."), existing: existing)
/// print(plan.summary(applied: false))   // "10 topics: 2 to create, 8 up to date, 0 differ"
/// ```
public struct TopologyPlan: Sendable, Equatable {
    /// A topic as the broker describes it.
    public struct Existing: Sendable, Equatable {
        public var partitions: Int
        public var replication: Int
        /// The configs the broker reports (Tansu reports only those set explicitly).
        public var configs: [String: String]

        public init(partitions: Int, replication: Int, configs: [String: String]) {
            self.partitions = partitions
            self.replication = replication
            self.configs = configs
        }
    }

    /// A difference between the topology and the broker that apply leaves alone.
    public enum Difference: Sendable, Equatable, CustomStringConvertible {
        case partitions(topic: String, wanted: Int, actual: Int)
        case replication(topic: String, wanted: Int, actual: Int)
        case config(topic: String, key: String, wanted: String, actual: String?)

        public var description: String {
            switch self {
            case .partitions(let topic, let wanted, let actual):
                return "\(topic): \(actual) partitions, topology says \(wanted) (apply never repartitions; "
                    + "recreate the topic or change the topology)"
            case .replication(let topic, let wanted, let actual):
                return "\(topic): replication \(actual), topology says \(wanted)"
            case .config(let topic, let key, let wanted, let actual):
                return "\(topic): \(key)=\(actual ?? "(unset)"), topology says \(wanted) "
                    + "(change it with kafka-configs, or recreate the topic)"
            }
        }
    }

    public var create: [ResolvedTopic]
    public var unchanged: [String]
    public var differences: [Difference]

    public init(wanted: [ResolvedTopic], existing: [String: Existing]) {
        create = []
        unchanged = []
        differences = []
        for topic in wanted {
            guard let actual = existing[topic.name] else {
                create.append(topic)
                continue
            }
            var found: [Difference] = []
            if actual.partitions != topic.partitions {
                found.append(.partitions(topic: topic.name, wanted: topic.partitions, actual: actual.partitions))
            }
            if actual.replication != topic.replication {
                found.append(.replication(topic: topic.name, wanted: topic.replication, actual: actual.replication))
            }
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) where actual.configs[key] != value {
                found.append(.config(topic: topic.name, key: key, wanted: value, actual: actual.configs[key]))
            }
            if found.isEmpty { unchanged.append(topic.name) }
            differences += found
        }
    }

    /// True when apply has nothing to create and nothing differs.
    public var isUpToDate: Bool { create.isEmpty && differences.isEmpty }

    /// One line for the end of `topology apply`: `applied` says whether the topics to
    /// create were created or only planned (`--dry-run`).
    public func summary(applied: Bool) -> String {
        let differing = Set(differences.map(\.topic)).count
        let total = create.count + unchanged.count + differing
        let created = applied ? "\(create.count) created" : "\(create.count) to create"
        let tail = isUpToDate ? " (nothing to do)" : ""
        return "\(total) topics: \(created), \(unchanged.count) up to date, \(differing) differ\(tail)"
    }
}

extension TopologyPlan.Difference {
    var topic: String {
        switch self {
        case .partitions(let t, _, _), .replication(let t, _, _), .config(let t, _, _, _): return t
        }
    }
}
