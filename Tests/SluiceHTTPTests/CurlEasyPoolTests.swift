import Testing

@testable import SluiceHTTP

@Suite("The easy-handle pool")
struct CurlEasyPoolTests {
    @Test("a handle given back is lent again; beyond the capacity handles are freed, not kept")
    func reuseAndCapacity() throws {
        CurlGlobal.initialize()
        var pool = CurlEasyPool(capacity: 1)
        let (taken1, taken2) = (pool.take(), pool.take())
        let first = try #require(taken1)
        let second = try #require(taken2)
        #expect(first != second, "two handles lent at once are distinct")
        pool.give(first)
        pool.give(second)  // over the capacity: freed
        let again = pool.take()
        #expect(again == first, "the kept handle is lent again")
        let taken3 = pool.take()
        let fresh = try #require(taken3)
        #expect(fresh != first)
        pool.give(first)
        pool.give(fresh)
        pool.drain()
    }
}
