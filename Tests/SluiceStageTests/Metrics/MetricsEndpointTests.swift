import Foundation
import Logging
import Metrics
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("Metrics endpoint: /metrics and /healthz")
struct MetricsEndpointTests {
    /// The status and body of `GET http://127.0.0.1:port/path`.
    static func get(_ port: Int, _ path: String) throws -> (status: Int, body: String) {
        let result = try runCommand(["curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"], timeout: .seconds(10))
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
        let metrics = try Self.get(port, "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("sluice_test_healthz_total 1"), "\(metrics.body.prefix(500))")
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
