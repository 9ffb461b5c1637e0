import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// Writes endpoint changes to `sluice.endpoints` and reads the current set back (what
/// the `sluice endpoints` commands and the admin API use).
///
/// Invariant: every write stamps `updatedAt` and completes only when the broker
/// acknowledged it, so a stage that catches up afterwards sees it. A caller changing an
/// endpoint raises its `revision` (registries ignore a lower one).
///
/// ```swift
/// let store = EndpointStore(topic: "sluice.endpoints", producer: producer, reader: reader)
/// try await store.put(endpoint)
/// ```
public struct EndpointStore: Sendable {
    public let topic: String
    public let producer: KafkaProducer
    public let reader: KafkaTopicReader

    public init(topic: String, producer: KafkaProducer, reader: KafkaTopicReader) {
        self.topic = topic
        self.producer = producer
        self.reader = reader
    }

    /// Every endpoint on the topic now.
    public func load() async throws -> EndpointRegistry {
        var registry = EndpointRegistry()
        try await reader.readToEnd(topic: topic) { record in try? registry.apply(record) }
        return registry
    }

    /// Writes `endpoint` as a new revision.
    @discardableResult
    public func put(_ endpoint: Endpoint, now: Date = Date()) async throws -> Endpoint {
        try await write(endpoint, now: now).endpoint
    }

    /// Writes `endpoint` as a new revision; returns it as written and where the broker
    /// stored it (to wait for a reader to get there).
    public func write(_ endpoint: Endpoint, now: Date = Date()) async throws -> (endpoint: Endpoint, at: KafkaRecordMetadata) {
        var next = endpoint
        next.updatedAt = now
        let at = try await producer.send(try KafkaProducerRecord(topic: topic, key: next.id, wire: next))
        return (next, at)
    }

    /// Writes many endpoints at once (imports, benchmarks), each as a new revision, all in
    /// flight together; returns when every one is acknowledged.
    @discardableResult
    public func putAll(_ endpoints: [Endpoint], now: Date = Date()) async throws -> [Endpoint] {
        let stamped = endpoints.map { var e = $0; e.updatedAt = now; return e }
        try await producer.send(try stamped.map { try KafkaProducerRecord(topic: topic, key: $0.id, wire: $0) })
        return stamped
    }

    /// Deletes an endpoint (a tombstone); returns where the broker stored the tombstone.
    @discardableResult
    public func delete(id: String) async throws -> KafkaRecordMetadata {
        try await producer.send(KafkaProducerRecord(topic: topic, key: Array(id.utf8), value: nil))
    }
}
