import Testing

@testable import SluiceHTTP

@Suite("The easy-handle pool")
struct CurlEasyPoolTests {
    @Test("a handle given back is lent again; beyond the capacity handles are freed, not kept")
    func reuseAndCapacity() throws {
        CurlGlobal.initialize()
        var pool = CurlEasyPool(capacity: 1)
        let (taken1, taken2) = (pool.take(secure: false), pool.take(secure: false))
        let first = try #require(taken1)
        let second = try #require(taken2)
        #expect(first != second, "two handles lent at once are distinct")
        pool.give(first, secure: false)
        pool.give(second, secure: false)  // over the capacity: freed
        let again = pool.take(secure: false)
        #expect(again == first, "the kept handle is lent again")
        let taken3 = pool.take(secure: false)
        let fresh = try #require(taken3)
        #expect(fresh != first)
        pool.give(first, secure: false)
        pool.give(fresh, secure: false)
        pool.drain()
    }

    @Test("a handle made for HTTPS is lent only for HTTPS, one for plain HTTP only for plain HTTP")
    func schemesKeptApart() throws {
        CurlGlobal.initialize()
        var pool = CurlEasyPool(capacity: 4)
        let secureTaken = pool.take(secure: true)
        let secure = try #require(secureTaken)
        let plainTaken = pool.take(secure: false)
        let plain = try #require(plainTaken)
        // Given back plain first: one stack for both would lend the HTTPS handle next.
        pool.give(plain, secure: false)
        pool.give(secure, secure: true)
        let plainAgainTaken = pool.take(secure: false)
        let plainAgain = try #require(plainAgainTaken)
        #expect(plainAgain == plain, "the plain handle, not the HTTPS one kept beside it")
        let secureAgainTaken = pool.take(secure: true)
        let secureAgain = try #require(secureAgainTaken)
        #expect(secureAgain == secure, "the HTTPS handle, not a new one")
        let anotherTaken = pool.take(secure: true)
        let another = try #require(anotherTaken)
        #expect(another != plain && another != secure, "no idle HTTPS handle left: a new one")
        for (easy, isSecure) in [(plainAgain, false), (secureAgain, true), (another, true)] { pool.give(easy, secure: isSecure) }
        pool.drain()
    }

    @Test("HTTPS URLs are told from plain ones by their scheme, in any case")
    func scheme() {
        #expect(CurlTransfer.isSecure("https://hooks.example.com/a"))
        #expect(CurlTransfer.isSecure("HTTPS://hooks.example.com/a"))
        #expect(!CurlTransfer.isSecure("http://hooks.example.com/a"))
        #expect(!CurlTransfer.isSecure("https:/"))
        #expect(!CurlTransfer.isSecure(""))
        #expect(CurlTransfer.receiveBufferSize(secure: true) > CurlTransfer.receiveBufferSize(secure: false))
    }
}
