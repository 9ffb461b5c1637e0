extension KafkaProducer {
    /// Writes one end marker to partition 0 of `topic` and waits for the broker's
    /// acknowledgement, so that this producer publishes without delay once it returns.
    /// Readers skip the marker as every other (``KafkaRecord/isEndMarker``).
    ///
    /// Why: a new idempotent producer cannot publish until the broker gave it a producer
    /// id, and librdkafka asks for one on a 500 ms timer when no broker connection was up
    /// as the producer was made. Measured on Tansu: a producer's first acknowledgement
    /// 500–800 ms after its creation, 0.7 ms from a producer a second old; a fresh
    /// `sluice-admin` kept the first requests of its ingest waiting up to 957 ms. A server
    /// that publishes for callers takes that wait here, before it serves anyone.
    ///
    /// Throws what the send throws (the broker did not acknowledge within the delivery
    /// timeout); only for topics that exist (a marker to an unknown topic would make Tansu
    /// create it).
    ///
    /// ```swift
    /// let producer = try runtime.producer()
    /// try await producer.warmUp(topic: "sluice.events")   // then serve
    /// ```
    @discardableResult
    public func warmUp(topic: String) async throws(KafkaError) -> KafkaRecordMetadata {
        try await send(EndMarker.record(topic: topic, partition: 0))
    }
}
