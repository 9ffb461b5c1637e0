/// The throwaway certificate authority of the HTTPS test receiver (``TestReceiver/sharedTLS()``):
/// `Tests/Tools/test_receiver.py --tls-make` makes it, and a server certificate it signed
/// for ``serverName`` and the address 127.0.0.1, with the `openssl` command before it
/// listens (`make bench` makes its HTTPS sink's certificate with the same code). Nothing outside the test
/// process trusts the authority.
///
/// Invariant: ``caFile`` exists once the receiver accepts connections.
///
/// ```swift
/// let certificates = try #require(try await TestReceiver.sharedTLS().certificates)
/// CurlMultiClient(pools: [.init()], caFile: certificates.caFile)  // trusts the test server
/// ```
public struct TestCertificates: Sendable {
    /// The name the server certificate is for (pin it to 127.0.0.1 to reach the receiver).
    public static let serverName = "hooks.sluice.test"

    /// The folder the receiver makes the authority and the server's certificate in.
    let folder: String

    /// The authority's certificate (PEM): what a client trusts to accept the server.
    public var caFile: String { folder + "/ca.pem" }
}
