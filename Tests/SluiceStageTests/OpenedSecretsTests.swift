import Foundation
import SluiceCore
import Testing

@testable import SluiceStage

@Suite("Opened signing secrets (dispatch's cache)")
struct OpenedSecretsTests {
    let box = try! SecretBox(masterKeyBase64: SecretBox.Key.generateBase64())
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func endpoint(_ secret: Secret) -> Endpoint {
        Endpoint(id: "ep_1", tenant: "acme", url: "https://x.test/h", filter: .all, sealedSecret: box.seal(secret, endpointID: "ep_1"))
    }

    @Test("answers what the endpoint itself opens, again from the cache, and a rotated secret with its overlap")
    func sameAnswers() throws {
        let opened = OpenedSecrets()
        let (first, second) = (Secret.generate(), Secret.generate())
        var endpoint = endpoint(first)
        #expect(try opened.signingSecrets(of: endpoint, box: box, now: now) == [first])
        #expect(try opened.signingSecrets(of: endpoint, box: box, now: now) == [first])
        endpoint.rotateSecret(to: box.seal(second, endpointID: endpoint.id), overlap: .seconds(60), now: now)
        #expect(try opened.signingSecrets(of: endpoint, box: box, now: now) == [second, first])
        #expect(try opened.signingSecrets(of: endpoint, box: box, now: now.addingTimeInterval(61)) == [second])
        #expect(try opened.signingSecrets(of: endpoint, box: box, now: now) == endpoint.signingSecrets(box: box, now: now))
    }

    @Test("a secret sealed under another master key fails every time, and is never kept")
    func unreadable() {
        let opened = OpenedSecrets()
        let other = try! SecretBox(masterKeyBase64: SecretBox.Key.generateBase64())
        let endpoint = Endpoint(id: "ep_2", tenant: "acme", url: "https://x.test/h", filter: .all, sealedSecret: other.seal(.generate(), endpointID: "ep_2"))
        for _ in 0..<2 {
            #expect(throws: SecretBoxError.self) { try opened.signingSecrets(of: endpoint, box: box, now: now) }
        }
        #expect(throws: Never.self) { try opened.signingSecrets(of: endpoint, box: other, now: now) }
    }

    @Test("a full cache starts over and still answers right")
    func capacity() throws {
        let opened = OpenedSecrets(capacity: 2)
        let secrets = (0..<5).map { _ in Secret.generate() }
        for secret in secrets + secrets {
            #expect(try opened.signingSecrets(of: endpoint(secret), box: box, now: now) == [secret])
        }
    }
}
