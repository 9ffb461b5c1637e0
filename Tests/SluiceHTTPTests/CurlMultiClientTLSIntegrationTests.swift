import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("The libcurl multi client over HTTPS (integration)")
struct CurlMultiClientTLSIntegrationTests {
    /// The HTTPS receiver, a client (trusting the receiver's test CA, or only the system's
    /// CAs) and a path prefix of the test's own.
    func setUp(trustingTheTestCA: Bool = true, connections: Int = 8) async throws -> (TestReceiver, CurlMultiClient, String) {
        let receiver = try await TestReceiver.sharedTLS()
        let caFile = trustingTheTestCA ? try #require(receiver.certificates).caFile : nil
        return (receiver, CurlMultiClient(pools: [.init(maxConnections: connections)], caFile: caFile), "/t-\(UUID().uuidString.prefix(8))")
    }

    /// A POST to `host` at the HTTPS receiver, pinned to 127.0.0.1 as dispatch pins every
    /// checked destination.
    func request(_ receiver: TestReceiver, _ path: String, host: String = TestCertificates.serverName) -> WebhookRequest {
        WebhookRequest(
            url: receiver.url(path, host: host), headers: [("content-type", "application/json")], body: Array(#"{"over":"tls"}"#.utf8),
            timeout: .seconds(10), resolve: "\(host):\(receiver.port):127.0.0.1", excerptLimit: 16)
    }

    /// Posts `request`, expecting a TLS failure and nothing received under `prefix`.
    func expectRefused(_ client: CurlMultiClient, _ request: WebhookRequest, _ receiver: TestReceiver, prefix: String) async throws {
        guard case .failure(let failure) = await client.post(request) else {
            Issue.record("\(request.url): a certificate that does not verify was accepted")
            return
        }
        #expect(failure.errorClass == .tls, "\(failure.message)")
        #expect(try receiver.received(prefix: prefix).isEmpty)
    }

    @Test("a POST to the server's name, pinned to its address, is verified against the CA file given and arrives")
    func verifiedAgainstTheCAFile() async throws {
        let (receiver, client, prefix) = try await setUp()
        defer { client.shutdown() }
        let response = try await client.post(request(receiver, "\(prefix)/status/201")).get()
        #expect(response.status == 201)
        let got = try #require(try receiver.received(prefix: prefix).first)
        #expect(got.body == Array(#"{"over":"tls"}"#.utf8))
    }

    @Test("a body larger than the handle's 16 KiB upload buffer arrives whole over TLS, and again on the reused handle")
    func largeBody() async throws {
        let (receiver, client, prefix) = try await setUp(connections: 1)
        defer { client.shutdown() }
        let body = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for n in 0..<2 {
            var large = request(receiver, "\(prefix)/\(n)/ok")
            large.body = body
            #expect(try await client.post(large).get().status == 200)
        }
        let got = try receiver.received(prefix: prefix)
        #expect(got.count == 2 && got.allSatisfy { $0.body == body })
    }

    @Test("a certificate from an authority the system does not trust is a TLS failure, and no request is received")
    func untrustedAuthority() async throws {
        let (receiver, client, prefix) = try await setUp(trustingTheTestCA: false)
        defer { client.shutdown() }
        try await expectRefused(client, request(receiver, "\(prefix)/ok"), receiver, prefix: prefix)
    }

    @Test("a certificate for another name is a TLS failure: the pinned address does not replace the name check")
    func wrongName() async throws {
        let (receiver, client, prefix) = try await setUp()
        defer { client.shutdown() }
        try await expectRefused(client, request(receiver, "\(prefix)/ok", host: "other.sluice.test"), receiver, prefix: prefix)
    }
}
