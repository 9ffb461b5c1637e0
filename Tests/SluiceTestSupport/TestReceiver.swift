import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one webhook receiver the tests of a process share: `Tests/Tools/test_receiver.py`,
/// a real HTTP server on a free loopback port that can answer any status, delay, reset,
/// black-hole or redirect, and records what it received (see the script's paths).
///
/// Invariant: tests use paths under their own unique prefix, so they never see each
/// other's requests.
public final class TestReceiver: Sendable {
    public let port: Int
    public let logPath: String
    /// The certificates of the HTTPS receiver (``sharedTLS()``); nil for plain HTTP.
    public let certificates: TestCertificates?

    private static let instance = Task<TestReceiver, Error> { try TestReceiver.start(tls: nil) }
    private static let tlsInstance = Task<TestReceiver, Error> { try TestReceiver.start(tls: TestCertificates(folder: Scratch.path("tls"))) }

    public static func shared() async throws -> TestReceiver { try await instance.value }

    /// The same receiver over HTTPS, its certificate for ``TestCertificates/serverName`` and
    /// 127.0.0.1 signed by a throwaway authority (``certificates``).
    public static func sharedTLS() async throws -> TestReceiver { try await tlsInstance.value }

    private init(port: Int, logPath: String, certificates: TestCertificates?) {
        self.port = port
        self.logPath = logPath
        self.certificates = certificates
    }

    /// `http://127.0.0.1:<port><path>` (`https://` for the HTTPS receiver).
    public func url(_ path: String) -> String { url(path, host: "127.0.0.1") }

    /// The receiver's URL for `path` under the name `host` (pin it to 127.0.0.1).
    public func url(_ path: String, host: String) -> String { "\(certificates == nil ? "http" : "https")://\(host):\(port)\(path)" }

    private static func start(tls: TestCertificates?) throws -> TestReceiver {
        let script = TestBroker.repositoryRoot.appendingPathComponent("Tests/Tools/test_receiver.py").path
        let tlsArguments = tls.map { ["--tls-make", $0.folder] } ?? []
        var lastLog = ""
        for _ in 0..<5 {
            let port = try freePort()
            let logPath = NSTemporaryDirectory() + "sluice-test-receiver-\(getpid())-\(port).log"
            let pid = try spawnWatched(["python3", script, "--port", String(port)] + tlsArguments, logPath: logPath)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, isRunning(pid) {
                if canConnect(port: port) { return TestReceiver(port: port, logPath: logPath, certificates: tls) }
                usleep(20_000)
            }
            kill(pid, SIGTERM)
            lastLog = logPath
        }
        throw TestBrokerError("the test receiver did not start: see \(lastLog)")
    }

    /// `curl` reading the receiver's control paths (trusting the test authority over HTTPS).
    private var curl: [String] { ["curl", "-s"] + (certificates.map { ["--cacert", $0.caFile] } ?? []) }

    /// One request the receiver got.
    public struct Received: Sendable, Decodable {
        public var path: String
        public var time: Double
        public var headers: [String: String]
        public var body_base64: String
        /// The client's port: requests on one kept-alive connection share it.
        public var peer_port: Int
        public var body: [UInt8] { Array(Data(base64Encoded: body_base64) ?? Data()) }
    }

    /// The requests received on paths starting with `prefix`.
    public func received(prefix: String) throws -> [Received] {
        let result = try runCommand(curl + ["-G", url("/_requests"), "--data-urlencode", "prefix=\(prefix)"], timeout: .seconds(10))
        return try JSONDecoder().decode([Received].self, from: Data(result.output.utf8))
    }

    /// Waits (at most `timeout`) until `count` requests arrived under `prefix`; returns
    /// them all. To see extras (duplicates), read ``received(prefix:)`` again once what
    /// sends them has stopped, rather than waiting a while.
    public func awaitRequests(prefix: String, atLeast count: Int, timeout: Duration = .seconds(120)) async throws -> [Received] {
        var requests: [Received] = []
        _ = try await waitUntil(timeout: timeout) {
            requests = try received(prefix: prefix)
            return requests.count >= count
        }
        return requests
    }

    /// The most requests the receiver had in progress at once, over its life.
    public func maxConcurrent() throws -> Int {
        let result = try runCommand(curl + [url("/_stats")], timeout: .seconds(10))
        let stats = try JSONDecoder().decode([String: Int].self, from: Data(result.output.utf8))
        return stats["max_concurrent"] ?? 0
    }
}
