import Foundation
import Testing

@testable import SluiceCore

@Suite("Circuit breaker, disable window, token bucket")
struct ResilienceTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test("opens after N consecutive failures, rejects while open, probes once, closes on success")
    func circuitBreaker() {
        var breaker = CircuitBreaker(threshold: 3, coolDown: .seconds(30))
        #expect(breaker.admit(now: t0) == .send)
        #expect(breaker.record(success: false, now: t0) == nil)
        #expect(breaker.record(success: true, now: t0) == nil, "a success resets the count")
        #expect(breaker.record(success: false, now: t0) == nil)
        #expect(breaker.record(success: false, now: t0) == nil)
        let until = t0.addingTimeInterval(30)
        #expect(breaker.record(success: false, now: t0) == .opened(until: until))
        #expect(breaker.admit(now: t0.addingTimeInterval(10)) == .reject(until: until))
        #expect(breaker.admit(now: until) == .probe)
        #expect(breaker.admit(now: until) == .reject(until: until.addingTimeInterval(30)), "one probe at a time")
        #expect(breaker.record(success: true, now: until) == .closed)
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.admit(now: until) == .send)
    }

    @Test("a failed probe opens the circuit again; late results while open change nothing")
    func failedProbe() {
        var breaker = CircuitBreaker(threshold: 1, coolDown: .seconds(10))
        #expect(breaker.record(success: false, now: t0) == .opened(until: t0.addingTimeInterval(10)))
        #expect(breaker.record(success: true, now: t0) == nil)
        #expect(breaker.admit(now: t0.addingTimeInterval(10)) == .probe)
        #expect(breaker.record(success: false, now: t0.addingTimeInterval(11)) == .opened(until: t0.addingTimeInterval(21)))
    }

    @Test("the cool-down doubles on each failed probe up to its maximum, and starts over once closed")
    func growingCoolDown() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var breaker = CircuitBreaker(threshold: 1, coolDown: .seconds(30), maxCoolDown: .seconds(100))
        var now = t0
        var coolDowns: [TimeInterval] = []
        for _ in 0..<4 {
            guard case .opened(let until) = breaker.record(success: false, now: now) else { Issue.record("not opened"); return }
            coolDowns.append(until.timeIntervalSince(now))
            now = until
            #expect(breaker.admit(now: now) == .probe)
        }
        #expect(coolDowns == [30, 60, 100, 100])
        #expect(breaker.admit(now: now) == .reject(until: now.addingTimeInterval(30)), "while the probe is out, others come back after the first cool-down")
        #expect(breaker.record(success: true, now: now) == .closed)
        guard case .opened(let until) = breaker.record(success: false, now: now) else { Issue.record("not opened"); return }
        #expect(until.timeIntervalSince(now) == 30)
    }

    @Test("while a probe is out, others come back once it must have answered (its timeout) when that is later than the first cool-down")
    func probeTimeout() {
        var breaker = CircuitBreaker(threshold: 1, coolDown: .seconds(30), maxCoolDown: .seconds(3600))
        #expect(breaker.record(success: false, now: t0) == .opened(until: t0.addingTimeInterval(30)))
        let sent = t0.addingTimeInterval(30)
        #expect(breaker.admit(now: sent, probeTimeout: .seconds(300)) == .probe)
        #expect(breaker.probeAnswerBy == sent.addingTimeInterval(300))
        #expect(breaker.admit(now: sent.addingTimeInterval(5)) == .reject(until: sent.addingTimeInterval(300)), "not after 30 s: the probe may be out 300")
        #expect(breaker.admit(now: sent.addingTimeInterval(290)) == .reject(until: sent.addingTimeInterval(320)), "at least one first cool-down")
        // A failed probe opens the circuit for the grown cool-down and forgets the probe.
        let failed = sent.addingTimeInterval(300)
        #expect(breaker.record(success: false, now: failed) == .opened(until: failed.addingTimeInterval(60)))
        #expect(breaker.probeAnswerBy == nil)
        // A short timeout changes nothing: the first cool-down is the floor.
        #expect(breaker.admit(now: failed.addingTimeInterval(60), probeTimeout: .seconds(5)) == .probe)
        #expect(breaker.admit(now: failed.addingTimeInterval(61)) == .reject(until: failed.addingTimeInterval(91)))
        #expect(breaker.record(success: true, now: failed.addingTimeInterval(62)) == .closed)
        #expect(breaker.probeAnswerBy == nil)
    }

    @Test("an endpoint failing for longer than the window is disabled; one success resets it")
    func disableWindow() {
        var window = DisableWindow(window: .seconds(5 * 86_400))
        let day: TimeInterval = 86_400
        let results = [
            window.record(success: false, now: t0),
            window.record(success: false, now: t0.addingTimeInterval(4 * day)),
            window.record(success: true, now: t0.addingTimeInterval(4 * day + 1)),
        ]
        #expect(results == [false, false, false])
        #expect(window.failingSince == nil, "a success resets the window")
        let afterReset = window.record(success: false, now: t0.addingTimeInterval(5 * day))
        let pastWindow = window.record(success: false, now: t0.addingTimeInterval(10 * day + 1))
        #expect(!afterReset)
        #expect(pastWindow)
    }

    @Test("the bucket allows a burst, then one request per 1/rate, and says how long to wait")
    func tokenBucket() {
        var bucket = TokenBucket(rate: 2, burst: 2, now: t0)
        #expect(bucket.take(now: t0) == nil)
        #expect(bucket.take(now: t0) == nil)
        #expect(bucket.take(now: t0) == .milliseconds(500))
        #expect(bucket.take(now: t0.addingTimeInterval(0.5)) == nil)
        #expect(bucket.take(now: t0.addingTimeInterval(10)) == nil)
        #expect(bucket.tokens <= 2)
        // A clock that goes backwards never adds tokens.
        var back = TokenBucket(rate: 1, now: t0)
        #expect(back.take(now: t0) == nil)
        #expect(back.take(now: t0.addingTimeInterval(-5)) != nil)
    }
}
