import Foundation
import Synchronization
import Logging
import SluiceKafka
import SluiceStage

#if canImport(Glibc)
import Glibc
#endif

/// The one Tansu broker the integration tests of a test process share.
///
/// Started on a free loopback port on first use, with memory storage (Tansu never deletes
/// records, so each test run gets a fresh broker). A watchdog shell stops it when the
/// test process ends, even by SIGKILL. Its output goes to ``logPath``; tests that fail
/// by throwing print its tail (see ``IntegrationTest/run(_:)``).
///
/// Invariant: every test uses its own topics and groups (``IntegrationTest/uniqueName(_:)``),
/// so tests may run in parallel on the one broker.
public final class TestBroker: Sendable {
    public let bootstrap: String
    public let port: Int
    public let logPath: String
    let watchdog: pid_t

    private static let instance = Task<TestBroker, Error> { try TestBroker.start() }

    /// The shared broker, started on first call.
    public static func shared() async throws -> TestBroker { try await instance.value }

    /// The repository's root (from this file's path).
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var tansuPath: String { repositoryRoot.appendingPathComponent(".deps/bin/tansu").path }

    private init(port: Int, logPath: String, watchdog: pid_t) {
        self.port = port
        self.bootstrap = "127.0.0.1:\(port)"
        self.logPath = logPath
        self.watchdog = watchdog
    }

    private static func start() throws -> TestBroker {
        guard FileManager.default.isExecutableFile(atPath: tansuPath) else {
            throw TestBrokerError("no Tansu at \(tansuPath): run `make test` (or scripts/setup.sh) first")
        }
        var lastError = ""
        for _ in 0..<5 {
            let port = try freePort()
            let logPath = NSTemporaryDirectory() + "sluice-test-tansu-\(getpid())-\(port).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let watchdog = try startWatchdog(port: port, logPath: logPath)
            if waitUntilListening(port: port, watchdog: watchdog, timeout: .seconds(10)) {
                let broker = TestBroker(port: port, logPath: logPath, watchdog: watchdog)
                FileHandle.standardError.write(Data("test broker: Tansu on 127.0.0.1:\(port), log \(logPath)\n".utf8))
                watchdogPID = watchdog
                atexit { if TestBroker.watchdogPID > 0 { kill(TestBroker.watchdogPID, SIGTERM) } }
                return broker
            }
            if isRunning(watchdog) { kill(watchdog, SIGTERM) }
            lastError = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        }
        throw TestBrokerError("Tansu did not start; its last output:\n\(lastError)")
    }

    /// Runs Tansu under a watchdog that stops it when this process is gone.
    private static func startWatchdog(port: Int, logPath: String) throws -> pid_t {
        let url = "tcp://127.0.0.1:\(port)"
        return try spawnWatched(
            [tansuPath, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            logPath: logPath)
    }

    private static func waitUntilListening(port: Int, watchdog: pid_t, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if canConnect(port: port) { return true }
            if !isRunning(watchdog) { return false }
            usleep(20_000)
        }
        return false
    }

    /// The watchdog of the started broker, for the exit handler.
    nonisolated(unsafe) private static var watchdogPID: pid_t = 0

    /// The last `lines` lines of the broker's log.
    public func logTail(lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

public struct TestBrokerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A loopback port nobody listens on right now, and not handed out before in this process:
/// a test often passes ports to processes that bind them only later (``LoopbackPortPool``).
public func freePort() throws -> Int { try portsGiven.withLock { try $0.next() } }

private let portsGiven = Mutex(LoopbackPortPool())

/// True when something accepts TCP connections on 127.0.0.1:`port`.
public func canConnect(port: Int) -> Bool { LoopbackPort.accepts(port) }
