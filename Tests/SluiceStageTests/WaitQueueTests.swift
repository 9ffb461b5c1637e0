import Testing

@testable import SluiceStage

@Suite("Wait queue")
struct WaitQueueTests {
    @Test("first in, first out, across the storage being compacted and emptied")
    func fifo() {
        var queue: WaitQueue<Int> = []
        var expected: [Int] = []
        var next = 0
        // Interleaved appends and takes (two in, one out), so the front is taken while the
        // back keeps growing and the storage is compacted many times.
        for round in 0..<2_000 {
            queue.append(next); expected.append(next); next += 1
            queue.append(next); expected.append(next); next += 1
            #expect(queue.popFirst() == expected.removeFirst())
            if round % 500 == 499 { #expect(Array(queue) == expected) }
        }
        #expect(queue.count == expected.count)
        while let first = queue.popFirst() { #expect(first == expected.removeFirst()) }
        #expect(expected.isEmpty)
        #expect(queue.isEmpty)
        #expect(queue.popFirst() == nil)
        queue.append(7)
        #expect(Array(queue) == [7])
    }

    @Test("taking out the picked elements keeps the others in order, across a compacted front")
    func take() {
        var queue: WaitQueue<Int> = []
        for n in 0..<100 { queue.append(n) }
        for _ in 0..<70 { _ = queue.popFirst() }  // the front compacted, 70...99 left
        #expect(queue.take { $0 % 3 == 0 } == [72, 75, 78, 81, 84, 87, 90, 93, 96, 99])
        #expect(Array(queue) == (70..<100).filter { $0 % 3 != 0 })
        #expect(queue.take { $0 > 1_000 }.isEmpty)
        #expect(queue.count == 20)
        queue.append(100)
        #expect(queue.popFirst() == 70)
        #expect(Array(queue).last == 100)
    }

    @Test("an emptied queue gives back the storage of a burst, and keeps a small one")
    func storage() {
        var queue: WaitQueue<Int> = []
        for n in 0..<50 { queue.append(n) }
        #expect(queue.capacity >= 50)
        while queue.popFirst() != nil {}
        #expect(queue.capacity <= WaitQueue<Int>.keptCapacity)
        queue.append(1)
        let small = queue.capacity
        #expect(small <= WaitQueue<Int>.keptCapacity)
        #expect(queue.popFirst() == 1)
        #expect(queue.capacity == small)
        queue.append(2)
        #expect(Array(queue) == [2])
    }
}
