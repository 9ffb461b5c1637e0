import SluiceKafka
import Testing

@testable import SluiceStage

@Suite("Offset tracker")
struct OffsetTrackerTests {
    let p0 = TopicPartition("sluice.deliveries", 0)
    let p1 = TopicPartition("sluice.deliveries", 1)

    @Test("commits only up to the lowest delivery still in flight, whatever order they finish in")
    func watermark() {
        var t = OffsetTracker(maxInFlightPerPartition: 100)
        for o in Int64(0)...4 { _ = t.started(p0, o) }
        #expect(t.commits()[p0] == 0)
        _ = t.finished(p0, 3)
        _ = t.finished(p0, 1)
        #expect(t.commits()[p0] == 0, "offset 0 is still in flight")
        _ = t.finished(p0, 0)
        #expect(t.commits()[p0] == 2)
        t.committed([p0: 2])
        #expect(t.commits()[p0] == nil, "nothing new to commit")
        _ = t.finished(p0, 2)
        _ = t.finished(p0, 4)
        #expect(t.commits()[p0] == 5)
        #expect(t.inFlight == 0)
    }

    @Test("gaps in offsets (transaction markers) do not hold the watermark back")
    func gaps() {
        var t = OffsetTracker(maxInFlightPerPartition: 100)
        _ = t.started(p0, 10)
        _ = t.started(p0, 13)
        _ = t.finished(p0, 13)
        #expect(t.commits()[p0] == 10)
        _ = t.finished(p0, 10)
        #expect(t.commits()[p0] == 14)
    }

    @Test("a partition pauses at its in-flight bound and resumes at half of it")
    func backpressure() {
        var t = OffsetTracker(maxInFlightPerPartition: 4)
        #expect(t.started(p0, 0) == nil)
        #expect(t.started(p0, 1) == nil)
        #expect(t.started(p0, 2) == nil)
        #expect(t.started(p0, 3) == .pause(p0))
        #expect(t.started(p1, 0) == nil, "other partitions are not affected")
        #expect(t.finished(p0, 3) == nil)
        #expect(t.finished(p0, 1) == .resume(p0))
        #expect(t.finished(p0, 1) == nil, "finishing twice changes nothing")
    }

    @Test("records seen again after a seek are not counted twice; revoked partitions are forgotten")
    func replaysAndRevocation() {
        var t = OffsetTracker(maxInFlightPerPartition: 10)
        _ = t.started(p0, 5)
        _ = t.started(p0, 5)
        #expect(t.inFlight(p0) == 1)
        t.revoked([p0])
        #expect(t.commits().isEmpty)
        #expect(t.inFlight == 0)
    }

    @Test("a skipped record handed out late (below the highest started, above the last commit) holds the commit until it finishes")
    func skippedRecord() {
        var t = OffsetTracker(maxInFlightPerPartition: 10)
        _ = t.started(p0, 3)
        t.committed([p0: 3])
        for offset in Int64(8)...9 { _ = t.started(p0, offset); _ = t.finished(p0, offset) }
        _ = t.started(p0, 5)
        #expect(t.inFlight(p0) == 2)
        _ = t.finished(p0, 3)
        #expect(t.commits() == [p0: 5])
        _ = t.finished(p0, 5)
        #expect(t.commits() == [p0: 10])
        _ = t.started(p0, 2)
        #expect(t.inFlight(p0) == 0, "below the last commit: already handled")
    }

    @Test("the committable offset never decreases and never passes an offset in flight")
    func invariant() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var t = OffsetTracker(maxInFlightPerPartition: 1000)
            var open: [Int64] = []
            var last: Int64 = -1
            for offset in Int64(0)..<200 {
                _ = t.started(p0, offset)
                open.append(offset)
                if Bool.random(using: &generator), let i = open.indices.randomElement(using: &generator) {
                    _ = t.finished(p0, open.remove(at: i))
                }
                if let c = t.commits()[p0] {
                    #expect(c >= last)
                    #expect(open.allSatisfy { c <= $0 })
                    t.committed([p0: c])
                    last = c
                }
            }
        }
    }
}
