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
}
