import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("sluice-fanout against Tansu (integration)")
struct FanoutIntegrationTests {
    /// Runs a fanout stage in this process until `body` returns.
    static func withFanout<T: Sendable>(_ fixture: StageFixture, instance: String = "f1", _ body: () async throws -> T) async throws -> T {
        let runtime = StageRuntime(name: "sluice-fanout", settings: fixture.settings(instance: instance))
        let stage = try await FanoutStage.start(runtime: runtime, topology: fixture.topology, delivery: try fixture.delivery())
        return try await whileRunning({ try await stage.run() }, body)
    }

    @Test("2,000 events of 3 tenants to 20 endpoints of mixed filters give exactly the expected deliveries, once each")
    func exactFanOut() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let tenants = ["acme", "globex", "initech"]
            let filters = ["*", "order.*", "order.created", "invoice.*", "invoice.paid", "user.deleted", "order.*,invoice.paid"]
            var endpoints: [Endpoint] = []
            for i in 0..<20 {
                endpoints.append(try await fixture.createEndpoint(tenant: tenants[i % 3], filter: filters[i % filters.count]))
            }
            let types = ["order.created", "order.paid", "invoice.paid", "invoice.voided", "user.created"]
            var records: [KafkaProducerRecord] = []
            var expected = Set<DeliveryPair>()
            for n in 0..<2000 {
                let tenant = tenants[n % 3]
                let type = types[n % types.count]
                records += fixture.events(tenant: tenant, type: type, ids: n..<(n + 1))
                for e in endpoints where e.tenant == tenant && e.filter.matches(type) {
                    expected.insert(DeliveryPair(event: "evt-\(n)", endpoint: e.id))
                }
            }
            try await fixture.producer.send(records)

