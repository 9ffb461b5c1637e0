import Foundation
import SluiceStage
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sluice dev` as a newcomer runs it: its own Tansu, every stage, the demo receiver.
@Suite("sluice dev (integration)")
struct DevCommandIntegrationTests {
    static var tansu: String { TestBroker.repositoryRoot.appendingPathComponent(".deps/bin/tansu").path }

    /// The pids whose parent is `pid` (from /proc).
    static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    static func exists(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    @Test("the demo webhook arrives verified; Ctrl-C (SIGINT) stops every child in order and leaves no process")
    func demoAndStop() async throws {
        try await IntegrationSlots.run {
            let state = NSTemporaryDirectory() + "sluice-dev-test-\(getpid())-\(UUID().uuidString.prefix(8))"
            let log = state + ".log"
            let port = try freePort()
            let dev = try spawnWithCleanSignals(
                [executablePath("sluice"), "dev", "--port", String(port), "--admin-port", String(try freePort()), "--state-directory", state, "--tansu", Self.tansu, "--tiers", "1m=2s,10m=5s,1h=10s"],
                logPath: log)
            defer { kill(dev, SIGKILL) }
            let verified = try await waitForText("verified webhook", in: log, timeout: .seconds(90))
            #expect(verified, "the demo event arrived verified; log \(log)")
            let children = Self.children(of: dev)
            #expect(children.count == 9, "tansu, receiver, six stages and the admin API: \(children)")

            // Metrics on, one port per child; a failing endpoint's attempts show up in dev's output.
            #expect(try await waitForText("every stage is started", in: log, timeout: .seconds(90)), "log \(log)")
            let printed = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(printed.contains("dev: metrics: fanout http://127.0.0.1:") || printed.contains("dispatch http://127.0.0.1:"), "log \(log)")
            // The admin API: its URL and a dev admin key are printed, and the key works.
            let adminLine = try #require(printed.split(separator: "\n").first { $0.contains("dev: admin API http://") }, "log \(log)")
            let adminURL = try #require(adminLine.split(separator: " ").first { $0.hasPrefix("http://") && !$0.contains("/v1/") }.map(String.init))
            let adminKey = try #require(adminLine.split(separator: " ").last.map(String.init), "\(adminLine)")
            #expect(adminKey.hasPrefix("sk_"), "\(adminLine)")
            var listed = ""
            let answered = await waitUntil(timeout: .seconds(90), interval: .milliseconds(250)) {
                listed = (try? runCommand(["curl", "-sS", "-H", "Authorization: Bearer \(adminKey)", "\(adminURL)/v1/endpoints?tenant=demo"]))?.output ?? listed
                return listed.contains("/webhooks")
            }
            #expect(answered, "the admin API lists the demo endpoint with the dev key: \(listed)")
            // The dashboard: its URL and a portal link for tenant demo, which opens a session.
            let dashboardLine = try #require(printed.split(separator: "\n").first { $0.contains("dev: dashboard \(adminURL)/ui/") }, "log \(log)")
            let portal = try #require(dashboardLine.split(separator: " ").last.map(String.init), "\(dashboardLine)")
            #expect(portal.hasPrefix("\(adminURL)/ui/portal?token=v1."), "\(dashboardLine)")
            let entered = try runCommand(["curl", "-sS", "-o", "/dev/null", "-D", "-", portal]).output
            #expect(entered.contains("303") && entered.contains("sluice_session=") && entered.contains("SameSite=Strict"), "\(entered)")
            let key = printed.range(of: "SLUICE_MASTER_KEY=").map { String(printed[$0.upperBound...].prefix { !$0.isWhitespace }) } ?? ""
            let keyFile = try FileManager.default.attributesOfItem(atPath: state + "/master.key")
            #expect((keyFile[.posixPermissions] as? NSNumber)?.intValue == 0o600, "the dev master key is readable by its owner only")
            let env = ["SLUICE_BROKERS": "127.0.0.1:\(port)", "SLUICE_MASTER_KEY": key, "SLUICE_ALLOW_PRIVATE": "1", "SLUICE_ALLOW_HTTP": "1"]
            let failing = try runCommand([executablePath("sluice"), "endpoints", "create", "--tenant", "demo", "--url", "http://127.0.0.1:9/closed", "--types", "fail.*"], environment: env)
            #expect(failing.status == 0, "\(failing.output)")
            let published = try runCommand([executablePath("sluice"), "events", "publish", "--tenant", "demo", "--type", "fail.now"], environment: env)
            #expect(published.status == 0, "\(published.output)")
            #expect(try await waitForText("dev: ✗", in: log, timeout: .seconds(120)), "a failed attempt is printed; log \(log)")

            #expect(stop(dev, with: SIGINT, timeout: .seconds(60)) == 0, "exit 0 after Ctrl-C; log \(log)")
            let left = children.filter(Self.exists)
            #expect(left.isEmpty, "still running: \(left)")
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let order = ["stopping fanout", "stopping dispatch", "stopping receiver", "stopping tansu"].compactMap { output.range(of: $0)?.lowerBound }
            #expect(order.count == 4 && order == order.sorted(), "fanout first, the broker last")
            #expect(output.contains("no process left running"))
        }
    }

    @Test("a stage that dies is reported, the rest are stopped, and sluice dev exits 1 leaving no process")
    func childDies() async throws {
        try await IntegrationSlots.run {
            let state = NSTemporaryDirectory() + "sluice-dev-test-\(getpid())-\(UUID().uuidString.prefix(8))"
            let log = state + ".log"
            let dev = try spawnWithCleanSignals(
                [executablePath("sluice"), "dev", "--port", String(try freePort()), "--admin-port", String(try freePort()), "--state-directory", state, "--tansu", Self.tansu, "--no-demo"],
                logPath: log)
            defer { kill(dev, SIGKILL) }
            #expect(try await waitForText("every stage is started", in: log, timeout: .seconds(90)), "log \(log)")
            let children = Self.children(of: dev)
            let dispatch = try #require(children.first { pid in
                ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("sluice-dispatch")
            })
            kill(dispatch, SIGKILL)
            #expect(stop(dev, with: 0, timeout: .seconds(60)) == 1, "exit 1 after a child died; log \(log)")
            #expect(children.filter(Self.exists).isEmpty)
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(output.contains("dispatch stopped unexpectedly (killed by signal 9)"), "\(output.suffix(600))")
        }
    }

    @Test("a port that is taken gives an error naming what to do; the default port moves on by itself")
    func portTaken() async throws {
        try await IntegrationSlots.run {
            let taken = try freePort()
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(listener) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(taken).bigEndian
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            #expect(bound == 0 && listen(listener, 1) == 0)
            let result = try runCommand([executablePath("sluice"), "dev", "--port", String(taken), "--tansu", Self.tansu, "--state-directory", NSTemporaryDirectory() + "sluice-dev-port"])
            #expect(result.status != 0)
            #expect(result.output.contains("port \(taken) is taken") && result.output.contains("--port"), "\(result.output)")
            #expect(LoopbackPort.firstFree(from: taken) != taken, "the default port's search skips a taken port")
        }
    }

    @Test("a missing stage executable says which and how to build it; nothing is started")
    func missingExecutable() throws {
        let empty = NSTemporaryDirectory() + "sluice-dev-empty-\(getpid())"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let result = try runCommand([executablePath("sluice"), "dev", "--bin-directory", empty, "--tansu", Self.tansu, "--state-directory", empty])
        #expect(result.status != 0)
        #expect(result.output.contains("sluice-fanout") && result.output.contains("make build"), "\(result.output)")
    }
}
