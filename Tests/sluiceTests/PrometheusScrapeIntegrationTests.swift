import Foundation
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real Prometheus (Debian's `prometheus`) scrapes running stages with the shipped alert
/// rules loaded: the targets are up, the stages' metrics arrive, every rule evaluates, and
/// a stage that dies turns `SluiceStageDown` pending.
@Suite("Prometheus scrapes the stages and evaluates the alert rules (integration)")
struct PrometheusScrapeIntegrationTests {
    @Test("targets up, sluice metrics stored, every rule evaluated, a killed stage raises SluiceStageDown")
    func scrape() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"), "run `make setup`: it installs Debian's prometheus")
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            try await fixture.createEndpoint(tenant: "acme", filter: "*")
            try await fixture.producer.send(fixture.events(tenant: "acme", type: "order.created", ids: 0..<10))
            let folder = NSTemporaryDirectory() + "sluice-prometheus-\(fixture.prefix)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

            var stages: [String: (pid: pid_t, port: Int)] = [:]
            defer { for (_, stage) in stages { _ = stop(stage.pid, with: SIGKILL) } }
            for name in ["sluice-fanout", "sluice-dispatch"] {
                let port = try freePort()
                var environment = fixture.environment(instance: "prom-\(name)")
                environment["SLUICE_METRICS_PORT"] = String(port)
                stages[name] = (try fixture.spawn(name, environment: environment, log: "\(folder)/\(name).log"), port)
            }

            let rules = TestBroker.repositoryRoot.appendingPathComponent("ops/prometheus/sluice-alerts.yml").path
            let jobs = stages.sorted { $0.key < $1.key }.map { name, stage in
                "  - job_name: \(name)\n    static_configs: [{targets: ['127.0.0.1:\(stage.port)']}]"
            }
            try """
                global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms}
                rule_files: ['\(rules)']
                scrape_configs:
                \(jobs.joined(separator: "\n"))

                """.write(toFile: "\(folder)/prometheus.yml", atomically: true, encoding: .utf8)
            let port = try freePort()
            let prometheus = try spawnWithCleanSignals(
                [
                    "/usr/bin/prometheus", "--config.file=\(folder)/prometheus.yml", "--storage.tsdb.path=\(folder)/data",
                    "--web.listen-address=127.0.0.1:\(port)",
                ], logPath: "\(folder)/prometheus.log")
            defer { _ = stop(prometheus, with: SIGKILL) }
            let api = PrometheusAPI(port: port)

            // Both stages scraped and up.
            let up = try await api.waitFor("both targets up (log \(folder)/prometheus.log)") {
                let results = try api.vector("up")
                return results.count == 2 && results.allSatisfy { $0.value == "1" } ? results : nil
            }
            #expect(Set(up.compactMap { $0.labels["job"] }) == ["sluice-fanout", "sluice-dispatch"])
            // The stages' own metrics arrive: fanout's lag gauge, dispatch's attempts.
            let lag = try await api.waitFor("sluice_fanout_consumer_lag stored") { try api.vector("sluice_fanout_consumer_lag").first }
            #expect(lag.labels["job"] == "sluice-fanout")
            // Every rule of the file loaded and evaluated without error.
            let evaluated = try await api.waitFor("every rule evaluated") { () -> [[String: Any]]? in
                let rules = try api.rules()
                let done = rules.allSatisfy { ($0["health"] as? String) == "ok" && !(($0["lastEvaluation"] as? String) ?? "0001").hasPrefix("0001") }
                return !rules.isEmpty && done ? rules : nil
            }
            #expect(evaluated.count >= 6, "\(evaluated.map { $0["name"] ?? "?" })")
            #expect(evaluated.contains { $0["name"] as? String == "SluiceStageDown" })

            // Dispatch dies: its target goes down and the stage-down alert becomes pending.
            if let dispatch = stages.removeValue(forKey: "sluice-dispatch") { _ = stop(dispatch.pid, with: SIGKILL) }
            let alert = try await api.waitFor("SluiceStageDown pending for sluice-dispatch") { () -> [String: Any]? in
                try api.alerts().first { alert in
                    (alert["labels"] as? [String: String])?["alertname"] == "SluiceStageDown"
                        && (alert["labels"] as? [String: String])?["job"] == "sluice-dispatch"
                }
            }
            #expect(["pending", "firing"].contains(alert["state"] as? String ?? ""), "\(alert)")
            #expect(try api.alerts().allSatisfy { ($0["labels"] as? [String: String])?["job"] != "sluice-fanout" }, "fanout is still up")
        }
    }
}

/// The few calls of Prometheus's HTTP API the test makes, through curl.
struct PrometheusAPI {
    let port: Int

    func get(_ path: String) throws -> [String: Any] {
        let result = try runCommand(["curl", "-s", "--max-time", "5", "http://127.0.0.1:\(port)/api/v1/\(path)"], timeout: .seconds(10))
        let object = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        guard let object, object["status"] as? String == "success", let data = object["data"] as? [String: Any] else { return [:] }
        return data
    }

    /// An instant query's samples: labels and value.
    func vector(_ query: String) throws -> [(labels: [String: String], value: String)] {
        (try get("query?query=\(query)")["result"] as? [[String: Any]] ?? []).map { sample in
            (sample["metric"] as? [String: String] ?? [:], (sample["value"] as? [Any])?.last as? String ?? "")
        }
    }

    func rules() throws -> [[String: Any]] {
        (try get("rules")["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
    }

    func alerts() throws -> [[String: Any]] { try get("alerts")["alerts"] as? [[String: Any]] ?? [] }

    /// Polls `probe` until it gives a value, for at most three minutes.
    func waitFor<T>(_ what: String, _ probe: () throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            if let value = try probe() { return value }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw TimedOut(what: what)
    }

    struct TimedOut: Error, CustomStringConvertible {
        let what: String
        var description: String { "waited three minutes for \(what)" }
    }
}
