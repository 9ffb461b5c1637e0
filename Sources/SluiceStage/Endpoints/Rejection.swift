import Metrics
import SluiceCore
import SluiceKafka

/// Records for `sluice.rejected`: the original key, value and headers of a record a stage
/// cannot use, plus why (`sluice-reject-reason`, a stable code, and
/// `sluice-reject-detail`) and where it came from (`sluice-source`: topic/partition/offset).
///
/// A rejection never fails for size: a record larger than ``maxRecordBytes`` keeps only
/// the first ``truncatedValueBytes`` of its value (and its headers only while they are
/// small), with `sluice-original-bytes` and `sluice-original-sha256` naming the whole
/// record, so an operator can still find it at its source coordinates. ``minimal(of:topic:code:detail:)``
/// keeps no bytes at all, for when even that write fails.
///
/// Every rejection is counted in `sluice_rejected_total{topic,reason}` by the stage that
/// makes it (``count(topic:reason:)``).
///
/// ```swift
/// let out = Rejection.record(of: record, topic: "sluice.rejected", code: "unparseable", detail: "not JSON")
/// ```
public enum Rejection {
    public static let reasonHeader = "sluice-reject-reason"
    public static let detailHeader = "sluice-reject-detail"
    public static let sourceHeader = "sluice-source"
    public static let originalBytesHeader = "sluice-original-bytes"
    public static let originalHashHeader = "sluice-original-sha256"
    public static let truncatedHeader = "sluice-truncated"

    /// Key, value and headers together at most this (librdkafka's and Kafka's default
    /// limits are about 1 MB).
    public static let maxRecordBytes = 512 * 1024
    public static let truncatedValueBytes = 64 * 1024
    static let maxKeptHeaderBytes = 16 * 1024
    static let maxDetailBytes = 1024

    public static func record(of record: KafkaRecord, topic: String, code: String, detail: String) -> KafkaProducerRecord {
        let headerBytes = record.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
        let size = (record.key?.count ?? 0) + (record.value?.count ?? 0) + headerBytes
        guard size > maxRecordBytes else {
            return KafkaProducerRecord(
                topic: topic, key: record.key, value: record.value, headers: record.headers + reasons(record, code, detail))
        }
        var kept = headerBytes <= maxKeptHeaderBytes ? record.headers : []
        kept += reasons(record, code, detail) + fingerprint(record, size: size)
        kept.append(KafkaHeader(truncatedHeader, headerBytes <= maxKeptHeaderBytes ? "value" : "value,headers"))
        return KafkaProducerRecord(
            topic: topic, key: record.key.map { Array($0.prefix(1024)) }, value: record.value.map { Array($0.prefix(truncatedValueBytes)) },
            headers: kept)
    }

    /// The rejection with none of the record's bytes: reasons, source and fingerprint only.
    /// What a stage writes when even the truncated copy cannot be written.
    public static func minimal(of record: KafkaRecord, topic: String, code: String, detail: String) -> KafkaProducerRecord {
        let size = (record.key?.count ?? 0) + (record.value?.count ?? 0)
        return KafkaProducerRecord(
            topic: topic, key: nil, value: nil,
            headers: reasons(record, code, detail) + fingerprint(record, size: size) + [KafkaHeader(truncatedHeader, "all")])
    }

    private static func reasons(_ record: KafkaRecord, _ code: String, _ detail: String) -> [KafkaHeader] {
        [
            KafkaHeader(reasonHeader, code), KafkaHeader(detailHeader, detail.truncated(toBytes: maxDetailBytes)),
            KafkaHeader(sourceHeader, "\(record.topic)/\(record.partition)/\(record.offset)"),
        ]
    }

    private static func fingerprint(_ record: KafkaRecord, size: Int) -> [KafkaHeader] {
        [
            KafkaHeader(originalBytesHeader, String(size)),
            KafkaHeader(originalHashHeader, WebhookSigner.sha256Hex((record.key ?? []) + (record.value ?? []))),
        ]
    }

    /// Counts rejected records of `topic` in `sluice_rejected_total{topic,reason}`.
    public static func count(topic: String, reason: String, by count: Int = 1) {
        Counter(label: "sluice_rejected_total", dimensions: [("topic", topic), ("reason", reason)]).increment(by: count)
    }
}

extension EndpointRegistry {
    /// Applies one record of `sluice.endpoints` (its key is the endpoint id); a record
    /// without a UTF-8 key is refused, so the caller counts and logs it.
    mutating func apply(_ record: KafkaRecord) throws(WireError) {
        guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }), !key.isEmpty else {
            throw WireError(kind: Endpoint.kind, problem: record.key == nil ? "no key (the key is the endpoint id)" : "the key is not UTF-8 text")
        }
        try apply(key: key, value: record.value)
    }
}
