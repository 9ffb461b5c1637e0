import Testing

@testable import SluiceStage

@Suite("Loopback ports handed out once")
struct LoopbackPortPoolTests {
    @Test("no port is handed out twice, nor a reserved one, though none is bound in between")
    func distinct() throws {
        let reserved = try LoopbackPort.free()
        var ports = LoopbackPortPool(reserved: [reserved])
        var seen: Set<Int> = []
        for _ in 0..<200 {
            let port = try ports.next()
            #expect(port != reserved)
            #expect(seen.insert(port).inserted, "port \(port) handed out twice")
        }
    }

    @Test("ports come from below the system's range for outgoing connections, where no connection can take them")
    func belowTheEphemeralRange() throws {
        var ports = LoopbackPortPool()
        #expect(ports.range.upperBound == LoopbackPortPool.ephemeralStart())
        for _ in 0..<50 { #expect(ports.range.contains(try ports.next())) }
    }
}
