/// The YAML shape of `topology/sluice.yaml`, before validation.
struct TopologyDocument: Decodable {
    struct TopicEntry: Decodable {
        var name: String
        var partitions: Int
        var replication: Int?
        var cleanup: String
        var retention: String?
        var key: String?
        var value: String?
    }

    struct GroupEntry: Decodable {
        var name: String
        var stage: String
        var reads: [String]
        var writes: [String]?
    }

    var replication: Int?
    var topics: [TopicEntry]
    var groups: [GroupEntry]?

    func validated(source: String) throws(TopologyError) -> Topology {
        func fail(_ problem: String) -> TopologyError { TopologyError(source: source, problem: problem) }
        let replication = self.replication ?? 1
        guard replication >= 1 else { throw fail("has replication \(replication); it must be at least 1") }
        var names = Set<String>()
        var topics: [Topology.Topic] = []
        for entry in self.topics {
            guard !entry.name.isEmpty, names.insert(entry.name).inserted else {
                throw fail("names topic '\(entry.name)' twice (or empty); names must be unique")
            }
            guard entry.partitions >= 1 else {
                throw fail("gives topic \(entry.name) \(entry.partitions) partitions; it needs at least 1")
            }
            if let r = entry.replication, r < 1 { throw fail("gives topic \(entry.name) replication \(r); it needs at least 1") }
            guard let cleanup = Topology.Topic.Cleanup(rawValue: entry.cleanup) else {
                throw fail("gives topic \(entry.name) cleanup '\(entry.cleanup)'; use delete or compact")
            }
            var retention: Duration?
            if let text = entry.retention {
                guard let parsed = DurationText.parse(text) else {
                    throw fail("gives topic \(entry.name) retention '\(text)'; write it like 30s, 10m, 6h or 7d")
                }
                retention = parsed
            }
            topics.append(
                .init(
                    name: entry.name, partitions: entry.partitions, replication: entry.replication, cleanup: cleanup,
                    retention: retention, key: entry.key, value: entry.value))
        }
        var groups: [Topology.Group] = []
        for entry in self.groups ?? [] {
            for topic in entry.reads + (entry.writes ?? []) where !names.contains(topic) {
                throw fail("gives group \(entry.name) topic '\(topic)', which is not among its topics")
            }
            groups.append(.init(name: entry.name, stage: entry.stage, reads: entry.reads, writes: entry.writes ?? []))
        }
        return Topology(replication: replication, topics: topics, groups: groups)
    }
}
