import SluiceCore
import SluiceKafka

extension KafkaProducerRecord {
    /// A record carrying `record` in its wire form, with its `sluice-format` header
    /// (`delivery/1`, `attempt/1`, …), keyed by `key`.
    ///
    /// ```swift
    /// let out = try KafkaProducerRecord(topic: "sluice.deliveries", key: delivery.endpointID, wire: delivery)
    /// ```
    public init(topic: String, key: String, wire record: some WireRecord) throws {
        self.init(
            topic: topic, key: Array(key.utf8), value: try record.wireBytes(),
            headers: [KafkaHeader(WireFormat.header, type(of: record).formatHeader)])
    }
}
