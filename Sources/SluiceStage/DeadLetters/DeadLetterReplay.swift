import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// Sends dead letters back to `sluice.deliveries` for another try: each with its attempt
/// count reset, due now, under one replay id, its `webhook-id` (event id) and body kept.
///
/// Each chunk of deliveries is one Kafka transaction together with a ``ReplayMarker``
/// naming the dead letters it sent, written to the DLQ topic. A later run of the same
/// replay id reads the markers and skips what already went; its transactional id
/// (`<prefix>dlq-replay-<id>`) fences an interrupted run still holding a transaction open.
///
/// Invariant: a dead letter is sent at most once per replay id (on Apache Kafka; on Tansu,
/// which shows aborted records, a crash mid-chunk can repeat that one chunk).
///
/// ```swift
/// let replay = DeadLetterReplay(id: "rp_1a2b", prefix: "sluice.", rate: 50)
/// let summary = try await replay.run(plan, producer: producer) { print($0) }
/// ```
public struct DeadLetterReplay: Sendable {
    /// What will be sent and what will not, decided before anything is sent.
    public struct Plan: Sendable {
        public var toSend: [DeadLetterArchive.Entry] = []
        /// Already sent by this replay id.
        public var alreadySent = 0
        /// Their endpoint is disabled or deleted: endpoint id → count.
        public var endpointUnavailable: [String: Int] = [:]
        public var matched: Int { toSend.count + alreadySent + endpointUnavailable.values.reduce(0, +) }
    }

    /// How far a run got.
    public struct Progress: Sendable, Equatable {
        public var sent: Int
        public var total: Int
    }

    public let id: String
    public let prefix: String
    /// Deliveries per second at most; nil for as fast as the broker takes them.
    public let rate: Double?
    /// The rates a replay accepts: at least one delivery per 1,000 s, at most a million per second.
    public static let rates: ClosedRange<Double> = 0.001...1_000_000
    public var chunkSize = 100

    public init(id: String, prefix: String, rate: Double?) {
        self.id = id
        self.prefix = prefix
        // Commands refuse a rate outside `rates`; a caller that did not is clamped into it.
        self.rate = rate.map { $0.isFinite ? min(max($0, Self.rates.lowerBound), Self.rates.upperBound) : Self.rates.upperBound }
    }

    /// Sorts the scanned dead letters into what this replay sends and what it skips.
    public func plan(_ scan: DeadLetterArchive.Scan, endpoints: EndpointRegistry) -> Plan {
        let sent = scan.replayed[id] ?? []
        var plan = Plan()
        for entry in scan.entries {
            let endpointID = entry.deadLetter.delivery.endpointID
            if sent.contains(entry.source) {
                plan.alreadySent += 1
            } else if endpoints[endpointID]?.enabled != true {
                plan.endpointUnavailable[endpointID, default: 0] += 1
            } else {
                plan.toSend.append(entry)
            }
        }
        return plan
    }

    /// Sends `plan.toSend` in transactions of at most `chunkSize` (fewer under a low
    /// rate), reporting progress after each. `producer` must be transactional with this
    /// replay's id (``transactionalID``) and initialised.
    public func run(_ plan: Plan, producer: KafkaProducer, now: @Sendable () -> Date = Date.init, progress: (Progress) -> Void) async throws -> Int {
        let chunk = max(1, min(chunkSize, rate.map { Int($0.rounded(.down)) } ?? chunkSize))
        var bucket = rate.map { TokenBucket(rate: $0, burst: Double(chunk), now: now()) }
        var sent = 0
        for start in stride(from: 0, to: plan.toSend.count, by: chunk) {
            let entries = plan.toSend[start..<min(start + chunk, plan.toSend.count)]
            if bucket != nil {
                for _ in entries {
                    while let wait = bucket!.take(now: now()) { try await Task.sleep(for: wait) }
                }
            }
            let at = now()
            var records = try entries.map { entry in
                let delivery = entry.deadLetter.delivery.replayed(id: id, now: at)
                return try KafkaProducerRecord(topic: prefix + "deliveries", key: delivery.endpointID, wire: delivery)
            }
            let marker = ReplayMarker(replayID: id, sources: entries.map(\.source), at: at)
            records.append(try KafkaProducerRecord(topic: prefix + "dlq", key: id, wire: marker))
            try await producer.sendInTransaction(records)
            sent += entries.count
            progress(Progress(sent: sent, total: plan.toSend.count))
        }
        return sent
    }

    /// The transactional id of this replay's producer.
    public var transactionalID: String { "\(prefix)dlq-replay-\(id)" }
}
