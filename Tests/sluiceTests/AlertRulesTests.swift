import Foundation
import SluiceTestSupport
import Testing
import Yams

/// ops/prometheus/sluice-alerts.yml: valid for promtool, its own rule tests pass, and it
/// names only metrics the stages really export.
@Suite("Prometheus alert rules (ops/prometheus)")
struct AlertRulesTests {
    static let folder = TestBroker.repositoryRoot.appendingPathComponent("ops/prometheus")

    /// Every `sluice_…` metric name the sources register (string literals).
    static func exportedMetrics() throws -> Set<String> {
        let sources = TestBroker.repositoryRoot.appendingPathComponent("Sources")
        var names = Set<String>()
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        let literal = try Regex(#""(sluice_[a-z0-9_]+)""#)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: literal) { names.insert(String(match.output[1].substring ?? "")) }
        }
        return names
    }

    @Test("promtool check rules and promtool test rules pass")
    func promtool() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") else {
            Issue.record("promtool is missing: run `make setup` (it installs Debian's prometheus package)")
            return
        }
        let check = try runCommand(["promtool", "check", "rules", Self.folder.appendingPathComponent("sluice-alerts.yml").path])
        #expect(check.status == 0, "\(check.output)")
        let test = try runCommand(["/usr/bin/env", "-C", Self.folder.path, "promtool", "test", "rules", "sluice-alerts.test.yml"])
        #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
    }

    @Test("every sluice_ metric in an alert is one a stage exports; every alert has a severity and a summary")
    func metricsExist() throws {
        let exported = try Self.exportedMetrics()
        #expect(exported.contains("sluice_fanout_consumer_lag"), "the scan of Sources found the metrics: \(exported.sorted())")
        let text = try String(contentsOf: Self.folder.appendingPathComponent("sluice-alerts.yml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let rules = (document["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        #expect(rules.count >= 6, "stage down, lag, failure rate, circuits, dead letters, tier lateness")
        let metric = try Regex(#"sluice_[a-z0-9_]+"#)
        for rule in rules {
            let name = rule["alert"] as? String ?? "?"
            let expression = rule["expr"] as? String ?? ""
            for match in expression.matches(of: metric) {
                var used = String(expression[match.range])
                // A histogram's series: the timer's name plus _bucket, _sum or _count.
                for suffix in ["_bucket", "_sum", "_count"] where !exported.contains(used) && used.hasSuffix(suffix) {
                    used = String(used.dropLast(suffix.count))
                }
                #expect(exported.contains(used), "\(name) uses \(used), which no stage exports")
            }
            #expect((rule["labels"] as? [String: Any])?["severity"] != nil, "\(name) has a severity")
            #expect((rule["annotations"] as? [String: Any])?["summary"] != nil, "\(name) has a summary")
        }
        let names = Set(rules.compactMap { $0["alert"] as? String })
        for wanted in ["SluiceStageDown", "SluiceFanoutLagGrowing", "SluiceDeliveryFailureRateHigh", "SluiceCircuitsOpen", "SluiceDeadLettersRate", "SluiceRetryTierLate"] {
            #expect(names.contains(wanted))
        }
    }
}
