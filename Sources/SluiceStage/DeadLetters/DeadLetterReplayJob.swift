import Foundation
import SluiceCore
import SluiceKafka

/// A whole dead-letter replay, from filters to the last chunk sent: scan `sluice.dlq`,
/// plan against the endpoints as they are now, send under the replay's transactional id.
/// The one implementation behind `sluice dlq replay` and the admin API's
/// `POST /v1/dead-letters/replay`.
///
/// Invariant: ``send(_:progress:)`` sends only the prepared plan, through a producer whose
/// transactional id is the replay's (so an interrupted run of the same id is fenced), and
/// closes it.
///
/// ```swift
/// let job = DeadLetterReplayJob(prefix: "sluice.", reader: reader, endpoints: store) { try runtime.producer(transactionalID: $0) }
/// let prepared = try await job.prepare(filter: filter, replayID: "rp_1a2b", rate: 50)
/// let sent = try await job.send(prepared) { print($0.sent, $0.total) }
/// ```
public struct DeadLetterReplayJob: Sendable {
    /// A replay ready to send: what it will send and what it skips.
    public struct Prepared: Sendable {
        public var replay: DeadLetterReplay
        public var plan: DeadLetterReplay.Plan
        /// Records of the DLQ topic that are neither dead letters nor replay markers.
        public var unreadable: Int
        /// The replay's producer, initialised before the scan (nil for a dry run).
        var producer: KafkaProducer?
    }

    public let prefix: String
    public let reader: KafkaTopicReader
    public let endpoints: EndpointStore
    let makeProducer: @Sendable (String) throws -> KafkaProducer
    /// Makes the ``ReplayPace`` a send follows dispatch with (nil: only the rate).
    public var makePace: (@Sendable () throws -> ReplayPace)?

    /// `makeProducer` makes a producer with the given transactional id.
    public init(prefix: String, reader: KafkaTopicReader, endpoints: EndpointStore, makeProducer: @escaping @Sendable (String) throws -> KafkaProducer) {
        self.prefix = prefix
        self.reader = reader
        self.endpoints = endpoints
        self.makeProducer = makeProducer
    }

    /// The replay id `filter` gets when none is given: the CLI's and the API's filters
    /// written the same way name the same replay.
    public static func replayID(for filter: DeadLetterFilter) -> String {
        DeadLetterFilter.replayID(for: words(filter))
    }

    /// The filters as `name=value` words, in the CLI's order (``DeadLetterFilter/replayID(for:)``).
    public static func words(_ filter: DeadLetterFilter) -> [String] {
        [
            ("endpoint", filter.endpointID), ("tenant", filter.tenant), ("type", filter.eventType), ("event", filter.eventID),
            ("since", filter.since.map(TimeText.format)), ("until", filter.until.map(TimeText.format)),
        ].compactMap { name, value in value.map { "\(name)=\($0)" } }
    }

    /// Scans the dead letters matching `filter` and plans replay `replayID` at `rate`.
    /// Unless `dryRun`, the replay's producer is initialised first: that fences and aborts
    /// an interrupted run of the same replay, whose open transaction would otherwise hold
    /// back the read of the DLQ. Follow with ``send(_:progress:)``, which closes it.
    public func prepare(filter: DeadLetterFilter, replayID: String, rate: Double?, dryRun: Bool = false) async throws -> Prepared {
        let replay = DeadLetterReplay(id: replayID, prefix: prefix, rate: rate)
        let producer = dryRun ? nil : try makeProducer(replay.transactionalID)
        do {
            try await producer?.initTransactions()
            let scan = try await DeadLetterArchive(topic: prefix + "dlq", reader: reader).scan(filter)
            let plan = replay.plan(scan, endpoints: try await endpoints.load())
            return Prepared(replay: replay, plan: plan, unreadable: scan.unreadable, producer: producer)
        } catch {
            try? await producer?.close()
            throw error
        }
    }

    /// Sends the prepared plan, reporting progress after each chunk, and closes the
    /// replay's producer; how many went.
    public func send(_ prepared: Prepared, progress: (DeadLetterReplay.Progress) -> Void) async throws -> Int {
        let producer: KafkaProducer
        if let ready = prepared.producer {
            producer = ready
        } else {
            guard !prepared.plan.toSend.isEmpty else { return 0 }
            producer = try makeProducer(prepared.replay.transactionalID)
            try await producer.initTransactions()
        }
        do {
            let sent = prepared.plan.toSend.isEmpty ? 0 : try await ReplayPace.pacing(makePace) { pace in
                try await prepared.replay.run(prepared.plan, producer: producer, pace: pace, progress: progress)
            }
            try await producer.close()
            return sent
        } catch {
            try? await producer.close()
            throw error
        }
    }
}
