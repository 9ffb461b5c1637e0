import Foundation
import SluiceCore
import SluiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A running `sluice-admin` executable on a free loopback port against a
/// ``StageFixture``, and an HTTP client for it (curl, so requests go over real HTTP).
///
/// Every wait on a child process runs off Swift's cooperative pool (``OffPool``), each on a
/// serial queue of its own (overcommitting: it never waits for a thread behind other
/// blocked work): the test process has one pool thread per core, and the in-process stages
/// of other suites share it.
final class AdminHarness: Sendable {
    let fixture: StageFixture
    let port: Int
    let storePath: String
    let logPath: String
    let environment: [String: String]
    let pid: pid_t

    /// An answer: status, body text, and the body as a JSON object when it is one.
    struct Answer: Sendable, CustomStringConvertible {
        var status: Int
        var text: String
        var contentType: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] }
        var description: String { "\(status) \(contentType) \(text.prefix(600))" }
    }

    /// Starts the admin (store in a fresh folder unless `storePath`) and waits, up to
    /// `timeout`, until `/readyz` answers 200.
    init(fixture: StageFixture, storePath: String? = nil, environment extra: [String: String] = [:], timeout: Duration = .seconds(120)) async throws {
        self.fixture = fixture
        port = try freePort()
        self.storePath = storePath ?? Scratch.path("admin-store") + "/store.sqlite"
        logPath = NSTemporaryDirectory() + "sluice-admin-\(fixture.prefix)\(port).log"
        var env = fixture.environment(instance: "admin")
        env["SLUICE_ADMIN_PORT"] = String(port)
        env["SLUICE_ADMIN_STORE"] = self.storePath
        env["SLUICE_ALLOW_PRIVATE"] = "1"
        env["SLUICE_ALLOW_HTTP"] = "1"
        env.merge(extra) { $1 }
        environment = env
        pid = try fixture.spawn("sluice-admin", [], environment: env, log: logPath)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard isRunning(pid) else { throw TestBrokerError("sluice-admin exited early; log \(logPath):\n\(log.suffix(3000))") }
            if (try? await request("GET", "/readyz"))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Glibc.kill(pid, SIGKILL)
        throw TestBrokerError("sluice-admin was not ready within \(timeout); log \(logPath):\n\(log.suffix(3000))")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Stops it with SIGTERM; its exit code (nil when it had to be killed).
    func stop() async -> Int32? { await Self.stop(pid) }

    /// Stops child `pid` with SIGTERM, waiting off the cooperative pool.
    static func stop(_ pid: pid_t) async -> Int32? {
        let code: Int32? = await OffPool.run(on: DispatchQueue(label: "sluice-admin-test")) { () throws(Never) in SluiceTestSupport.stop(pid) }
        return code
    }

    func kill() { _ = Glibc.kill(pid, SIGKILL) }

    /// One request over HTTP.
    func request(_ method: String, _ path: String, key: String? = nil, json body: String? = nil, headers: [String: String] = [:]) async throws -> Answer {
        let out = NSTemporaryDirectory() + "sluice-admin-answer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        var arguments = ["curl", "-sS", "-o", out, "-w", "%{http_code} %{content_type}", "-X", method, "--max-time", "30"]
        if let key { arguments += ["-H", "Authorization: Bearer \(key)"] }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        let command = arguments
        let result = try await Self.run(command, timeout: .seconds(40))
        let parts = result.output.split(separator: " ", maxSplits: 1)
        guard result.status == 0, let status = parts.first.flatMap({ Int($0) }) else {
            throw TestBrokerError("curl \(method) \(path) failed: \(result.output)")
        }
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return Answer(status: status, text: text, contentType: parts.count > 1 ? String(parts[1]) : "")
    }

    /// Repeats `request` until `done` holds for its answer (at most `timeout`); returns the last answer.
    func poll(
        _ method: String, _ path: String, key: String, timeout: Duration = .seconds(90), until done: (Answer) -> Bool
    ) async throws -> Answer {
        let deadline = ContinuousClock.now + timeout
        var answer = try await request(method, path, key: key)
        while !done(answer), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            answer = try await request(method, path, key: key)
        }
        return answer
    }

    /// A key made with `sluice keys create` (`--tenant T`, or `--admin` when nil).
    static func createKey(fixture: StageFixture, tenant: String?) async throws -> String {
        let scope = tenant.map { ["--tenant", $0] } ?? ["--admin"]
        let result = try await run([executablePath("sluice"), "keys", "create", "--json"] + scope, environment: fixture.environment(instance: "cli"))
        guard result.status == 0 else { throw TestBrokerError("keys create failed: \(result.output)") }
        for line in result.output.split(separator: "\n") where line.contains("\"key\":\"sk_") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let key = object?["key"] as? String { return key }
        }
        throw TestBrokerError("keys create printed no key: \(result.output)")
    }

    /// ``runCommand(_:environment:timeout:)`` off the cooperative pool.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        let outcome: Result<CommandResult, any Error> = await OffPool.run(on: DispatchQueue(label: "sluice-admin-test")) { () throws(Never) in
            Result { try runCommand(arguments, environment: environment, timeout: timeout) }
        }
        return try outcome.get()
    }
}
