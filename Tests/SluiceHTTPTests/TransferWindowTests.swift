import SluiceHTTP
import Testing

@Suite("TransferWindow: young transfers bounded, slow ones parked, the limit following the loop's load")
struct TransferWindowTests {
    static let ms: UInt64 = 1_000_000

    func window(initial: Int = 4, floor: Int = 2, ceiling: Int = 64) -> TransferWindow {
        var config = TransferWindow.Config()
        config.initial = initial
        config.floor = floor
        config.ceiling = ceiling
        config.parkAfter = .milliseconds(100)
        config.sampleInterval = .milliseconds(100)
        return TransferWindow(config)
    }

    @Test("room is the limit less the young transfers; a finished one gives its place back")
    func room() {
        var w = window()
        let t = (0..<4).map { _ in w.started(now: 1 * Self.ms) }
        #expect(w.room == 0)
        #expect(w.young == 4)
        w.finished(t[2], now: 2 * Self.ms)
        #expect(w.room == 1)
        w.finished(t[2], now: 3 * Self.ms)
        #expect(w.young == 3, "a second finish of the same transfer changes nothing")
    }

    @Test("a transfer older than parkAfter parks: it leaves room and is counted as parked until it ends")
    func parking() {
        var w = window()
        let slow = w.started(now: 10 * Self.ms)
        let fast = w.started(now: 50 * Self.ms)
        let untilPark = w.age(now: 60 * Self.ms)
        #expect(untilPark == 50 * Self.ms, "the oldest parks 100 ms after it started")
        let untilNext = w.age(now: 110 * Self.ms)
        #expect(untilNext == 40 * Self.ms)
        #expect((w.young, w.parked) == (1, 1))
        w.finished(slow, now: 120 * Self.ms)
        #expect((w.young, w.parked) == (1, 0))
        w.finished(fast, now: 130 * Self.ms)
        let none = w.age(now: 500 * Self.ms)
        #expect(none == nil, "nothing young is left to park")
        #expect((w.young, w.parked) == (0, 0), "a transfer that finished before it aged never counts as parked")
    }

    @Test("thousands of transfers started, parked and finished in any order leave the counts exact")
    func manyTransfers() {
        var w = window(initial: 64, ceiling: 64)
        var open: [TransferWindow.Ticket] = []
        var generator = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let now = UInt64(step) * Self.ms
            _ = w.age(now: now)
            while w.room > 0 { open.append(w.started(now: now)) }
            for _ in 0..<Int.random(in: 0...3, using: &generator) where !open.isEmpty {
                w.finished(open.remove(at: Int.random(in: 0..<open.count, using: &generator)), now: now)
            }
            #expect(w.young + w.parked == open.count)
            #expect(w.young <= 64)
        }
        for ticket in open { w.finished(ticket, now: 6_000 * Self.ms) }
        #expect((w.young, w.parked) == (0, 0))
    }

    /// One sample of `w` ending at `end` ms: a transfer answered in `latency` ms (none if
    /// nil), the loop idle for `idle` ms of the 100, requests left waiting or not.
    @discardableResult
    func sample(_ w: inout TransferWindow, end: UInt64, idle: UInt64, latency: UInt64?, waited: Bool = true) -> Bool {
        if let latency {
            let ticket = w.started(now: (end - 50) * Self.ms)
            w.finished(ticket, now: (end - 50 + latency) * Self.ms)
        }
        return w.observe(idle: idle * Self.ms, waited: waited, now: end * Self.ms)
    }

    @Test("a saturated loop whose answers slow down shrinks the limit by an eighth a sample, never below the floor")
    func shrinks() {
        var w = window(initial: 64, floor: 40, ceiling: 128)
        w.observe(idle: 0, waited: true, now: 1 * Self.ms)
        sample(&w, end: 101, idle: 50, latency: 2)
        #expect(w.limit == 72, "the first sample sets the baseline (2 ms); requests waited: it grew")
        let shrank = sample(&w, end: 201, idle: 1, latency: 9)
        #expect(shrank)
        #expect(w.limit == 63, "9 ms is past 3 × 2 ms + 1 ms, and the loop was saturated")
        for i in 3...20 { sample(&w, end: UInt64(i) * 100 + 1, idle: 0, latency: 9) }
        #expect(w.limit == 40)
    }

    @Test("requests waiting grow the limit up to the ceiling while answers hold, even on a busy loop; without waiting it holds")
    func grows() {
        var w = window(initial: 4, ceiling: 8)
        w.observe(idle: 0, waited: false, now: 1 * Self.ms)
        let held = sample(&w, end: 101, idle: 90, latency: 20, waited: false)
        #expect(!held, "nobody waited: no reason to grow")
        #expect(w.limit == 4)
        sample(&w, end: 201, idle: 0, latency: 25)
        #expect(w.limit == 5, "saturated, but answers come as fast as ever: the loop amortises its work over more transfers")
        sample(&w, end: 301, idle: 50, latency: 200)
        #expect(w.limit == 6, "answers are slower, but the loop has time: it is not the loop that queues them")
        for i in 4...40 { sample(&w, end: UInt64(i) * 100 + 1, idle: 50, latency: 20) }
        #expect(w.limit == 8)
    }

    @Test("a sample shorter than the interval decides nothing; the baseline follows a lasting rise only slowly")
    func holds() {
        var w = window(initial: 16)
        w.observe(idle: 0, waited: true, now: 1 * Self.ms)
        let half = w.observe(idle: 0, waited: true, now: 50 * Self.ms)
        #expect(!half, "half a sample")
        #expect(w.limit == 16)
        sample(&w, end: 101, idle: 0, latency: 10)
        sample(&w, end: 201, idle: 0, latency: 100)
        let baseline = w.baseline ?? 0
        #expect(baseline > 10e6 && baseline < 11e6, "one slow sample moves the baseline (ns) by a 512th of the rise: \(baseline)")
    }

    @Test("the limit starts within floor...ceiling whatever the configuration says")
    func clamped() {
        #expect(window(initial: 1, floor: 2, ceiling: 8).limit == 2)
        #expect(window(initial: 100, floor: 2, ceiling: 8).limit == 8)
    }

    @Test("an operator's bounds: auto, a number, MIN-MAX; anything else, or past the ceiling, is refused")
    func parsing() throws {
        let auto = try #require(TransferWindow.Config(parsing: "auto", ceiling: 2_000))
        #expect((auto.floor, auto.initial, auto.ceiling) == (16, 16, 2_000))
        let fixed = try #require(TransferWindow.Config(parsing: "2000", ceiling: 2_000))
        #expect((fixed.floor, fixed.initial, fixed.ceiling) == (2_000, 2_000, 2_000))
        let range = try #require(TransferWindow.Config(parsing: "64-128", ceiling: 2_000))
        #expect((range.floor, range.initial, range.ceiling) == (64, 64, 128))
        for bad in ["", "0", "-5", "5-", "9-3", "1-2-3", "abc", "3001", "1-3001", " 64"] {
            #expect(TransferWindow.Config(parsing: bad, ceiling: 3_000) == nil, "'\(bad)'")
        }
    }
}