            let delivered = try await Self.withFanout(fixture) {
                try await fixture.read("deliveries", atLeast: expected.count)
            }
            let pairs = delivered.compactMap(DeliveryPair.init)
            #expect(pairs.count == delivered.count, "every delivery record parses")
            let comparison = DeliveryComparison(expected: expected, got: pairs)
            #expect(comparison.isExact, "\(comparison)")
            #expect(expected.count > 2000)
            // Keyed by endpoint id, so one endpoint's deliveries share a partition.
            for (_, byEndpoint) in Dictionary(grouping: delivered, by: { $0.key ?? [] }) {
                #expect(Set(byEndpoint.map(\.partition)).count == 1)
            }
        }
    }

    @Test("malformed, incomplete, oversize and wrong-version events land in sluice.rejected with their reason; the stage goes on")
    func rejections() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "*")
            let events = fixture.topic("events")
            let bad: [(String, String?)] = [
                ("{not json", "unparseable"),
                (#"{"specversion":"1.0","source":"/s","type":"t"}"#, "missing_attribute"),
                (#"{"specversion":"1.0","id":"x","source":"/s"}"#, "missing_attribute"),
                (#"{"specversion":"0.3","id":"x","source":"/s","type":"t"}"#, "unsupported_specversion"),
                (String(repeating: "x", count: 300 * 1024), "oversize"),
            ]
            var records = bad.map { KafkaProducerRecord(topic: events, key: Array("acme".utf8), value: Array($0.0.utf8), headers: [KafkaHeader("origin", "test")]) }
            records.append(KafkaProducerRecord(topic: events, key: nil, value: Array(#"{"specversion":"1.0","id":"x","source":"/s","type":"t"}"#.utf8)))
            records += fixture.events(tenant: "acme", type: "order.created", ids: 0..<3)
            try await fixture.producer.send(records)

            let (rejected, delivered) = try await Self.withFanout(fixture) {
                (try await fixture.read("rejected", atLeast: 6), try await fixture.read("deliveries", atLeast: 3))
            }
            let reasons = rejected.compactMap { $0.headers[header: FanoutTransform.reasonHeader]?.stringValue }.sorted()
            #expect(reasons == ["missing_attribute", "missing_attribute", "missing_tenant", "oversize", "unparseable", "unsupported_specversion"])
            let unparseable = try #require(rejected.first { $0.headers[header: FanoutTransform.reasonHeader]?.stringValue == "unparseable" })
            #expect(unparseable.text == "{not json", "the original bytes are kept")
            #expect(unparseable.headers[header: "origin"]?.stringValue == "test", "the original headers are kept")
            #expect(unparseable.headers[header: FanoutTransform.detailHeader]?.stringValue?.isEmpty == false)
            let comparison = DeliveryComparison(expected: Set((0..<3).map { DeliveryPair(event: "evt-\($0)", endpoint: endpoint.id) }), got: delivered.compactMap(DeliveryPair.init))
            #expect(comparison.isExact, "\(comparison)")
        }
    }

    @Test("binary-mode events fan out like structured ones, with a structured body")
    func binaryMode() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "invoice.*")
            let record = KafkaProducerRecord(
                topic: fixture.topic("events"), key: Array("acme".utf8), value: Array(#"{"amount":12}"#.utf8),
                headers: [KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", "bin-1"), KafkaHeader("ce_source", "/billing"),
                          KafkaHeader("ce_type", "invoice.paid"), KafkaHeader("content-type", "application/json")])
            try await fixture.producer.send(record)
            let delivered = try await Self.withFanout(fixture) { try await fixture.read("deliveries", atLeast: 1) }
            let delivery = try Delivery(wireBytes: try #require(delivered.first?.value))
            #expect(delivery.eventID == "bin-1")
            #expect(delivery.endpointID == endpoint.id)
            let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(delivery.body))
            #expect(body["data"] == .object(["amount": .number(12)]))
            #expect(body["type"] == .string("invoice.paid"))
        }
    }

    @Test("an endpoint disabled, or deleted with a tombstone, stops receiving new deliveries; a new one starts")
    func endpointChanges() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let store = try fixture.store()
            var disabled = try await fixture.createEndpoint(tenant: "acme", filter: "*")
            let deleted = try await fixture.createEndpoint(tenant: "acme", filter: "*")
            let producer = try kafka.producer()
            try await Self.withFanout(fixture) {
                try await producer.send(fixture.events(tenant: "acme", type: "a.b", ids: 0..<5))
                _ = try await fixture.read("deliveries", atLeast: 10)
                disabled.enabled = false
                disabled.revision += 1
                try await store.put(disabled)
                try await store.delete(id: deleted.id)
                let added = try await fixture.createEndpoint(tenant: "acme", filter: "*")
                // Published after the changes were acknowledged: fanout must see them.
                try await producer.send(fixture.events(tenant: "acme", type: "a.b", ids: 5..<10))
                let all = try await fixture.read("deliveries", atLeast: 15).compactMap(DeliveryPair.init)
                var expected = Set((0..<5).flatMap { [DeliveryPair(event: "evt-\($0)", endpoint: disabled.id), DeliveryPair(event: "evt-\($0)", endpoint: deleted.id)] })
                expected.formUnion((5..<10).map { DeliveryPair(event: "evt-\($0)", endpoint: added.id) })
                let comparison = DeliveryComparison(expected: expected, got: all)
                #expect(comparison.isExact, "\(comparison)")
            }
        }
    }

    @Test("two copies in one group split the partitions and together produce the exact set")
    func twoCopies() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let a = try await fixture.createEndpoint(tenant: "acme", filter: "*")
            let b = try await fixture.createEndpoint(tenant: "globex", filter: "*")
            var records: [KafkaProducerRecord] = []
            for n in 0..<600 { records += fixture.events(tenant: n % 2 == 0 ? "acme" : "globex", type: "x.y", ids: n..<(n + 1)) }
            let pairs = try await Self.withFanout(fixture, instance: "one") {
                try await Self.withFanout(fixture, instance: "two") {
                    try await fixture.producer.send(records)
                    return try await fixture.read("deliveries", atLeast: 600).compactMap(DeliveryPair.init)
                }
            }
            let expected = Set((0..<600).map { DeliveryPair(event: "evt-\($0)", endpoint: $0 % 2 == 0 ? a.id : b.id) })
            let comparison = DeliveryComparison(expected: expected, got: pairs)
            #expect(comparison.isExact, "\(comparison)")
        }
    }

    @Test("a stage whose topics are missing says which and does not start")
    func missingTopics() async throws {
        try await IntegrationTest.run { kafka in
            var fixture = try await StageFixture.make(kafka)
            fixture = try StageFixture(kafka: kafka, prefix: kafka.uniqueName("none") + ".", masterKey: fixture.masterKey, topology: fixture.topology)
            let runtime = StageRuntime(name: "sluice-fanout", settings: fixture.settings())
            await #expect { _ = try await FanoutStage.start(runtime: runtime, topology: fixture.topology, delivery: try fixture.delivery()) } throws: {
                "\($0)".contains(fixture.topic("events")) && "\($0)".contains("sluice topology apply")
            }
            #expect(try await kafka.admin().describeTopics()[fixture.topic("events")] == nil)
        }
    }
}
