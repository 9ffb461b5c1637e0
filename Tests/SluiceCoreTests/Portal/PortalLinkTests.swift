import Foundation
import Testing

@testable import SluiceCore

@Suite struct PortalLinkTests {
    let key = try! PortalLink.signingKey(masterKeyBase64: Data(repeating: 7, count: 32).base64EncodedString())
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aLinkVerifiesUntilItExpires() throws {
        let link = try PortalLink(tenant: "acme", ttl: .seconds(3600), readOnly: true, now: now)
        let token = link.token(key: key)
        let back = try PortalLink.verify(token, key: key, now: now.addingTimeInterval(3599))
        #expect(back == link)
        #expect(back.readOnly)
        #expect(throws: PortalLinkError.expired) { try PortalLink.verify(token, key: key, now: now.addingTimeInterval(3600)) }
    }

    @Test func changingAnyPartBreaksTheSignature() throws {
        let token = try PortalLink(tenant: "acme", ttl: .seconds(3600), readOnly: true, now: now).token(key: key)
        var parts = token.split(separator: ".").map(String.init)
        let other = try PortalLink(tenant: "globex", ttl: .seconds(3600), readOnly: true, now: now).token(key: key).split(separator: ".").map(String.init)
        for (index, replacement) in [(1, other[1]), (2, String(Int64(parts[2])! + 86_400)), (3, "0")] {
            var changed = parts
            changed[index] = replacement
            #expect(throws: PortalLinkError.badSignature) { try PortalLink.verify(changed.joined(separator: "."), key: key, now: now) }
        }
        parts[4] = String(parts[4].reversed())
        #expect(throws: PortalLinkError.self) { try PortalLink.verify(parts.joined(separator: "."), key: key, now: now) }
    }

    @Test func anotherMasterKeyDoesNotAcceptIt() throws {
        let token = try PortalLink(tenant: "acme", ttl: .seconds(600), readOnly: false, now: now).token(key: key)
        let otherKey = try PortalLink.signingKey(masterKeyBase64: Data(repeating: 8, count: 32).base64EncodedString())
        #expect(throws: PortalLinkError.badSignature) { try PortalLink.verify(token, key: otherKey, now: now) }
    }

    @Test(arguments: ["", "v1", "v1.a.b.c.d", "v2.YWNtZQ.1.0.AAAA", "v1.YWNtZQ.x.0.AAAA", "v1.YWNtZQ.1.2.AAAA", "v1.!!.1.0.AAAA", String(repeating: "v", count: 5000)])
    func malformedTokensAreRefused(_ token: String) {
        #expect(throws: PortalLinkError.self) { try PortalLink.verify(token, key: key, now: now) }
    }

    @Test func lifetimeAndTenantAreChecked() {
        #expect(throws: PortalLinkError.badTTL) { try PortalLink(tenant: "acme", ttl: .seconds(30), readOnly: false) }
        #expect(throws: PortalLinkError.badTTL) { try PortalLink(tenant: "acme", ttl: .seconds(8 * 86_400), readOnly: false) }
        #expect(throws: PortalLinkError.badTenant) { try PortalLink(tenant: "", ttl: .seconds(3600), readOnly: false) }
        #expect(throws: PortalLinkError.noKey) { try PortalLink.signingKey(masterKeyBase64: "c2hvcnQ=") }
    }

    @Test func theURLCarriesTheToken() throws {
        let link = try PortalLink(tenant: "a b/ç", ttl: .seconds(3600), readOnly: false, now: now)
        let url = link.url(base: "https://admin.example/", key: key)
        #expect(url.hasPrefix("https://admin.example/ui/portal?token=v1."))
        let token = String(url.split(separator: "=", maxSplits: 1)[1])
        #expect(try PortalLink.verify(token, key: key, now: now).tenant == "a b/ç")
    }
}
