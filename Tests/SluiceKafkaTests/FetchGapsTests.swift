import Foundation
import SluiceKafka
import Testing

@Suite("FetchGaps: offsets a fetch jumped over, read again once settled")
struct FetchGapsTests {
    let tp = TopicPartition("t", 0)
    let t0 = Date(timeIntervalSince1970: 1_000)

    @Test("a jump is a gap: commits stop at its start until it was read again, and it is due only after settling")
    func jump() {
        var gaps = FetchGaps(settle: 1)
        gaps.observe(tp, offset: 10, now: t0)
        gaps.observe(tp, offset: 11, now: t0)
        #expect(gaps.count == 0)
        gaps.observe(tp, offset: 15, now: t0)
        #expect(gaps.limit([tp: 16]) == [tp: 12])
        #expect(gaps.due(now: t0.addingTimeInterval(0.5)).isEmpty)
        #expect(gaps.due(now: t0.addingTimeInterval(1)) == [tp: [12..<15]])
        gaps.read(tp, [12..<15])
        #expect(gaps.count == 0)
        #expect(gaps.limit([tp: 16]) == [tp: 16])
    }

    @Test("a position past the last record handed out is a gap; the record at that position then is no jump")
    func positionedPast() {
        var gaps = FetchGaps(settle: 1)
        gaps.positioned(tp, at: 50, now: t0)
        #expect(gaps.count == 0 && gaps.tracked.isEmpty, "nothing handed out yet: no position to compare")
        gaps.observe(tp, offset: 10, now: t0)
        #expect(gaps.tracked == [tp])
        gaps.positioned(tp, at: 11, now: t0)
        #expect(gaps.count == 0, "the position right after the last record handed out")
        gaps.positioned(tp, at: 17, now: t0)
        #expect(gaps.limit([tp: 11]) == [tp: 11])
        #expect(gaps.limit([tp: 17]) == [tp: 11])
        #expect(gaps.due(now: t0.addingTimeInterval(1)) == [tp: [11..<17]])
        gaps.positioned(tp, at: 17, now: t0)
        #expect(gaps.count == 1, "the same position again adds nothing")
        gaps.observe(tp, offset: 17, now: t0)
        #expect(gaps.count == 1, "the record at the position follows on")
        gaps.observe(tp, offset: 20, now: t0)
        #expect(gaps.due(now: t0.addingTimeInterval(1)) == [tp: [11..<17, 18..<20]])
    }

    @Test("the first record after an assignment or a revocation is no jump, nor a seek's target after the seek")
    func firstRecord() {
        var gaps = FetchGaps()
        gaps.observe(tp, offset: 40, now: t0)
        gaps.forget([tp])
        gaps.observe(tp, offset: 90, now: t0)
        gaps.moved(tp, to: 7)
        gaps.observe(tp, offset: 7, now: t0)
        #expect(gaps.count == 0)
        gaps.observe(tp, offset: 9, now: t0)
        #expect(gaps.count == 1)
        gaps.forgetAll()
        gaps.observe(tp, offset: 30, now: t0)
        #expect(gaps.count == 0, "the whole assignment dropped: no gap kept, no jump from before")
    }

    @Test("where reading starts is known (an assignment's offset, the committed one, a seek): a jump at the first record is a gap")
    func knownStart() {
        var gaps = FetchGaps()
        gaps.starts(tp, at: 10)
        #expect(gaps.tracked == [tp])
        gaps.observe(tp, offset: 13, now: t0)
        #expect(gaps.limit([tp: 14]) == [tp: 10], "10..<13 skipped at the start")
        gaps.read(tp, [10..<13])
        gaps.moved(tp, to: 20)
        gaps.positioned(tp, at: 22, now: t0)
        #expect(gaps.due(now: t0.addingTimeInterval(1)) == [tp: [20..<22]], "moved over from the seek's target, nothing handed out")
        gaps.forget([tp])
        gaps.starts(tp, at: -2)
        #expect(gaps.tracked.isEmpty, "a logical offset (beginning) says nothing")
        gaps.observe(tp, offset: 50, now: t0)
        #expect(gaps.count == 0)
    }

    @Test("a seek back drops the gaps it reads through again and keeps those below it")
    func seekBack() {
        var gaps = FetchGaps()
        gaps.observe(tp, offset: 1, now: t0)
        gaps.observe(tp, offset: 5, now: t0)   // 2..<5
        gaps.observe(tp, offset: 9, now: t0)   // 6..<9
        gaps.moved(tp, to: 5)
        #expect(gaps.due(now: t0.addingTimeInterval(5)) == [tp: [2..<5]])
        gaps.observe(tp, offset: 5, now: t0)
        gaps.observe(tp, offset: 7, now: t0)   // 6..<7
        gaps.observe(tp, offset: 3, now: t0)   // handed out again from 3: drops 6..<7, keeps 2..<5
        #expect(gaps.due(now: t0.addingTimeInterval(5)) == [tp: [2..<5]])
    }

    @Test("a gap that cannot be read again is given up after its tries, and then no longer holds commits")
    func givenUp() {
        var gaps = FetchGaps(settle: 0, maxTries: 3)
        gaps.observe(tp, offset: 0, now: t0)
        gaps.observe(tp, offset: 4, now: t0)
        #expect(gaps.failed(tp, [1..<4]).isEmpty)
        #expect(gaps.failed(tp, [1..<4]).isEmpty)
        #expect(gaps.limit([tp: 5]) == [tp: 1])
        #expect(gaps.failed(tp, [1..<4]) == [1..<4])
        #expect(gaps.limit([tp: 5]) == [tp: 5])
    }

    @Test("partitions are independent, and a commit below a gap is left alone")
    func independent() {
        var gaps = FetchGaps()
        let other = TopicPartition("t", 1)
        gaps.observe(tp, offset: 0, now: t0)
        gaps.observe(tp, offset: 3, now: t0)
        gaps.observe(other, offset: 0, now: t0)
        gaps.observe(other, offset: 1, now: t0)
        #expect(gaps.limit([tp: 1, other: 2]) == [tp: 1, other: 2])
        #expect(gaps.limit([tp: 3, other: 2]) == [tp: 1, other: 2])
    }
}
