import Foundation
import Logging
import Metrics
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("Metrics endpoint: /metrics and /healthz")
struct MetricsEndpointTests {
    /// The status and body of `GET http://127.0.0.1:port/path` (status 0: no answer within
    /// 60 s; the process-wide registry holds every in-process stage test's series, and the
    /// machine may be running a whole pipeline per integration slot).
    static func get(_ port: Int, _ path: String) throws -> (status: Int, body: String) {
        let result = try runCommand(["curl", "-s", "--max-time", "60", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"], timeout: .seconds(90))
        let status = Int(result.output.split(separator: "\n").last ?? "") ?? 0
        return (status, String(result.output.dropLast(String(status).count + 1)))
    }

    @Test("/healthz answers 200 ok; /metrics serves the registry; other paths 404")
    func healthz() async throws {
        let port = try freePort()
        let endpoint = MetricsEndpoint(port: port, logger: Logger(label: "test"))
        Counter(label: "sluice_test_healthz_total").increment()
        // Stopped by cancelling its task (a stage stops it by graceful shutdown): how the
        // server then ends (CancellationError or a socket error) is not under test.
        let serving = Task { try await endpoint.run() }
        defer { serving.cancel() }
        #expect(await waitUntil(timeout: .seconds(60)) { (try? Self.get(port, "/healthz").status) == 200 })
        let health = try Self.get(port, "/healthz")
        #expect(health.status == 200 && health.body == "ok\n", "\(health)")
        // A scrape that gets no answer is tried again, as Prometheus does on its next interval
        // (a clean-clone run once got status 000 here while every slot ran a pipeline).
        var metrics = (status: 0, body: "")
        let scraped = await waitUntil(timeout: .seconds(120), interval: .seconds(1)) {
            metrics = (try? Self.get(port, "/metrics")) ?? (0, "")
            return metrics.status != 0
        }
        #expect(scraped, "no answer to /metrics within 120 s")
        #expect(metrics.status == 200 && metrics.body.contains("sluice_test_healthz_total 1"), "\(metrics.status): \(metrics.body.prefix(500))")
        #expect(try Self.get(port, "/nothing").status == 404)
        serving.cancel()
        _ = try? await serving.value
    }

    @Test("the retry tiers' lateness histogram has buckets up to 10 minutes (the alert looks at 30 s)")
    func latenessBuckets() {
        _ = MetricsEndpoint.registry
        Timer(label: "sluice_retry_forward_lateness_seconds", dimensions: [("tier", "test")]).recordSeconds(45)
        let text = String(decoding: MetricsEndpoint.registry.emitToBuffer(), as: UTF8.self)
        let buckets = text.split(separator: "\n").filter { $0.hasPrefix("sluice_retry_forward_lateness_seconds_bucket") && $0.contains("tier=\"test\"") }
        #expect(buckets.contains { $0.contains("le=\"30.0\"") && $0.hasSuffix(" 0") }, "\(buckets)")
        #expect(buckets.contains { $0.contains("le=\"60.0\"") && $0.hasSuffix(" 1") }, "\(buckets)")
        #expect(buckets.contains { $0.contains("le=\"600.0\"") }, "\(buckets)")
    }
}
