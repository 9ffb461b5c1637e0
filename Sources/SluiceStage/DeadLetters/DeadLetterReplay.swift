import Foundation
import Logging
import SluiceCore
import SluiceKafka

/// Sends dead letters again, through `sluice.redeliveries` (dispatch's replay lane): each with its attempt
/// count reset, due now, under one replay id, its `webhook-id` (event id) and body kept.
///
/// Each chunk of deliveries is one Kafka transaction together with a ``ReplayMarker``
/// naming the dead letters it sent, written to the DLQ topic (``ReplaySender``). A later run of the same
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
    public typealias Progress = ReplaySender.Progress

    public let id: String
    public let prefix: String
    /// Deliveries per second at most; nil for as fast as the broker takes them.
    public let rate: Double?
    /// The rates a replay accepts: at least one delivery per 1,000 s, at most a million per second.
    public static let rates = ReplaySender.rates
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

    /// Sends `plan.toSend` through a ``ReplaySender`` (markers on the DLQ topic) in
    /// transactions of at most `chunkSize` (fewer under a low rate), reporting progress
    /// after each. `producer` must be transactional with this replay's id
    /// (``transactionalID``) and initialised.
    public func run(
        _ plan: Plan, producer: KafkaProducer, pace: ReplayPace? = nil, now: @Sendable () -> Date = Date.init, progress: (Progress) -> Void
    ) async throws -> Int {
        var sender = ReplaySender(id: id, deliveriesTopic: prefix + "redeliveries", markerTopic: prefix + "dlq", rate: rate)
        sender.chunkSize = chunkSize
        sender.pace = pace
        let items = plan.toSend.map { ReplaySender.Item(source: $0.source, delivery: $0.deadLetter.delivery) }
        return try await sender.run(items, producer: producer, now: now, progress: progress)
    }

    /// The transactional id of this replay's producer.
    public var transactionalID: String { "\(prefix)dlq-replay-\(id)" }
}
