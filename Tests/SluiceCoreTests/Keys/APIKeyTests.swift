import Foundation
import Testing

@testable import SluiceCore

@Suite("API keys")
struct APIKeyTests {
    @Test("a generated key is sk_…, stored only as its SHA-256, and found by the registry until revoked")
    func lifecycle() throws {
        let (record, secret) = APIKey.generate(tenant: "acme", name: "backend")
        #expect(secret.hasPrefix("sk_") && secret.count == 43)
        let stored = String(decoding: try record.wireBytes(), as: UTF8.self)
        #expect(record.hash == APIKey.hash(of: secret) && !stored.contains(secret))
        #expect(record.tenant == "acme" && !record.admin)

        var registry = APIKeyRegistry()
        try registry.apply(key: record.id, value: try record.wireBytes())
        #expect(registry.key(presented: secret)?.id == record.id)
        #expect(registry.key(presented: secret + "x") == nil)
        #expect(registry.key(presented: "not-a-key") == nil)

        var revoked = record
        revoked.revokedAt = Date()
        try registry.apply(key: record.id, value: try revoked.wireBytes())
        #expect(registry.key(presented: secret) == nil, "a revoked key grants nothing")
        #expect(registry.all.count == 1)
        try registry.apply(key: record.id, value: nil)
        #expect(registry.all.isEmpty, "a tombstone removes it")
    }

    @Test("an admin key has no tenant; a record with both, a bad hash or a key differing from its id is refused")
    func refusals() throws {
        let (admin, secret) = APIKey.generate(tenant: nil)
        #expect(admin.admin && admin.tenant == nil && admin.matches(presented: secret))
        var both = admin
        both.tenant = "acme"
        #expect(throws: WireError.self) { try both.wireBytes() }
        var badHash = admin
        badHash.hash = "ABC"
        #expect(throws: WireError.self) { try badHash.wireBytes() }
        var registry = APIKeyRegistry()
        #expect(throws: WireError.self) { try registry.apply(key: "key_other", value: try admin.wireBytes()) }
        #expect(throws: WireError.self) { try registry.apply(key: admin.id, value: Array("{}".utf8)) }
    }

    @Test("idempotent event ids depend on tenant, key and index only")
    func idempotentIDs() {
        let a = IdempotentEventID.make(tenant: "acme", key: "order-42", index: 0)
        #expect(a == IdempotentEventID.make(tenant: "acme", key: "order-42", index: 0))
        #expect(a.hasPrefix("evt_") && a.count == 36)
        #expect(a != IdempotentEventID.make(tenant: "globex", key: "order-42", index: 0))
        #expect(a != IdempotentEventID.make(tenant: "acme", key: "order-42", index: 1))
        #expect(IdempotentEventID.make(tenant: "a\n1", key: "b", index: 0) != IdempotentEventID.make(tenant: "a", key: "1\nb", index: 0))
    }
}
