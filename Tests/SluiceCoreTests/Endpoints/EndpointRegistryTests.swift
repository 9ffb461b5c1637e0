import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

@Suite("Event type filters and the endpoint registry")
struct EndpointRegistryTests {
    static func endpoint(_ id: String, tenant: String = "acme", filter: String, enabled: Bool = true, revision: Int = 1) -> Endpoint {
        var e = Endpoint(id: id, tenant: tenant, url: "https://x.test/\(id)", filter: try! EventTypeFilter(parsing: filter), sealedSecret: "s", enabled: enabled)
        e.revision = revision
        return e
    }

    @Test("filters take exact types, prefixes and everything")
    func filters() throws {
        let f = try EventTypeFilter(parsing: "order.*, invoice.paid")
        #expect(f.matches("order.created"))
        #expect(f.matches("order.item.added"))
        #expect(!f.matches("order"))
        #expect(!f.matches("orders.created"))
        #expect(f.matches("invoice.paid"))
        #expect(!f.matches("invoice.paid.late"))
        #expect(EventTypeFilter.all.matches("anything"))
        #expect(throws: EndpointError.self) { try EventTypeFilter(parsing: "") }
        #expect(throws: EndpointError.self) { try EventTypeFilter(parsing: "or*der") }
        #expect(throws: EndpointError.self) { try EventTypeFilter(parsing: ".*") }
    }

    @Test("lookups return a tenant's enabled endpoints whose filter takes the type")
    func lookups() {
        var registry = EndpointRegistry()
        registry.upsert(Self.endpoint("a", filter: "order.*"))
        registry.upsert(Self.endpoint("b", filter: "order.created"))
        registry.upsert(Self.endpoint("c", filter: "*"))
        registry.upsert(Self.endpoint("d", filter: "invoice.*", enabled: false))
        registry.upsert(Self.endpoint("e", tenant: "globex", filter: "*"))
        #expect(registry.endpoints(tenant: "acme", type: "order.created").map(\.id) == ["a", "b", "c"])
        #expect(registry.endpoints(tenant: "acme", type: "order.paid").map(\.id) == ["a", "c"])
        #expect(registry.endpoints(tenant: "acme", type: "invoice.paid").map(\.id) == ["c"])
        #expect(registry.endpoints(tenant: "globex", type: "order.created").map(\.id) == ["e"])
        #expect(registry.endpoints(tenant: "nobody", type: "order.created").isEmpty)
    }

    @Test("records update, disable and (tombstones) delete; stale revisions are ignored")
    func records() throws {
        var registry = EndpointRegistry()
        try registry.apply(key: "a", value: try Self.endpoint("a", filter: "order.*").wireBytes())
        #expect(registry.endpoints(tenant: "acme", type: "order.x").count == 1)
        try registry.apply(key: "a", value: try Self.endpoint("a", filter: "invoice.*", revision: 2).wireBytes())
        #expect(registry.endpoints(tenant: "acme", type: "order.x").isEmpty)
        #expect(registry.endpoints(tenant: "acme", type: "invoice.x").count == 1)
        try registry.apply(key: "a", value: try Self.endpoint("a", filter: "order.*", revision: 1).wireBytes())
        #expect(registry.endpoints(tenant: "acme", type: "invoice.x").count == 1, "revision 1 is older than 2")
        try registry.apply(key: "a", value: try Self.endpoint("a", filter: "invoice.*", enabled: false, revision: 3).wireBytes())
        #expect(registry.endpoints(tenant: "acme", type: "invoice.x").isEmpty)
        #expect(registry["a"]?.enabled == false)
        try registry.apply(key: "a", value: nil)
        #expect(registry["a"] == nil)
        #expect(registry.count == 0)
    }

    @Test("a bad record changes nothing and says why")
    func badRecords() throws {
        var registry = EndpointRegistry()
        registry.upsert(Self.endpoint("a", filter: "*"))
        #expect(throws: WireError.self) { try registry.apply(key: "a", value: Array("garbage".utf8)) }
        #expect(throws: WireError.self) { try registry.apply(key: "b", value: try Self.endpoint("a", filter: "*").wireBytes()) }
        #expect(registry.endpoints(tenant: "acme", type: "x").map(\.id) == ["a"])
    }

    @Test("the index answers exactly what a scan of every filter answers")
    func indexMatchesScan() async {
        let types = ["order.created", "order.paid", "order.item.added", "invoice.paid", "user", "user.deleted"]
        let patterns = ["*", "order.*", "order.item.*", "invoice.paid", "user", "user.*", "order.created"]
        await propertyCheck(input: Gen.int(in: 0...(patterns.count - 1)).array(of: 1...3).array(of: 1...40)) { filters in
            var registry = EndpointRegistry()
            var all: [Endpoint] = []
            for (i, picks) in filters.enumerated() {
                let e = Self.endpoint("ep\(i)", tenant: i % 3 == 0 ? "t0" : "t1", filter: picks.map { patterns[$0] }.joined(separator: ","), enabled: i % 5 != 4)
                registry.upsert(e)
                all.append(e)
            }
            for tenant in ["t0", "t1"] {
                for type in types {
                    let scanned = all.filter { $0.tenant == tenant && $0.enabled && $0.filter.matches(type) }.map(\.id).sorted()
                    #expect(registry.endpoints(tenant: tenant, type: type).map(\.id) == scanned)
                }
            }
        }
    }
}

@Suite("Endpoint secret rotation")
struct EndpointRotationTests {
    @Test("during the overlap both secrets sign; after it only the new one; without overlap the old one stops at once")
    func rotation() throws {
        let box = try SecretBox(masterKeyBase64: SecretBox.Key.generateBase64())
        let (old, new) = (Secret.generate(), Secret.generate())
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var endpoint = Endpoint(id: "ep_1", tenant: "acme", url: "https://x.test/", filter: try EventTypeFilter(parsing: "*"), sealedSecret: box.seal(old, endpointID: "ep_1"), now: now)
        endpoint.rotateSecret(to: box.seal(new, endpointID: "ep_1"), overlap: .seconds(3600), now: now)
        #expect(endpoint.revision == 2)
        #expect(try endpoint.signingSecrets(box: box, now: now.addingTimeInterval(60)).map(\.encoded) == [new.encoded, old.encoded])
        #expect(try endpoint.signingSecrets(box: box, now: now.addingTimeInterval(3601)).map(\.encoded) == [new.encoded])
        endpoint.rotateSecret(to: box.seal(old, endpointID: "ep_1"), overlap: .zero, now: now)
        #expect(try endpoint.signingSecrets(box: box, now: now).map(\.encoded) == [old.encoded])
    }
}
