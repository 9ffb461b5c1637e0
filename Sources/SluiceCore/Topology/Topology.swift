import Foundation
import Yams

/// Sluice's topics and consumer groups, as `topology/sluice.yaml` describes them.
///
/// Invariant: topic names are unique and relative to a prefix; every topic a group
/// reads or writes is one of `topics`; partition counts and replication are ≥ 1.
///
/// ```swift
/// let topology = try Topology.load(path: "topology/sluice.yaml")
/// let fanoutTopics = try topology.topics(ofGroup: "sluice-fanout", prefix: "sluice.")
/// ```
public struct Topology: Sendable, Equatable {
    /// One topic, its name relative to the prefix.
    public struct Topic: Sendable, Equatable {
        /// `cleanup.policy`: delete old records, or keep the last per key.
        public enum Cleanup: String, Sendable, Equatable { case delete, compact }
        public var name: String
        public var partitions: Int
        /// Overrides the topology's replication for this topic.
        public var replication: Int?
        public var cleanup: Cleanup
        /// How long records are kept (delete topics).
        public var retention: Duration?
        public var key: String?
        public var value: String?
    }

    /// One consumer group and the topics its stage needs.
    public struct Group: Sendable, Equatable {
        public var name: String
        public var stage: String
        public var reads: [String]
        public var writes: [String]
    }

    public var replication: Int
    public var topics: [Topic]
    public var groups: [Group]

    /// Parses and validates a topology document.
    public static func parse(yaml: String, source: String = "topology") throws(TopologyError) -> Topology {
        let document: TopologyDocument
        do {
            document = try YAMLDecoder().decode(TopologyDocument.self, from: yaml)
        } catch {
            throw TopologyError(source: source, problem: "cannot be read as a topology: \(error)")
        }
        return try document.validated(source: source)
    }

    /// Loads and validates the topology file at `path`.
    public static func load(path: String) throws(TopologyError) -> Topology {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw TopologyError(source: path, problem: "cannot be read (does it exist?); pass --topology FILE")
        }
        return try parse(yaml: text, source: path)
    }

    /// Every topic as it should exist on the broker, with the prefix applied.
    public func resolvedTopics(prefix: String, replication override: Int? = nil) -> [ResolvedTopic] {
        topics.map { topic in
            var configs = ["cleanup.policy": topic.cleanup.rawValue]
            if let retention = topic.retention { configs["retention.ms"] = String(retention.components.seconds * 1000) }
            return ResolvedTopic(
                name: prefix + topic.name, partitions: topic.partitions,
                replication: override ?? topic.replication ?? replication, configs: configs)
        }
    }

    /// The full names of the topics the stage of `group` reads and writes.
    public func topics(ofGroup group: String, prefix: String) throws(TopologyError) -> [String] {
        guard let entry = groups.first(where: { $0.name == group }) else {
            throw TopologyError(source: "topology", problem: "has no consumer group \(group)")
        }
        var seen = Set<String>()
        return (entry.reads + entry.writes).filter { seen.insert($0).inserted }.map { prefix + $0 }
    }
}

/// A topic with its full name and the exact broker settings Sluice wants.
public struct ResolvedTopic: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    public var replication: Int
    public var configs: [String: String]

    public init(name: String, partitions: Int, replication: Int, configs: [String: String]) {
        self.name = name
        self.partitions = partitions
        self.replication = replication
        self.configs = configs
    }
}

/// A topology file that cannot be used, and why.
public struct TopologyError: Error, Sendable, CustomStringConvertible, Equatable {
    public var source: String
    public var problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source) \(problem)" }
}
