import Testing

@testable import SluiceKafka

@Suite("Log throttle")
struct LogThrottleTests {
    @Test("the first line of a kind passes, repeats within the interval are dropped and counted")
    func throttles() {
        let throttle = LogThrottle()
        let start = ContinuousClock.now
        #expect(throttle.admit("a", now: start) == 0)
        #expect(throttle.admit("a", now: start + .seconds(1)) == nil)
        #expect(throttle.admit("a", now: start + .seconds(2)) == nil)
        #expect(throttle.admit("b", now: start + .seconds(2)) == 0, "another kind is not held back")
        #expect(throttle.admit("a", now: start + LogThrottle.interval + .seconds(1)) == 2, "the next to pass says two were dropped")
        #expect(throttle.admit("a", now: start + LogThrottle.interval + .seconds(2)) == nil)
    }

    @Test("lines differing only in numbers are one kind")
    func kinds() {
        let one = LogThrottle.key("FAIL", "127.0.0.1:1/bootstrap: Connect failed (after 1ms in state CONNECT)")
        let other = LogThrottle.key("FAIL", "127.0.0.1:1/bootstrap: Connect failed (after 250ms in state CONNECT)")
        #expect(one == other)
        #expect(one != LogThrottle.key("FAIL", "127.0.0.1:1/bootstrap: Connect failed (after 1ms in state UP)"))
        #expect(one != LogThrottle.key("REQTMOUT", "127.0.0.1:1/bootstrap: Connect failed (after 1ms in state CONNECT)"))
    }

    @Test("the kinds kept are bounded")
    func bounded() {
        let throttle = LogThrottle()
        let now = ContinuousClock.now
        for i in 0..<(LogThrottle.maxKinds * 3) { _ = throttle.admit("kind \(i)", now: now) }
        #expect(throttle.admit("kind 0", now: now) == 0, "forgotten when the table was cleared, so it passes again")
    }
}
