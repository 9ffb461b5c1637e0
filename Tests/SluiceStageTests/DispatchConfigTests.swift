import SluiceCore
import SluiceHTTP
import Testing

@testable import SluiceKafka

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

    @Test("idle connections kept follow --max-in-flight unless --max-idle-connections is set, in both pools")
    func idleConnections() {
        var config = DispatchStage.Config()
        config.maxInFlight = 1_500
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.maxIdleConnections) == [1_500])
        config.stragglerLoop = true
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.maxIdleConnections) == [1_500, 128])
        config.maxIdleConnections = 64
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.maxIdleConnections) == [64, 64])
        config.maxIdleConnections = 0
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.maxIdleConnections) == [0, 0])
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.maxConnections) == [1_500 + config.maxParked, config.maxParked + 512])
    }

    @Test("the endpoints' pool has --http-shards connection caches (8 by default), the stragglers' one")
    func shards() {
        var config = DispatchStage.Config()
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.shards) == [8])
        config.httpShards = 2
        config.stragglerLoop = true
        #expect(DispatchStage.httpPools(config, window: .init()).map(\.shards) == [2, 1])
    }

    @Test("dispatch fetches half the other stages' prefetch ahead")
    func prefetch() {
        #expect(DispatchStage.Config().prefetchKiB * 2 == KafkaConsumerConfig(client: .init(brokers: "b:9092"), groupID: "g").prefetchLimitKiB)
    }

    @Test("dispatch's consumer asks librdkafka for that prefetch, unless the config file's librdkafka section names its own")
    func prefetchApplied() {
        var settings = StageSettings()
        let key = "queued.max.messages.kbytes"
        let stage = DispatchStage.consumerConfig(runtime: StageRuntime(name: "sluice-dispatch", settings: settings), config: .init())
        #expect(stage.properties[key] == "4096")
        settings.librdkafka = [key: "1024"]
        let overridden = DispatchStage.consumerConfig(runtime: StageRuntime(name: "sluice-dispatch", settings: settings), config: .init())
        #expect(overridden.properties[key] == "1024")
    }
}
