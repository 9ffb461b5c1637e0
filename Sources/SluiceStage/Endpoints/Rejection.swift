import SluiceCore
import SluiceKafka

/// Records for `sluice.rejected`: the original key, value and headers of a record a stage
/// cannot use, plus why (`sluice-reject-reason`, a stable code, and
/// `sluice-reject-detail`) and where it came from (`sluice-source`: topic/partition/offset).
///
/// ```swift
/// let out = Rejection.record(of: record, topic: "sluice.rejected", code: "unparseable", detail: "not JSON")
/// ```
public enum Rejection {
    public static let reasonHeader = "sluice-reject-reason"
    public static let detailHeader = "sluice-reject-detail"

    public static func record(of record: KafkaRecord, topic: String, code: String, detail: String) -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic, key: record.key, value: record.value,
            headers: record.headers + [
                KafkaHeader(reasonHeader, code), KafkaHeader(detailHeader, detail),
                KafkaHeader("sluice-source", "\(record.topic)/\(record.partition)/\(record.offset)"),
            ])
    }
}

extension EndpointRegistry {
    /// Applies one record of `sluice.endpoints` (its key is the endpoint id); records
    /// without a UTF-8 key are not endpoint records and are ignored.
    mutating func apply(_ record: KafkaRecord) throws(WireError) {
        guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }) else { return }
        try apply(key: key, value: record.value)
    }
}
