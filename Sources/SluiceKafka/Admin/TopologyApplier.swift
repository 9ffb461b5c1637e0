import SluiceCore

/// Applies a ``Topology`` to a cluster: creates missing topics, reports differences.
///
/// ```swift
/// let applier = TopologyApplier(admin: admin)
/// let result = try await applier.apply(topology.resolvedTopics(prefix: "sluice."), dryRun: false) { print($0) }
/// ```
public struct TopologyApplier: Sendable {
    public let admin: KafkaAdmin

    public init(admin: KafkaAdmin) { self.admin = admin }

    /// What `apply` did: the plan it followed and the topics it created.
    public struct Result: Sendable {
        public var plan: TopologyPlan
        public var created: [String]
    }

    /// Compares `wanted` with the cluster and, unless `dryRun`, creates what is missing.
    /// `progress` is called with one line per step.
    public func apply(
        _ wanted: [ResolvedTopic], dryRun: Bool, progress: @Sendable (String) -> Void = { _ in }
    ) async throws(KafkaError) -> Result {
        let plan = try await plan(wanted)
        guard !dryRun else { return Result(plan: plan, created: []) }
        var created: [String] = []
        for (index, topic) in plan.create.enumerated() {
            let spec = KafkaTopicSpec(
                name: topic.name, partitions: topic.partitions, replicationFactor: topic.replication, configs: topic.configs)
            let outcome = try await admin.createTopics([spec])
            if let failure = outcome[topic.name] ?? nil {
                // Another copy of apply may have won the race: that is success.
                guard failure.code == Int32(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue) else { throw failure }
            }
            created.append(topic.name)
            progress("[\(index + 1)/\(plan.create.count)] created \(topic.name) (\(topic.partitions) partitions)")
        }
        return Result(plan: plan, created: created)
    }

    /// Compares `wanted` with the cluster without changing anything.
    public func plan(_ wanted: [ResolvedTopic]) async throws(KafkaError) -> TopologyPlan {
        let described = try await admin.describeTopics()
        var existing: [String: TopologyPlan.Existing] = [:]
        for topic in wanted {
            guard let d = described[topic.name] else { continue }
            let configs = try await admin.describeConfigs(topic: topic.name)
            existing[topic.name] = .init(partitions: d.partitions, replication: d.replicationFactor, configs: configs)
        }
        return TopologyPlan(wanted: wanted, existing: existing)
    }
}

import CRdKafka
