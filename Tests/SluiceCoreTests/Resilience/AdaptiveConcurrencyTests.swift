import Foundation
import Testing

@testable import SluiceCore

@Suite("Adaptive concurrency (AIMD per endpoint)")
struct AdaptiveConcurrencyTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// `rounds` round trips of a steady endpoint kept busy: each round, `current` answers.
    static func busy(_ limit: inout AdaptiveConcurrency, rounds: Int, latency: Duration, from time: inout Date) {
        for _ in 0..<rounds {
            for _ in 0..<limit.current { limit.record(.ok, latency: latency, saturated: true, now: time) }
            time += latency.timeInterval
        }
    }

    @Test("starts low and grows about one per round trip while kept busy, up to its maximum")
    func grows() {
        var limit = AdaptiveConcurrency(maximum: 32, initial: 4)
        var time = Self.start
        #expect(limit.current == 4)
        Self.busy(&limit, rounds: 10, latency: .milliseconds(20), from: &time)
        #expect((12...15).contains(limit.current), "\(limit.current) after 10 rounds from 4")
        Self.busy(&limit, rounds: 100, latency: .milliseconds(20), from: &time)
        #expect(limit.current == 32)
    }

    @Test("does not grow while the endpoint is not kept busy")
    func idleKeeps() {
        var limit = AdaptiveConcurrency(maximum: 32, initial: 4)
        for i in 0..<1000 { limit.record(.ok, latency: .milliseconds(20), saturated: false, now: Self.start + Double(i)) }
        #expect(limit.current == 4)
    }

    @Test("a burst of timeouts from one window halves the limit once; later ones halve again; never below 1")
    func halves() {
        var limit = AdaptiveConcurrency(maximum: 64, initial: 4)
        var time = Self.start
        Self.busy(&limit, rounds: 200, latency: .milliseconds(50), from: &time)
        #expect(limit.current == 64)
        for _ in 0..<30 { limit.record(.overloaded, latency: .seconds(10), saturated: true, now: time) }
        #expect(limit.current == 32)
        time += 1
        limit.record(.overloaded, latency: .seconds(10), saturated: true, now: time)
        #expect(limit.current == 16)
        for i in 0..<50 { limit.record(.overloaded, latency: .seconds(10), saturated: true, now: time + Double(i + 1)) }
        #expect(limit.current == 1)
    }

    @Test("latency rising above twice the baseline shrinks the limit; steady latency does not")
    func latencyRise() {
        var limit = AdaptiveConcurrency(maximum: 64, initial: 4)
        var time = Self.start
        Self.busy(&limit, rounds: 100, latency: .milliseconds(10), from: &time)
        let before = limit.current
        Self.busy(&limit, rounds: 30, latency: .milliseconds(200), from: &time)
        #expect(limit.current < before / 2, "\(before) → \(limit.current)")
        // Slower for good: after a few minutes the new latency is the baseline, and it grows again.
        let shrunk = limit.current
        Self.busy(&limit, rounds: Int(AdaptiveConcurrency.baselineCreep * 2 / 0.2), latency: .milliseconds(200), from: &time)
        #expect(limit.current > shrunk * 2, "\(shrunk) → \(limit.current) once 200 ms is the endpoint's normal")
    }

    @Test("any sequence of results keeps 1 ≤ current ≤ maximum")
    func bounded() {
        var generator = SystemRandomNumberGenerator()
        for maximum in [1, 2, 16, 100] {
            var limit = AdaptiveConcurrency(maximum: maximum, initial: 50)
            var time = Self.start
            for _ in 0..<5_000 {
                let signal: AdaptiveConcurrency.Signal = Bool.random(using: &generator) ? .ok : .overloaded
                let latency = Duration.milliseconds(Int.random(in: 0...5_000, using: &generator))
                limit.record(signal, latency: latency, saturated: Bool.random(using: &generator), now: time)
                time += Double.random(in: 0...0.5, using: &generator)
                #expect((1...maximum).contains(limit.current))
            }
        }
    }

    @Test("what a result says: timeouts, refused or reset connections, 429 and 503 are overload; answers are ok; the rest nothing")
    func signals() {
        typealias Signal = AdaptiveConcurrency.Signal
        #expect(Signal(status: 200, errorClass: .none) == .ok)
        #expect(Signal(status: 500, errorClass: .httpStatus) == .ok)
        #expect(Signal(status: 429, errorClass: .httpStatus) == .overloaded)
        #expect(Signal(status: 503, errorClass: .httpStatus) == .overloaded)
        for errorClass in [Attempt.ErrorClass.timeout, .connect, .reset] { #expect(Signal(status: nil, errorClass: errorClass) == .overloaded) }
        for errorClass in [Attempt.ErrorClass.tls, .dns, .refusedDestination, .other] { #expect(Signal(status: nil, errorClass: errorClass) == nil) }
    }
}
