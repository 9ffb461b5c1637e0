import Foundation

/// A throwaway certificate authority and a server certificate it signed, made with the
/// `openssl` command for the HTTPS tests: the server's names are ``serverName`` and the
/// address 127.0.0.1. Nothing outside the test process trusts the authority.
///
/// Invariant: the files exist once ``make()`` returns, under ``Scratch``.
///
/// ```swift
/// let certificates = try TestCertificates.make()
/// CurlMultiClient(pools: [.init()], caFile: certificates.caFile)  // trusts the test server
/// ```
public struct TestCertificates: Sendable {
    /// The name the server certificate is for (pin it to 127.0.0.1 to reach the receiver).
    public static let serverName = "hooks.sluice.test"

    /// The authority's certificate (PEM): what a client trusts to accept the server.
    public let caFile: String
    public let serverCertificate: String
    public let serverKey: String

    /// Makes a new authority and a server certificate signed by it (EC P-256, valid two days).
    public static func make() throws -> TestCertificates {
        let folder = Scratch.path("tls")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (caKey, caFile) = (folder + "/ca.key", folder + "/ca.pem")
        let (key, request, certificate, extensions) = (folder + "/server.key", folder + "/server.csr", folder + "/server.pem", folder + "/server.ext")
        try """
            subjectAltName = DNS:\(serverName), IP:127.0.0.1
            basicConstraints = CA:FALSE
            keyUsage = digitalSignature
            extendedKeyUsage = serverAuth
            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=Sluice test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try openssl(["req"] + ec + ["-keyout", key, "-out", request, "-subj", "/CN=\(serverName)"])
        try openssl(["x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-out", certificate,
            "-days", "2", "-extfile", extensions])
        return TestCertificates(caFile: caFile, serverCertificate: certificate, serverKey: key)
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try runCommand(["openssl"] + arguments, timeout: .seconds(60))
        guard result.status == 0 else {
            throw TestBrokerError("openssl \(arguments.first ?? "") failed (exit \(result.status)): \(result.output)")
        }
    }
}
