import Foundation
import Testing

@testable import SluiceCore

@Suite("Topology file")
struct TopologyTests {
    static let repositoryTopology = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topology/sluice.yaml").path

    @Test("the repository's topology has every topic of the brief with its partitions and cleanup")
    func repositoryTopology() throws {
        let topology = try Topology.load(path: Self.repositoryTopology)
        let byName = Dictionary(uniqueKeysWithValues: topology.topics.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["events", "endpoints", "deliveries", "redeliveries", "retry.1m", "retry.10m", "retry.1h", "dlq", "attempts", "rejected", "endpoint-health", "ops", "replays", "api-keys"])
        #expect(byName["deliveries"]?.partitions == 32)
        #expect(byName["events"]?.partitions == 16)
        #expect(byName["endpoints"]?.cleanup == .compact)
        #expect(byName["dlq"]?.retention == .seconds(30 * 86_400))
        #expect(byName["events"]?.retention == .seconds(7 * 86_400))
        #expect(topology.replication == 1)
        #expect(Set(topology.groups.map(\.name)).isSuperset(of: ["sluice-fanout", "sluice-dispatch", "sluice-retry-1m", "sluice-retry-10m", "sluice-retry-1h", "sluice-dlq"]))
    }

    @Test("resolved topics carry the prefix, replication override and broker configs")
    func resolved() throws {
        let topology = try Topology.load(path: Self.repositoryTopology)
        let resolved = topology.resolvedTopics(prefix: "acme.", replication: 3)
        let events = try #require(resolved.first { $0.name == "acme.events" })
        #expect(events.replication == 3)
        #expect(events.configs == ["cleanup.policy": "delete", "retention.ms": "604800000"])
        let endpoints = try #require(resolved.first { $0.name == "acme.endpoints" })
        #expect(endpoints.configs == ["cleanup.policy": "compact"])
        #expect(try topology.topics(ofGroup: "sluice-fanout", prefix: "acme.") == ["acme.events", "acme.endpoints", "acme.deliveries", "acme.rejected"])
    }

    @Test("an unknown group is an error that names it")
    func unknownGroup() throws {
        let topology = try Topology.load(path: Self.repositoryTopology)
        #expect(throws: TopologyError.self) { try topology.topics(ofGroup: "nope", prefix: "") }
    }

    @Test(
        "bad topology documents are refused with a message naming the problem",
        arguments: [
            ("topics: [{name: a, partitions: 0, cleanup: delete}]", "needs at least 1"),
            ("topics: [{name: a, partitions: 1, cleanup: shred}]", "use delete or compact"),
            ("topics: [{name: a, partitions: 1, cleanup: delete, retention: forever}]", "write it like"),
            ("topics: [{name: a, partitions: 1, cleanup: delete}, {name: a, partitions: 1, cleanup: delete}]", "twice"),
            ("topics: [{name: a, partitions: 1, cleanup: delete}]\ngroups: [{name: g, stage: s, reads: [b]}]", "not among its topics"),
            ("replication: 0\ntopics: []", "at least 1"),
            ("topics: {{{", "cannot be read"),
        ])
    func badDocuments(yaml: String, problem: String) {
        #expect {
            try Topology.parse(yaml: yaml, source: "test.yaml")
        } throws: { error in
            (error as? TopologyError).map { $0.description.contains(problem) && $0.description.hasPrefix("test.yaml") } ?? false
        }
    }

    @Test("a missing file says how to point at another")
    func missingFile() {
        #expect { try Topology.load(path: "/nonexistent/sluice.yaml") } throws: {
            "\($0)".contains("--topology")
        }
    }
}

@Suite("Topology plan")
struct TopologyPlanTests {
    let wanted = [
        ResolvedTopic(name: "s.a", partitions: 4, replication: 1, configs: ["cleanup.policy": "delete", "retention.ms": "1000"]),
        ResolvedTopic(name: "s.b", partitions: 8, replication: 1, configs: ["cleanup.policy": "compact"]),
    ]

    @Test("missing topics are created, matching ones are up to date")
    func createAndUpToDate() {
        let plan = TopologyPlan(wanted: wanted, existing: ["s.b": .init(partitions: 8, replication: 1, configs: ["cleanup.policy": "compact", "other": "x"])])
        #expect(plan.create.map(\.name) == ["s.a"])
        #expect(plan.unchanged == ["s.b"])
        #expect(plan.differences.isEmpty)
        #expect(!plan.isUpToDate)
        #expect(plan.summary(applied: false) == "2 topics: 1 to create, 1 up to date, 0 differ")
        #expect(plan.summary(applied: true) == "2 topics: 1 created, 1 up to date, 0 differ")
    }

    @Test("partition, replication and config differences are reported, not created")
    func differences() {
        let plan = TopologyPlan(wanted: wanted, existing: [
            "s.a": .init(partitions: 2, replication: 3, configs: ["cleanup.policy": "delete"]),
            "s.b": .init(partitions: 8, replication: 1, configs: ["cleanup.policy": "delete"]),
        ])
        #expect(plan.create.isEmpty)
        #expect(plan.differences == [
            .partitions(topic: "s.a", wanted: 4, actual: 2),
            .replication(topic: "s.a", wanted: 1, actual: 3),
            .config(topic: "s.a", key: "retention.ms", wanted: "1000", actual: nil),
            .config(topic: "s.b", key: "cleanup.policy", wanted: "compact", actual: "delete"),
        ])
        #expect(plan.summary(applied: true) == "2 topics: 0 created, 0 up to date, 2 differ")
        #expect(plan.differences[0].description.contains("never repartitions"))
        #expect(plan.differences[2].description.contains("(unset)"))
    }

    @Test("everything in place is nothing to do")
    func upToDate() {
        let existing = Dictionary(uniqueKeysWithValues: wanted.map { ($0.name, TopologyPlan.Existing(partitions: $0.partitions, replication: 1, configs: $0.configs)) })
        let plan = TopologyPlan(wanted: wanted, existing: existing)
        #expect(plan.isUpToDate)
        #expect(plan.summary(applied: true).hasSuffix("(nothing to do)"))
    }
}
