import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Admin, topology and failure paths against Tansu (integration)")
struct KafkaAdminIntegrationTests {
    static var topology: Topology {
        get throws { try Topology.load(path: TestBroker.repositoryRoot.appendingPathComponent("topology/sluice.yaml").path) }
    }

    @Test("topology apply twice creates every topic once, then reports nothing to do")
    func applyTwice() async throws {
        try await IntegrationTest.run { kafka in
            let prefix = kafka.uniqueName("apply") + "."
            let wanted = try Self.topology.resolvedTopics(prefix: prefix)
            let applier = TopologyApplier(admin: try kafka.admin())

            let first = try await applier.apply(wanted, dryRun: false)
            #expect(first.created.sorted() == wanted.map(\.name).sorted())
            let described = try await kafka.admin().describeTopics()
            for topic in wanted {
                #expect(described[topic.name]?.partitions == topic.partitions, "\(topic.name)")
            }
            #expect(described[prefix + "deliveries"]?.partitions == 32)

            let second = try await applier.apply(wanted, dryRun: false)
            #expect(second.created.isEmpty)
            #expect(second.plan.isUpToDate)
            #expect(second.plan.summary(applied: true).hasSuffix("(nothing to do)"))
        }
    }

    @Test("apply reports a partition or config difference and changes nothing")
    func applyReportsDifferences() async throws {
        try await IntegrationTest.run { kafka in
            let prefix = kafka.uniqueName("diff") + "."
            var wanted = try Self.topology.resolvedTopics(prefix: prefix)
            let applier = TopologyApplier(admin: try kafka.admin())
            _ = try await applier.apply(wanted, dryRun: false)

            wanted[0].partitions += 4
            wanted[1].configs["retention.ms"] = "1000"
            let result = try await applier.apply(wanted, dryRun: false)
            #expect(result.created.isEmpty)
            #expect(result.plan.differences.contains(.partitions(topic: wanted[0].name, wanted: wanted[0].partitions, actual: wanted[0].partitions - 4)))
            #expect(result.plan.differences.contains { if case .config(wanted[1].name, "retention.ms", "1000", _) = $0 { true } else { false } })
            #expect(try await kafka.admin().describeTopics()[wanted[0].name]?.partitions == wanted[0].partitions - 4)
        }
    }

    @Test("dry run creates nothing")
    func dryRun() async throws {
        try await IntegrationTest.run { kafka in
            let prefix = kafka.uniqueName("dry") + "."
            let wanted = try Self.topology.resolvedTopics(prefix: prefix)
            let result = try await TopologyApplier(admin: try kafka.admin()).apply(wanted, dryRun: true)
            #expect(result.plan.create.count == wanted.count)
            #expect(result.created.isEmpty)
            let existing = try await kafka.admin().describeTopics()
            #expect(wanted.allSatisfy { existing[$0.name] == nil })
        }
    }

    @Test("a missing topic is named by the start-up check, which creates nothing")
    func missingTopicIsNamed() async throws {
        try await IntegrationTest.run { kafka in
            let present = try await kafka.createTopic(partitions: 1)
            let absent = kafka.uniqueName("absent")
            let admin = try kafka.admin()
            var thrown: KafkaError?
            do throws(KafkaError) { try await admin.requireTopics([present, absent]) } catch { thrown = error }
            #expect(thrown?.kind == .topicsMissing([absent]))
            #expect(thrown?.description.contains("sluice topology apply") == true)
            #expect(try await admin.describeTopics()[absent] == nil)
        }
    }

    @Test("a record over the size limit fails with messageTooLarge and the producer keeps working")
    func oversizeRecord() async throws {
        try await IntegrationTest.run { kafka in
            let topic = try await kafka.createTopic(partitions: 1)
            let producer = try KafkaProducer(
                config: KafkaProducerConfig(client: kafka.client, messageMaxBytes: 10_000), logger: kafka.logger)
            var thrown: KafkaError?
            do throws(KafkaError) {
                try await producer.send(KafkaProducerRecord(topic: topic, value: [UInt8](repeating: 1, count: 20_000)))
            } catch { thrown = error }
            #expect(thrown?.kind == .messageTooLarge)
            #expect(thrown?.remedy.contains("message.max.bytes") == true)
            let ok = try await producer.send(KafkaProducerRecord(topic: topic, value: Array("small".utf8)))
            #expect(ok.offset >= 0)
        }
    }

    @Test("an unreachable broker gives a clear error within a bounded time")
    func brokerUnreachable() async throws {
        let port = try freePort()
        let admin = try KafkaAdmin(
            config: KafkaClientConfig(brokers: "127.0.0.1:\(port)", requestTimeout: .seconds(3)),
            logger: .init(label: "test"))
        let started = ContinuousClock.now
        var thrown: KafkaError?
        do throws(KafkaError) { _ = try await admin.describeTopics() } catch { thrown = error }
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(thrown?.kind == .brokerUnreachable || thrown?.kind == .timedOut)
        #expect(thrown?.remedy.isEmpty == false)
    }
}
