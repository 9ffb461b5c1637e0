import SluiceCore
import SluiceKafka

extension EventDecoder {
    /// The event a record of `sluice.events` carries (key, value and `ce_*` headers), as
    /// fanout reads it; history replays read past events the same way.
    ///
    /// ```swift
    /// if case .success(let event) = decoder.decode(record) { … }
    /// ```
    public func decode(_ record: KafkaRecord) -> Result<Event, EventRejection> {
        var headers: [String: [UInt8]] = [:]
        for header in record.headers { headers[header.key] = header.value ?? [] }
        return decode(key: record.key, value: record.value, headers: headers)
    }
}
