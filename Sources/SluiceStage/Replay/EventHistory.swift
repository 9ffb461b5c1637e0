import Foundation
import SluiceCore
import SluiceKafka

/// The past events of `sluice.events` that a history replay sends to one endpoint: read
/// (read_committed) from the offsets for the window's start (offsets-for-times, validated,
/// with the scan fallback on brokers that answer it wrongly) to the topic's end, decoded as
/// fanout decodes them, and selected by ``HistoryReplayRequest/selects(_:publishedAt:endpoint:)``.
///
/// Invariant: every record read is counted in exactly one of the scan's counts (taken,
/// other tenant, other type, outside the window, unreadable, too large); unreadable records
/// are counted, never thrown. Deliveries are built as fanout builds them (the same event id,
/// so the same `webhook-id`, and the same body).
///
/// ```swift
/// let scan = try await EventHistory(topic: "sluice.events", reader: reader).scan(request, endpoint: endpoint)
/// print(scan.items.count, scan.otherTenants)
/// ```
public struct EventHistory: Sendable {
    /// What one scan found.
    public struct Scan: Sendable {
        /// The events to send, in publish order (by record time, then partition and offset).
        public var items: [ReplaySender.Item] = []
        public var read = 0
        public var otherTenants = 0
        public var otherTypes = 0
        public var outsideWindow = 0
        /// Records fanout would have rejected (not events).
        public var unreadable = 0
        /// Events whose delivery would exceed ``DeliveryRecord/maxBytes``.
        public var tooLarge = 0
        /// The earliest publish time of any record read: where the topic's history starts
        /// when the window reaches back past its retention.
        public var earliest: Date?
    }

    public let topic: String
    public let reader: KafkaTopicReader
    public let decoder: EventDecoder

    public init(topic: String, reader: KafkaTopicReader, decoder: EventDecoder = EventDecoder()) {
        self.topic = topic
        self.reader = reader
        self.decoder = decoder
    }

    /// Reads the window's events; `progress` gets the number of records read so far, now
    /// and then.
    public func scan(_ request: HistoryReplayRequest, endpoint: Endpoint, progress: (Int) -> Void = { _ in }) async throws -> Scan {
        let reader = Self.patient(self.reader)
        let start = try await reader.offsets(atOrAfter: request.window.since, topic: topic)
        var scan = Scan()
        var found: [(at: Date, partition: Int32, offset: Int64, item: ReplaySender.Item)] = []
        try await reader.readToEnd(topic: topic, from: start) { record in
            scan.read += 1
            if scan.read % 1000 == 0 { progress(scan.read) }
            let publishedAt = record.timestampMs.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            if let publishedAt { scan.earliest = min(scan.earliest ?? publishedAt, publishedAt) }
            let event: Event
            switch decoder.decode(record) {
            case .failure: scan.unreadable += 1; return
            case .success(let decoded): event = decoded
            }
            switch request.selects(event, publishedAt: publishedAt, endpoint: endpoint) {
            case .otherTenant: scan.otherTenants += 1
            case .otherType: scan.otherTypes += 1
            case .outsideWindow: scan.outsideWindow += 1
            case .take:
                let delivery = Delivery(event: event, endpointID: endpoint.id, now: publishedAt ?? Date())
                // The size as it will be sent (with the replay id), checked before anything is.
                guard (try? DeliveryRecord.value(of: delivery.replayed(id: request.replayID, now: Date()))) != nil else {
                    scan.tooLarge += 1
                    return
                }
                let source = ReplayMarker.source(partition: record.partition, offset: record.offset)
                found.append((publishedAt ?? .distantPast, record.partition, record.offset, ReplaySender.Item(source: source, delivery: delivery)))
            }
        }
        progress(scan.read)
        scan.items = found.sorted { ($0.at, $0.partition, $0.offset) < ($1.at, $1.partition, $1.offset) }.map(\.item)
        return scan
    }

    /// How long a read of a window's records may take: days of events are many records.
    /// (The markers of `sluice.replays` are few: their read keeps the reader's own bound.)
    public static let readTimeout: Duration = .seconds(900)

    /// `reader` with at least ``readTimeout`` for one read.
    static func patient(_ reader: KafkaTopicReader) -> KafkaTopicReader {
        var reader = reader
        reader.timeout = max(reader.timeout, readTimeout)
        return reader
    }
}
