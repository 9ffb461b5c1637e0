import Foundation
import SluiceCore
import Testing

@testable import SluiceAdmin

@Suite("Endpoint stats")
struct AttemptStatsTests {
    func attempt(status: Int?, latency: Double, outcome: Attempt.Outcome) -> Attempt {
        let event = Event.structured(id: "evt", source: "/t", type: "t.x", tenant: "acme", data: .null)
        let delivery = Delivery(event: event, endpointID: "ep_1", now: Date())
        return Attempt(delivery: delivery, at: Date(), status: status, latencyMs: latency, errorClass: status == nil ? .timeout : .none, outcome: outcome)
    }

    @Test("counts by outcome and status class add up; success rate and nearest-rank percentiles")
    func counts() {
        var attempts = (1...98).map { attempt(status: 200, latency: Double($0), outcome: .delivered) }
        attempts.append(attempt(status: 503, latency: 500, outcome: .retrying))
        attempts.append(attempt(status: nil, latency: 15_000, outcome: .retrying))
        let stats = AttemptStats(attempts)
        #expect(stats.count == 100 && stats.byOutcome == ["delivered": 98, "retrying": 2])
        #expect(stats.byStatusClass == ["2xx": 98, "5xx": 1, "none": 1])
        #expect(stats.successRate == 0.98)
        #expect(stats.p50 == 50 && stats.p95 == 95 && stats.p99 == 500)
    }

    @Test("no attempts: zero counts, no rate and no percentiles")
    func empty() {
        let stats = AttemptStats([])
        #expect(stats.count == 0 && stats.byOutcome.isEmpty && stats.successRate == nil && stats.p99 == nil)
    }
}
