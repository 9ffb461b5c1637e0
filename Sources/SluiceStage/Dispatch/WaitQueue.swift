/// A first-in, first-out queue of an endpoint's waiting deliveries: append at the back,
/// take from the front, both in constant time (amortised).
///
/// Invariant: `elements[head...]` are the waiting ones, oldest first; the taken slots
/// before `head` are dropped once they are half of the storage; an emptied queue keeps at
/// most ``keptCapacity`` slots of storage.
///
/// Why an emptied queue lets its storage go: the gate keeps one queue per endpoint for the
/// stage's life, and an element here is a whole waiting delivery inline (its record and
/// its decoded delivery, hundreds of bytes). Measured (heaptrack, the bench's mixed run,
/// 5,000 endpoints of 50 deliveries each): queues that had once held a burst kept their
/// storage after it drained, 9.5 MiB of the heap's 74 MiB peak.
///
/// ```swift
/// var queue: WaitQueue<Int> = []
/// queue.append(1); queue.append(2)
/// queue.popFirst()   // 1
/// ```
struct WaitQueue<Element>: Sequence, ExpressibleByArrayLiteral {
    private var elements: [Element?] = []
    private var head = 0

    init(arrayLiteral elements: Element...) { self.elements = elements }

    /// The storage an emptied queue keeps (an endpoint that waits now and then does not
    /// allocate each time).
    static var keptCapacity: Int { 4 }

    var count: Int { elements.count - head }
    /// Slots of storage held, waiting ones and taken ones not yet dropped included.
    var capacity: Int { elements.capacity }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ element: Element) { elements.append(element) }

    mutating func popFirst() -> Element? {
        guard head < elements.count else { return nil }
        let first = elements[head]
        elements[head] = nil
        head += 1
        if head == elements.count {
            elements.removeAll(keepingCapacity: elements.capacity <= Self.keptCapacity)
            head = 0
        } else if head >= 64, head * 2 >= elements.count {
            elements.removeFirst(head)
            head = 0
        }
        return first
    }

    /// Takes out the elements `chosen` picks, the others kept in order; returns those
    /// taken, oldest first.
    mutating func take(where chosen: (Element) -> Bool) -> [Element] {
        var taken: [Element] = []
        var kept: [Element?] = []
        for element in self {
            if chosen(element) { taken.append(element) } else { kept.append(element) }
        }
        if !taken.isEmpty { (elements, head) = (kept, 0) }
        return taken
    }

    func makeIterator() -> some IteratorProtocol<Element> {
        elements[head...].lazy.compactMap { $0 }.makeIterator()
    }
}

extension WaitQueue: Sendable where Element: Sendable {}
