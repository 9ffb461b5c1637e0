import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("The sluice-fanout executable (integration)")
struct FanoutExecutableIntegrationTests {
    @Test("serves Prometheus metrics and /healthz, and stops with exit 0 on SIGINT and SIGTERM")
    func metricsAndShutdown() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            try await fixture.createEndpoint(tenant: "acme", filter: "*")
            var records = fixture.events(tenant: "acme", type: "order.created", ids: 0..<20)
            records.append(KafkaProducerRecord(topic: fixture.topic("events"), key: Array("acme".utf8), value: Array("garbage".utf8)))
            try await fixture.producer.send(records)

            for signal in [SIGINT, SIGTERM] {
                let port = try freePort()
                var env = fixture.environment(instance: "exe-\(signal)")
                env["SLUICE_METRICS_PORT"] = String(port)
                let log = NSTemporaryDirectory() + "sluice-fanout-exe-\(fixture.prefix)\(signal).log"
                let pid = try fixture.spawn("sluice-fanout", environment: env, log: log)
                defer { kill(pid, SIGKILL) }

                var metrics = ""
                let deadline = ContinuousClock.now + .seconds(180)
                while ContinuousClock.now < deadline {
                    let scrape = try runCommand(["curl", "-s", "http://127.0.0.1:\(port)/metrics"], timeout: .seconds(5))
                    metrics = scrape.output
                    if signal == SIGINT, metrics.contains("sluice_fanout_events_total 21") { break }
                    if signal == SIGTERM, metrics.contains("sluice_fanout_transactions_total") || metrics.contains("sluice_fanout_consumer_lag") { break }
                    try await Task.sleep(for: .milliseconds(300))
                }
                if signal == SIGINT {
                    #expect(metrics.contains("sluice_fanout_events_total 21"), "\(metrics.prefix(2000))")
                    #expect(metrics.contains("sluice_fanout_deliveries_total 20"))
                    #expect(metrics.contains(#"sluice_fanout_rejected_total{reason="unparseable"} 1"#))
                    #expect(metrics.contains("sluice_fanout_transaction_seconds_bucket"))
                }
                let health = try runCommand(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/healthz"], timeout: .seconds(5))
                #expect(health.output == "200", "GET /healthz on the stage's metrics port: \(health.output)")
                kill(pid, signal)
                var status: Int32 = 0
                let started = ContinuousClock.now
                while waitpid(pid, &status, WNOHANG) == 0, ContinuousClock.now - started < .seconds(20) { usleep(50_000) }
                #expect(status & 0x7f == 0, "exited normally after signal \(signal)")
                #expect((status >> 8) & 0xff == 0, "exit code 0 after signal \(signal); log \(log)")
            }
        }
    }
}
