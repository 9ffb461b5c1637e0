@testable import SluiceKafka
import Testing

@Suite("KafkaConsumerConfig: the librdkafka properties of a group member")
struct KafkaConsumerConfigTests {
    let client = KafkaClientConfig(brokers: "127.0.0.1:9092")

    @Test("manual commits only, the prefetch bounded, and fetching again soon after the prefetch was full")
    func properties() {
        var config = KafkaConsumerConfig(client: client, groupID: "g", isolation: .readUncommitted, fetchWaitMax: .milliseconds(10))
        config.prefetchLimitKiB = 4096
        let properties = config.properties
        #expect(properties["enable.auto.commit"] == "false")
        #expect(properties["enable.auto.offset.store"] == "false")
        #expect(properties["isolation.level"] == "read_uncommitted")
        #expect(properties["fetch.wait.max.ms"] == "10")
        #expect(properties["queued.max.messages.kbytes"] == "4096")
        // librdkafka's default (1 s) left dispatch idle for most of each second at its bound.
        #expect(properties["fetch.queue.backoff.ms"] == "10")
        config.prefetchBackoff = .milliseconds(250)
        #expect(config.properties["fetch.queue.backoff.ms"] == "250")
    }

    @Test("a raw librdkafka property given for every client wins over the consumer's own")
    func passthrough() {
        let config = KafkaConsumerConfig(
            client: KafkaClientConfig(brokers: "b:9092", librdkafka: ["fetch.queue.backoff.ms": "100"]), groupID: "g")
        #expect(config.properties["fetch.queue.backoff.ms"] == "100")
        #expect(config.properties["group.id"] == "g")
    }
}
