import Foundation
import SluiceCore
import SluiceKafka

/// The dead letters of `sluice.dlq` as operators search them: read (read_committed) from
/// the first record at or after `since` (offsets-for-times, validated, with the scan
/// fallback on brokers that answer it wrongly) to the topic's end, filtered.
///
/// Invariant: replay markers are never returned as dead letters; they are gathered per
/// replay id so a replay knows what it already sent. Unreadable records are counted,
/// never thrown: one bad record does not hide the rest.
///
/// ```swift
/// let scan = try await DeadLetterArchive(topic: "sluice.dlq", reader: reader).scan(DeadLetterFilter(endpointID: "ep_1"))
/// print(scan.entries.count, scan.unreadable)
/// ```
public struct DeadLetterArchive: Sendable {
    /// One dead letter and where it sits.
    public struct Entry: Sendable {
        public var partition: Int32
        public var offset: Int64
        /// The record's timestamp: when it was parked.
        public var parkedAt: Date?
        public var deadLetter: DeadLetter
        /// How replay markers name it (`partition:offset`).
        public var source: String { ReplayMarker.source(partition: partition, offset: offset) }
    }

    /// What one scan found.
    public struct Scan: Sendable {
        public var entries: [Entry] = []
        /// Replay id → the dead letters that replay already sent.
        public var replayed: [String: Set<String>] = [:]
        /// Records that are neither dead letters nor markers.
        public var unreadable = 0
        /// Records read, of any kind.
        public var read = 0
    }

    public let topic: String
    public let reader: KafkaTopicReader

    public init(topic: String, reader: KafkaTopicReader) {
        self.topic = topic
        self.reader = reader
    }

    public func scan(_ filter: DeadLetterFilter) async throws -> Scan {
        var start: [TopicPartition: Int64]?
        if let since = filter.since {
            start = try await reader.offsets(atOrAfter: since, topic: topic)
        }
        var scan = Scan()
        try await reader.readToEnd(topic: topic, from: start) { record in
            scan.read += 1
            switch Self.classify(record) {
            case .marker(let marker):
                scan.replayed[marker.replayID, default: []].formUnion(marker.sources)
            case .deadLetter(let dead):
                let parkedAt = record.timestampMs.map { Date(timeIntervalSince1970: Double($0) / 1000) }
                if filter.matches(dead, parkedAt: parkedAt) {
                    scan.entries.append(Entry(partition: record.partition, offset: record.offset, parkedAt: parkedAt, deadLetter: dead))
                }
            case .unreadable:
                scan.unreadable += 1
            }
        }
        scan.entries.sort { ($0.parkedAt ?? $0.deadLetter.deadAt, $0.partition, $0.offset) < ($1.parkedAt ?? $1.deadLetter.deadAt, $1.partition, $1.offset) }
        return scan
    }

    /// What a record of the DLQ topic is.
    enum Kind {
        case deadLetter(DeadLetter)
        case marker(ReplayMarker)
        case unreadable(String)
    }

    static func classify(_ record: KafkaRecord) -> Kind {
        let value = record.value ?? []
        do {
            if record.headers[header: WireFormat.header]?.stringValue == ReplayMarker.formatHeader {
                return .marker(try ReplayMarker(wireBytes: value))
            }
            return .deadLetter(try DeadLetter(wireBytes: value))
        } catch {
            return .unreadable("\(error)")
        }
    }
}
