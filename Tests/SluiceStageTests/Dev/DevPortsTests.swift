import Testing

@testable import SluiceStage

@Suite("The ports of one sluice dev session")
struct DevPortsTests {
    @Test("no port is handed out twice, nor a reserved one, though none is bound in between")
    func distinct() throws {
        let reserved = try LoopbackPort.free()
        var ports = DevPorts(reserved: [reserved])
        var seen: Set<Int> = []
        for _ in 0..<200 {
            let port = try ports.next()
            #expect(port != reserved)
            #expect(seen.insert(port).inserted, "port \(port) handed out twice")
        }
    }
}
