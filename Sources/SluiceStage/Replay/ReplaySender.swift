import Foundation
import SluiceCore
import SluiceKafka

/// Sends the deliveries of one replay to `sluice.deliveries` in Kafka transactions, each
/// with a ``ReplayMarker`` naming the source records it sent, at most `rate` per second,
/// reporting progress after each transaction. Both replays use it: dead letters
/// (``DeadLetterReplay``, markers on `sluice.dlq`) and history (``HistoryReplay``,
/// markers on `sluice.replays`).
///
/// Every delivery is sent as ``Delivery/replayed(id:now:)`` at the moment its transaction
/// starts: attempt count reset, due now, the maximum age counted from then, the replay id
/// set (dispatch treats replayed deliveries as retries: they never take the share of its
/// in-flight budget kept for fresh traffic).
///
/// Invariant: a source is named in exactly the marker of the transaction that sent its
/// delivery, so a later run that skips the sources of committed markers sends nothing twice
/// (on Apache Kafka; on Tansu, which shows aborted records, a crash mid-transaction can
/// repeat that one chunk).
///
/// ```swift
/// let sender = ReplaySender(id: "rp_1a2b", deliveriesTopic: "sluice.deliveries", markerTopic: "sluice.dlq", rate: 50)
/// let sent = try await sender.run(items, producer: producer) { print($0.sent, $0.total) }
/// ```
public struct ReplaySender: Sendable {
    /// One delivery to send and the record it came from (`partition:offset` of the topic read).
    public struct Item: Sendable {
        public var source: String
        public var delivery: Delivery
        public init(source: String, delivery: Delivery) {
            self.source = source
            self.delivery = delivery
        }
    }

    /// How far a run got.
    public struct Progress: Sendable, Equatable {
        public var sent: Int
        public var total: Int
    }

    public let id: String
    public let deliveriesTopic: String
    public let markerTopic: String
    /// Deliveries per second at most; nil for as fast as the broker takes them.
    public let rate: Double?
    public var chunkSize = 100
    /// Keeps the writes no further ahead of dispatch than its `ahead` (nil: only `rate`).
    public var pace: ReplayPace?
    /// The rates a replay accepts: at least one delivery per 1,000 s, at most a million per second.
    public static let rates: ClosedRange<Double> = 0.001...1_000_000

    public init(id: String, deliveriesTopic: String, markerTopic: String, rate: Double?) {
        self.id = id
        self.deliveriesTopic = deliveriesTopic
        self.markerTopic = markerTopic
        // Commands refuse a rate outside `rates`; a caller that did not is clamped into it.
        self.rate = rate.map { $0.isFinite ? min(max($0, Self.rates.lowerBound), Self.rates.upperBound) : Self.rates.upperBound }
    }

    /// Sends `items` in transactions of at most `chunkSize` (fewer under a low rate).
    /// `producer` must be transactional and initialised.
    public func run(
        _ items: [Item], producer: KafkaProducer, now: @Sendable () -> Date = Date.init, progress: (Progress) -> Void
    ) async throws -> Int {
        let chunk = max(1, min(chunkSize, rate.map { Int($0.rounded(.down)) } ?? chunkSize))
        var bucket = rate.map { TokenBucket(rate: $0, burst: Double(chunk), now: now()) }
        var sent = 0
        for start in stride(from: 0, to: items.count, by: chunk) {
            let part = items[start..<min(start + chunk, items.count)]
            if var limit = bucket {
                for _ in part {
                    while let wait = limit.take(now: now()) { try await Task.sleep(for: wait) }
                }
                bucket = limit
            }
            try await pace?.waitForRoom(part.count)
            let at = now()
            var records = try part.map { item in try DeliveryRecord.make(item.delivery.replayed(id: id, now: at), topic: deliveriesTopic) }
            let marker = ReplayMarker(replayID: id, sources: part.map(\.source), at: at)
            records.append(try KafkaProducerRecord(topic: markerTopic, key: id, wire: marker))
            try await producer.sendInTransaction(records)
            sent += part.count
            progress(Progress(sent: sent, total: items.count))
        }
        return sent
    }
}
