import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("sluice-dispatch to HTTPS endpoints (integration)")
struct DispatchTLSIntegrationTests {
    @Test("with http.ca_file an endpoint behind a private CA is delivered to; a certificate for another name fails as tls and is retried")
    func privateAuthority() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.sharedTLS()
            let certificates = try #require(receiver.certificates)
            let prefix = "/\(fixture.prefix)"
            let good = try await fixture.createEndpoint(
                tenant: "acme", filter: "*", url: receiver.url("\(prefix)good/ok", host: TestCertificates.serverName))
            let misnamed = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: receiver.url("\(prefix)misnamed/ok", host: "other.sluice.test"))
            try await fixture.deliveries(to: good, ids: 0..<3)
            try await fixture.deliveries(to: misnamed, ids: 3..<4)
            var config = DispatchStage.Config()
            config.resolver = FixedResolver([TestCertificates.serverName: [.v4(0x7f00_0001)], "other.sluice.test": [.v4(0x7f00_0001)]])
            let attempts = try await DispatchIntegrationTests.withDispatch(fixture, ["http.ca_file": certificates.caFile], config: config) {
                DispatchIntegrationTests.attempts(try await fixture.read("attempts", atLeast: 4))
            }
            let delivered = attempts.filter { $0.endpointID == good.id }
            #expect(delivered.count == 3 && delivered.allSatisfy { $0.outcome == .delivered && $0.status == 200 }, "\(delivered.map { $0.error ?? "" })")
            #expect(try receiver.received(prefix: "\(prefix)good").count == 3)
            let refused = try #require(attempts.first { $0.endpointID == misnamed.id })
            #expect(refused.errorClass == .tls && refused.outcome == .retrying, "\(refused.error ?? "")")
            #expect(try receiver.received(prefix: "\(prefix)misnamed").isEmpty)
        }
    }
}
