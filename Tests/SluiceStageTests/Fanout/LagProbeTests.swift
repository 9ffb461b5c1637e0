import SluiceKafka
import Testing

@testable import SluiceStage

@Suite("Fanout lag probe: what it counts")
struct LagProbeTests {
    let p0 = TopicPartition("events", 0)
    let p1 = TopicPartition("events", 1)

    @Test("a copy that read past its end markers lags 0, though it never committed past them")
    func markersAreNotLag() {
        // Committed after the last event (offset 99); markers of earlier probes at 100…104,
        // read and skipped; this probe's marker at 105.
        let lag = LagProbe.lag(owned: [p0], ends: [p0: 105], committed: [p0: 100], positions: [p0: 105])
        #expect(lag == 0)
    }

    @Test("records not yet read count, per owned partition; partitions owned by others do not")
    func unreadRecordsCount() {
        let lag = LagProbe.lag(
            owned: [p0, p1], ends: [p0: 50, p1: 30, TopicPartition("events", 2): 1000], committed: [p0: 40, p1: 30], positions: [p0: 45])
        #expect(lag == 5)
    }

    @Test("without a position (nothing read since the assignment) the committed offset counts")
    func committedWithoutPosition() {
        #expect(LagProbe.lag(owned: [p0], ends: [p0: 20], committed: [p0: 12], positions: [:]) == 8)
        #expect(LagProbe.lag(owned: [p0], ends: [p0: 20], committed: [:], positions: [:]) == 20)
    }

    @Test("a copy that owns no partition lags 0")
    func nothingOwned() {
        #expect(LagProbe.lag(owned: [], ends: [p0: 20], committed: [:], positions: [:]) == 0)
    }
}
