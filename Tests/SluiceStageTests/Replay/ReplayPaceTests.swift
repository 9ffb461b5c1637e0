import Foundation
import Logging
import SluiceCore
import Testing

@testable import SluiceStage

@Suite("replay pace: a replay writes no further ahead of dispatch than it allows")
struct ReplayPaceTests {
    /// A pace over `backlogs`, one per read (the last one repeated), counting the reads.
    func pace(ahead: Int, patience: Duration = .seconds(60), backlogs: [Int]) -> (ReplayPace, reads: Locked<Int>) {
        let reads = Locked(0)
        let pace = ReplayPace(
            ahead: ahead, patience: patience, interval: .milliseconds(10), logger: Logger(label: "test"),
            backlog: {
                let n = reads.withLock { n in
                    n += 1
                    return n
                }
                return backlogs[min(n, backlogs.count) - 1]
            })
        return (pace, reads)
    }

    @Test("waits while the backlog and the chunk would pass `ahead`, and goes once dispatch has taken enough")
    func waits() async throws {
        let (pace, reads) = pace(ahead: 1_000, backlogs: [950, 920, 905, 901, 500])
        try await pace.waitForRoom(100)
        #expect(reads.withLock { $0 } == 5, "read until 500 + 100 fit")
    }

    @Test("an empty backlog lets any chunk go, even one larger than `ahead`")
    func emptyBacklog() async throws {
        let (pace, reads) = pace(ahead: 10, backlogs: [0])
        try await pace.waitForRoom(100)
        #expect(reads.withLock { $0 } == 1)
    }

    @Test("a dispatch that takes nothing for the patience is given up on: the replay writes on, and reads no more backlog")
    func givesUp() async throws {
        let (pace, reads) = pace(ahead: 1_000, patience: .milliseconds(200), backlogs: [5_000])
        let started = ContinuousClock.now
        try await pace.waitForRoom(100)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        let afterGivingUp = reads.withLock { $0 }
        try await pace.waitForRoom(100)
        #expect(reads.withLock { $0 } == afterGivingUp, "no wait once given up")
    }

    @Test("a backlog that keeps shrinking, however slowly, is waited for past the patience")
    func slowProgress() async throws {
        let backlogs = Array(stride(from: 2_000, through: 800, by: -40))
        let (pace, reads) = pace(ahead: 1_000, patience: .milliseconds(100), backlogs: backlogs)
        try await pace.waitForRoom(100)
        #expect(reads.withLock { $0 } == backlogs.firstIndex { $0 + 100 <= 1_000 }.map { $0 + 1 })
    }
}
