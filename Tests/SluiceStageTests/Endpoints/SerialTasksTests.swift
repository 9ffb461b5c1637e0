import SluiceCore
import Testing

@testable import SluiceStage

@Suite("SerialTasks")
struct SerialTasksTests {
    @Test("jobs run one at a time in the order added; joiners share a queued job; a failure reaches its callers and not the next job")
    func orderAndJoining() async throws {
        let serial = SerialTasks()
        let log = Locked<[String]>([])
        let running = Locked(0)
        func job(_ name: String, fails: Bool = false) -> @Sendable () async throws -> Void {
            {
                let overlapping = running.withLock { $0 += 1; return $0 > 1 }
                #expect(!overlapping, "\(name) ran beside another job")
                try? await Task.sleep(for: .milliseconds(50))
                log.withLock { $0.append(name) }
                running.withLock { $0 -= 1 }
                if fails { throw CancellationError() }
            }
        }
        let first = Task { try await serial.append(job("first", fails: true)) }
        try await Task.sleep(for: .milliseconds(10))
        // Both joiners arrive while "first" runs: they share one queued catch-up.
        async let joinA: Void = serial.join(job("catch-up A"))
        async let joinB: Void = serial.join(job("catch-up B"))
        try await Task.sleep(for: .milliseconds(10))
        async let last: Void = serial.append(job("last"))
        await #expect(throws: CancellationError.self) { try await first.value }
        try await joinA
        try await joinB
        try await last
        let ran = log.withLock { $0 }
        #expect(ran.count == 3, "\(ran)")
        #expect(ran.first == "first" && ran.last == "last", "\(ran)")
        #expect(ran[1].hasPrefix("catch-up"), "\(ran)")
    }
}
