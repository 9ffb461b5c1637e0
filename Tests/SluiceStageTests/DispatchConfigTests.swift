import Testing

@testable import SluiceStage

@Suite("Dispatch config")
struct DispatchConfigTests {
    @Test("a partition is paused only past every place the stage may fill, unless a bound is set")
    func partitionBound() {
        var config = DispatchStage.Config()
        #expect(config.partitionBound == config.maxInFlight + config.maxParked + config.maxWaiting)
        (config.maxInFlight, config.maxParked, config.maxWaiting) = (300, 0, 0)
        #expect(config.partitionBound == 300, "with nothing held past the bound, the bound itself")
        config.maxInFlightPerPartition = 50
        #expect(config.partitionBound == 50, "a bound that is set wins")
    }
}
