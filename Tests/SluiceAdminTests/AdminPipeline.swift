import Foundation
import SluiceCore
import SluiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `sluice-admin` with `sluice-dispatch` and `sluice-fanout` on one fixture, the shared
/// receiver, and API keys of two tenants (`acme`, and `globex` to prove isolation): what
/// the HTTP tests that follow deliveries through the pipeline share.
///
/// Invariant: after ``kill()`` nothing it started runs; ``stopStages()`` stops the stages
/// with SIGTERM first, so a test can check that they exit cleanly.
///
/// ```swift
/// let pipeline = try await AdminPipeline(kafka, name: "ops", schedule: "0s")
/// defer { pipeline.kill() }
/// ```
final class AdminPipeline: @unchecked Sendable {
    let fixture: StageFixture
    let receiver: TestReceiver
    /// acme's key, and another tenant's.
    let key: String
    let other: String
    let admin: AdminHarness
    /// Where the stages' logs go: this prefix, then the stage's name and `.log`.
    let logs: String
    private var stages: [pid_t]

    /// Starts the admin and the two stages under `SLUICE_RETRY_SCHEDULE=schedule`, with
    /// loopback and plain-http destinations allowed; their logs are named after `name`.
    init(_ kafka: IntegrationTest, name: String, schedule: String) async throws {
        fixture = try await StageFixture.make(kafka)
        receiver = try await TestReceiver.shared()
        key = try await AdminHarness.createKey(fixture: fixture, tenant: "acme")
        other = try await AdminHarness.createKey(fixture: fixture, tenant: "globex")
        admin = try await AdminHarness(fixture: fixture)
        var env = fixture.environment(instance: name)
        env["SLUICE_ALLOW_PRIVATE"] = "1"
        env["SLUICE_ALLOW_HTTP"] = "1"
        env["SLUICE_RETRY_SCHEDULE"] = schedule
        logs = NSTemporaryDirectory() + "sluice-admin-\(name)-\(fixture.prefix)"
        stages = []
        do {
            for stage in ["sluice-dispatch", "sluice-fanout"] {
                stages.append(try fixture.spawn(stage, [], environment: env, log: logs + stage + ".log"))
            }
        } catch {
            kill()
            throw error
        }
    }

    /// Stops the stages with SIGTERM; their exit codes (0 each when they stop cleanly).
    func stopStages() async -> [Int32?] {
        var codes: [Int32?] = []
        for pid in stages { codes.append(await AdminHarness.stop(pid)) }
        stages = []
        return codes
    }

    /// Ends the admin and whatever stage still runs.
    func kill() {
        for pid in stages { _ = Glibc.kill(pid, SIGKILL) }
        stages = []
        admin.kill()
    }
}
