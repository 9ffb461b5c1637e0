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
        w.finished(t[2])
        #expect(w.room == 1)
        w.finished(t[2])
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
        w.finished(slow)
        #expect((w.young, w.parked) == (1, 0))
        w.finished(fast)
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
                w.finished(open.remove(at: Int.random(in: 0..<open.count, using: &generator)))
            }
            #expect(w.young + w.parked == open.count)
            #expect(w.young <= 64)
        }
        for ticket in open { w.finished(ticket) }
        #expect((w.young, w.parked) == (0, 0))
    }

    /// One sample of `w` ending at `end` ms: the loop idle `idle` ms of the 100, its turns
    /// `turn` ms long each handling 10 things, requests left waiting or not.
    @discardableResult
    func sample(_ w: inout TransferWindow, end: UInt64, idle: UInt64, turn: UInt64, waited: Bool = true) -> Bool {
        w.observe(idle: idle * Self.ms, busy: turn * Self.ms, handled: 10, waited: waited, now: end * Self.ms)
    }

    @Test("a saturated loop whose turns run long shrinks the limit by an eighth a sample, never below the floor")
    func shrinks() {
        var w = window(initial: 64, floor: 40, ceiling: 128)
        sample(&w, end: 1, idle: 0, turn: 9)
        let shrank = sample(&w, end: 101, idle: 1, turn: 9)
        #expect(shrank)
        #expect(w.limit == 56, "turns of 9 ms are past the 5 ms target, and the loop was saturated")
        for i in 2...20 { sample(&w, end: UInt64(i) * 100 + 1, idle: 0, turn: 9) }
        #expect(w.limit == 40)
    }

    @Test("requests waiting grow the limit up to the ceiling while turns stay short, even on a busy loop; without waiting it holds")
    func grows() {
        var w = window(initial: 4, ceiling: 8)
        sample(&w, end: 1, idle: 0, turn: 0, waited: false)
        let held = sample(&w, end: 101, idle: 90, turn: 1, waited: false)
        #expect(!held, "nobody waited: no reason to grow")
        #expect(w.limit == 4)
        sample(&w, end: 201, idle: 0, turn: 2)
        #expect(w.limit == 5, "saturated, but its turns are short: the loop amortises its work over more transfers")
        sample(&w, end: 301, idle: 50, turn: 20)
        #expect(w.limit == 6, "long turns, but the loop has time: it is not queueing")
        for i in 4...40 { sample(&w, end: UInt64(i) * 100 + 1, idle: 0, turn: 1) }
        #expect(w.limit == 8)
    }

    @Test("a sample shorter than the interval decides nothing; the lag is weighted by what each turn handled")
    func holds() {
        var w = window(initial: 16, ceiling: 64)
        sample(&w, end: 1, idle: 0, turn: 0)
        let half = sample(&w, end: 50, idle: 0, turn: 9)
        #expect(!half, "half a sample")
        #expect(w.limit == 16)
        // One long turn that handled little beside many short ones that handled much: the
        // typical answer waited little.
        w.observe(idle: 0, busy: 30 * Self.ms, handled: 1, waited: true, now: 60 * Self.ms)
        w.observe(idle: 0, busy: 1 * Self.ms, handled: 100, waited: true, now: 101 * Self.ms)
        #expect(w.limit == 18, "weighted lag (9 × 10 + 30 × 1 + 1 × 100) / 111 ms is under 5 ms: it grew")
    }

    @Test("the limit starts within floor...ceiling whatever the configuration says")
    func clamped() {
        #expect(window(initial: 1, floor: 2, ceiling: 8).limit == 2)
        #expect(window(initial: 100, floor: 2, ceiling: 8).limit == 8)
    }

    @Test("an operator's bounds: auto, a number, MIN-MAX; anything else, or past the ceiling, is refused")
    func parsing() throws {
        let auto = try #require(TransferWindow.Config(parsing: "auto", ceiling: 2_000))
        #expect((auto.floor, auto.initial, auto.ceiling) == (64, 256, 2_000))
        let fixed = try #require(TransferWindow.Config(parsing: "2000", ceiling: 2_000))
        #expect((fixed.floor, fixed.initial, fixed.ceiling) == (2_000, 2_000, 2_000))
        let range = try #require(TransferWindow.Config(parsing: "64-128", ceiling: 2_000))
        #expect((range.floor, range.initial, range.ceiling) == (64, 128, 128))
        for bad in ["", "0", "-5", "5-", "9-3", "1-2-3", "abc", "3001", "1-3001", " 64"] {
            #expect(TransferWindow.Config(parsing: bad, ceiling: 3_000) == nil, "'\(bad)'")
        }
    }
}
