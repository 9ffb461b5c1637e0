import Foundation
import SluiceCore
import SluiceStage
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sluice dev` must leave nothing running however it ends: the children bind their life
/// to it (parent-death signal, `SLUICE_SUPERVISOR_PID`), and it ignores SIGPIPE so that a
/// closed output pipe cannot kill it before it has stopped them.
@Suite("sluice dev leaves no process behind, however it ends (integration)", .serialized)
struct DevSupervisionIntegrationTests {
    /// How `sluice dev` is ended.
    enum Ending: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sigkill, sigterm
        /// `make dev 2>&1 | tee log`, then Ctrl-C: the reader of its output is gone first.
        case closedPipeThenSigint
        var testDescription: String { rawValue }
    }

    static var tansu: String { TestBroker.repositoryRoot.appendingPathComponent(".deps/bin/tansu").path }

    @Test("after SIGKILL, SIGTERM, or Ctrl-C with its output pipe closed, none of the processes sluice dev started is left", arguments: Ending.allCases)
    func nothingOutlivesIt(_ ending: Ending) async throws {
        try await IntegrationSlots.run {
            let state = NSTemporaryDirectory() + "sluice-dev-end-\(getpid())-\(UUID().uuidString.prefix(8))"
            let arguments = [
                executablePath("sluice"), "dev", "--port", String(try freePort()), "--admin-port", String(try freePort()), "--state-directory", state,
                "--tansu", Self.tansu,
                "--tiers", "1m=2s,10m=5s,1h=10s",
            ]
            let dev: pid_t
            var pipe: Int32 = -1
            let up: Bool
            var output = ""
            if ending == .closedPipeThenSigint {
                (dev, pipe) = try spawnWithPipe(arguments)
                (up, output) = await readUntil("every stage is started", from: pipe, timeout: .seconds(120))
            } else {
                let log = state + ".log"
                dev = try spawnWithCleanSignals(arguments, logPath: log)
                up = try await waitForText("every stage is started", in: log, timeout: .seconds(120))
                output = "log \(log)"
            }
            defer { if pipe >= 0 { close(pipe) } }
            defer { kill(dev, SIGKILL) }
            try #require(up, "sluice dev started: \(output.suffix(2000))")
            let started = descendants(of: dev)
            #expect(started.count >= 9, "tansu, the receiver, six stages and the admin API: \(started)")

            switch ending {
            case .sigkill:
                #expect(stop(dev, with: SIGKILL, timeout: .seconds(10)) == nil)
            case .sigterm:
                #expect(stop(dev, with: SIGTERM, timeout: .seconds(90)) == 0, "it stops its children and exits 0")
            case .closedPipeThenSigint:
                close(pipe)
                pipe = -1
                var status: Int32 = 0
                kill(dev, SIGINT)
                let exited = await waitUntil(timeout: .seconds(90)) { waitpid(dev, &status, WNOHANG) == dev }
                #expect(exited)
                #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 0, "it exits 0, not by SIGPIPE (wait status \(status))")
            }
            let gone = await waitUntil(timeout: .seconds(45)) { started.allSatisfy { !$0.isAlive } }
            #expect(gone, "still running 45 s after sluice dev ended (\(ending)): \(started.filter(\.isAlive))")
        }
    }

    @Test("supervised-exec runs its program under a live supervisor, refuses without one, and exits 1 when it is gone")
    func supervisedExec() throws {
        let sluice = executablePath("sluice")
        let runs = try runCommand([sluice, "supervised-exec", "--", "/bin/echo", "hello"], environment: ["SLUICE_SUPERVISOR_PID": String(getpid())])
        #expect(runs.status == 0 && runs.output == "hello\n", "\(runs.output)")
        let refused = try runCommand(["/usr/bin/env", "-u", "SLUICE_SUPERVISOR_PID", sluice, "supervised-exec", "--", "/bin/echo", "hello"])
        #expect(refused.status != 0 && refused.output.contains("SLUICE_SUPERVISOR_PID"), "\(refused.output)")
        // pid 2 is never our parent: the supervisor is "gone" before the program starts.
        let orphan = try runCommand([sluice, "supervised-exec", "--", "/bin/sleep", "60"], environment: ["SLUICE_SUPERVISOR_PID": "2"], timeout: .seconds(30))
        #expect(orphan.status == 1, "\(orphan.output)")
    }

    @Test("a child whose supervisor is gone already stops by itself")
    func orphanedChildStops() throws {
        let receiver = try runCommand(
            [executablePath("sluice"), "receive", "--port", String(try freePort())],
            environment: ["SLUICE_SUPERVISOR_PID": "2", "SLUICE_RECEIVER_SECRET": Secret.generate().encoded], timeout: .seconds(30))
        #expect(receiver.status != -1, "it stopped within 30 s: \(receiver.output)")
    }

    @Test("sluice dev started through PATH from another folder finds the stage executables beside itself")
    func findsExecutablesBesideItself() throws {
        let elsewhere = NSTemporaryDirectory() + "sluice-dev-elsewhere-\(getpid())"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let bin = (executablePath("sluice") as NSString).deletingLastPathComponent
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // A Tansu that does not exist: the run stops right after finding the executables.
        let result = try runCommand(
            ["/usr/bin/env", "-C", elsewhere, "PATH=\(path)", "sluice", "dev", "--tansu", elsewhere + "/no-tansu", "--state-directory", elsewhere])
        #expect(!result.output.contains("missing in"), "\(result.output)")
        #expect(result.output.contains("no-tansu is not an executable file"), "\(result.output)")
    }
}
