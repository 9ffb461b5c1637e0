import Foundation
import Metrics
import Testing

@testable import SluiceStage

@Suite("Dispatch metrics: deferrals by reason")
struct DispatchMetricsTests {
    /// The value of the deferral series for `reason` in the process-wide registry (0 when
    /// absent). Other tests in the process may count the same listed reasons meanwhile.
    static func deferred(_ reason: String) -> Double {
        let text = String(decoding: MetricsEndpoint.registry.emitToBuffer(), as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("sluice_dispatch_deferred_total{reason=\"\(reason)\"}") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test("a reason made at start-up and one never listed are both counted in their own series")
    func counted() {
        _ = MetricsEndpoint.registry
        let metrics = DispatchMetrics()
        #expect(DispatchMetrics.deferralReasons.contains("circuit_open"))
        let before = Self.deferred("circuit_open")
        metrics.deferred("circuit_open")
        metrics.deferred("circuit_open")
        #expect(Self.deferred("circuit_open") >= before + 2)
        let unlisted = "test_unlisted_\(UInt32.random(in: 0...UInt32.max))"
        metrics.deferred(unlisted)
        #expect(Self.deferred(unlisted) == 1)
    }
}
