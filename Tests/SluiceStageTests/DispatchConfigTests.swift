import Testing

@testable import SluiceStage

@Suite("Dispatch config")
struct DispatchConfigTests {
    @Test("a partition is paused past the in-flight bound's worth of deliveries, unless a bound is set")
    func partitionBound() {
        var config = DispatchStage.Config()
        #expect(config.partitionBound == config.maxInFlight)
        #expect(config.partitionBound > 1000, "above the old 1,000, which paused partitions all through a long drain")
        config.maxInFlight = 300
        #expect(config.partitionBound == 300, "follows --max-in-flight")
        config.maxInFlightPerPartition = 50
        #expect(config.partitionBound == 50, "a bound that is set wins")
    }
}
