import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("SerialTasks")
struct SerialTasksTests {
    @Test("jobs run one at a time in the order added; joiners share a queued job; a failure reaches its callers and not the next job")
    func orderAndJoining() async throws {
        let serial = SerialTasks()
        let log = Locked<[String]>([])
        let running = Locked(0)
        // "first" runs until the gate opens: the joiners and "last" arrive while it runs,
        // however slow the machine (no sleeps deciding the order).
        let gate = Locked(false)
        let firstRunning = Locked(false)
        func job(_ name: String, fails: Bool = false, gated: Bool = false) -> @Sendable () async throws -> Void {
            {
                let overlapping = running.withLock { $0 += 1; return $0 > 1 }
                #expect(!overlapping, "\(name) ran beside another job")
                if gated {
                    firstRunning.withLock { $0 = true }
                    await waitUntil(timeout: .seconds(60), interval: .milliseconds(5)) { gate.withLock { $0 } }
                }
                log.withLock { $0.append(name) }
                running.withLock { $0 -= 1 }
                if fails { throw CancellationError() }
            }
        }
        let first = Task { try await serial.append(job("first", fails: true, gated: true)) }
        #expect(await waitUntil(timeout: .seconds(30), interval: .milliseconds(5)) { firstRunning.withLock { $0 } })
        // Both joiners arrive while "first" runs: they share one queued catch-up. Each task
        // marks that it is about to call join; the call enqueues without suspending first.
        let arrived = Locked(0)
        let joinA = Task { arrived.withLock { $0 += 1 }; try await serial.join(job("catch-up A")) }
        let joinB = Task { arrived.withLock { $0 += 1 }; try await serial.join(job("catch-up B")) }
        #expect(await waitUntil(timeout: .seconds(30), interval: .milliseconds(5)) { arrived.withLock { $0 } == 2 })
        let last = Task { try await serial.append(job("last")) }
        gate.withLock { $0 = true }
        await #expect(throws: CancellationError.self) { try await first.value }
        try await joinA.value
        try await joinB.value
        try await last.value
        let ran = log.withLock { $0 }
        #expect(ran.count == 3, "\(ran)")
        #expect(ran.first == "first" && ran.last == "last", "\(ran)")
        #expect(ran[1].hasPrefix("catch-up"), "\(ran)")
    }
}
