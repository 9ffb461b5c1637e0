import CRdKafka

/// Conversions between Swift values and `rd_kafka_topic_partition_list_t`.
enum TopicPartitionList {
    /// A new list (the caller destroys it) of `offsets`, or of partitions with
    /// `RD_KAFKA_OFFSET_INVALID` where the offset is nil.
    static func make(_ offsets: [TopicPartition: Int64?]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for (tp, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = offset ?? sluice_rd_offset_invalid()
        }
        return list
    }

    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64?.none) }))
    }

    /// Each element's partition, offset and error.
    static func elements(
        _ list: UnsafePointer<rd_kafka_topic_partition_list_t>
    ) -> [(TopicPartition, offset: Int64, error: rd_kafka_resp_err_t)] {
        (0..<Int(list.pointee.cnt)).map { i in
            let e = list.pointee.elems[i]
            return (TopicPartition(String(cString: e.topic), e.partition), e.offset, e.err)
        }
    }

    static func partitions(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        elements(list).map(\.0)
    }
}

/// Conversions between ``KafkaHeader`` and `rd_kafka_headers_t`.
enum HeaderList {
    /// A new header list (nil when empty); owned by whoever it is passed to.
    static func make(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            // withCString: a short key's implicit bridging copied it to the heap.
            header.key.withCString { key in
                if let value = header.value {
                    _ = value.withUnsafeBytes { rd_kafka_header_add(list, key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(list, key, -1, nil, 0)
                }
            }
        }
        return list
    }

    /// Copies a message's headers out.
    static func read(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: [KafkaHeader] = []
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
                let name
            else { break }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            headers.append(KafkaHeader(String(cString: name), bytes))
            index += 1
        }
        return headers
    }
}

extension KafkaRecord {
    /// Copies a consumed message out of librdkafka.
    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: String(cString: rd_kafka_topic_name(m.rkt)),
            partition: m.partition,
            offset: m.offset,
            key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
            value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
            headers: HeaderList.read(message),
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
    }
}
