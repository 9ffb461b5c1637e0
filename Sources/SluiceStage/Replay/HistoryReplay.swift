import Foundation
import SluiceCore
import SluiceKafka

/// Re-delivers an endpoint's tenant's past events from `sluice.events` to that endpoint
/// alone (`sluice events replay`; the admin API's replay route can call the same): one
/// delivery per selected event, with the original event id (a stable `webhook-id`, so
/// receivers deduplicate), a fresh attempt count and the replay id.
///
/// The plan reads what this replay id already sent (``ReplayLedger``), with
/// `--only-missing` what the endpoint already got a 2xx for (``DeliveredEvents``), then the
/// window's events (``EventHistory``); the run sends the rest through a ``ReplaySender``
/// (markers on `sluice.replays`, at most `rate` per second). Its transactional id
/// (`<prefix>events-replay-<id>`) fences an interrupted run still holding a transaction
/// open: initialise the producer before planning, so that run's transaction is aborted and
/// no longer holds back the reads.
///
/// Invariant: an event is sent at most once per replay id (on Apache Kafka; on Tansu, which
/// shows aborted records, a crash mid-transaction can repeat that one chunk); events of
/// other tenants, or of types the endpoint's filter (and `types`) do not take, never are.
///
/// ```swift
/// let endpoint = try HistoryReplay.target(request, endpoints: registry)
/// let replay = HistoryReplay(request: request, endpoint: endpoint, prefix: "sluice.", rate: 500)
/// let plan = try await replay.plan(reader: reader)
/// let sent = try await replay.run(plan, producer: producer) { print($0.sent, $0.total) }
/// ```
public struct HistoryReplay: Sendable {
    /// What will be sent and what will not, decided before anything is sent.
    public struct Plan: Sendable {
        public var toSend: [ReplaySender.Item] = []
        /// Already sent by this replay id.
        public var alreadySent = 0
        /// Already answered 2xx by the endpoint (`--only-missing`).
        public var alreadyDelivered = 0
        public var scan = EventHistory.Scan()
        /// The window's events of the endpoint's tenant that its filter (and `types`) takes.
        public var matched: Int { toSend.count + alreadySent + alreadyDelivered + scan.tooLarge }
    }

    public let request: HistoryReplayRequest
    public let endpoint: Endpoint
    public let prefix: String
    /// Deliveries per second at most; nil for as fast as the broker takes them.
    public let rate: Double?
    public var decoder = EventDecoder()

    public init(request: HistoryReplayRequest, endpoint: Endpoint, prefix: String, rate: Double?) {
        self.request = request
        self.endpoint = endpoint
        self.prefix = prefix
        self.rate = rate
    }

    /// The endpoint `request` names, if it exists and (unless `allowDisabled`, for a dry
    /// run) is enabled.
    public static func target(_ request: HistoryReplayRequest, endpoints: EndpointRegistry, allowDisabled: Bool = false) throws(HistoryReplayError) -> Endpoint {
        guard let endpoint = endpoints[request.endpointID] else { throw .unknownEndpoint(request.endpointID) }
        guard endpoint.enabled || allowDisabled else { throw .endpointDisabled(endpoint.id, reason: endpoint.disabledReason) }
        return endpoint
    }

    /// Refuses a window wholly older than what `sluice.events` keeps (its `retention`).
    public func checkRetention(_ retention: Duration?, now: Date) throws(HistoryReplayError) {
        if case .none(let keptFrom) = request.window.coverage(retention: retention, now: now), let retention {
            throw .windowOutsideRetention(until: request.window.until, keptFrom: keptFrom, topic: prefix + "events", retention: retention)
        }
    }

    /// What the events topic can and cannot cover of the window, when it reaches back past
    /// the retention; nil when the whole window is kept.
    public func coverageNote(_ plan: Plan, retention: Duration?, now: Date) -> String? {
        guard case .partial(let keptFrom) = request.window.coverage(retention: retention, now: now), let retention else { return nil }
        let oldest = plan.scan.earliest.map { "the oldest event still there was published \(TimeText.format($0))" } ?? "no event of the window is left"
        return "the window starts \(TimeText.format(request.window.since)), before what \(prefix)events keeps (retention \(DurationText.format(retention)): "
            + "from about \(TimeText.format(keptFrom))); \(oldest). Events published earlier are deleted and cannot be replayed; "
            + "this replay covers \(TimeText.format(max(plan.scan.earliest ?? keptFrom, request.window.since))) to \(TimeText.format(request.window.until))"
    }

    /// Reads what was sent, what was delivered (`--only-missing`) and the window's events;
    /// `progress` gets the number of event records read so far.
    public func plan(reader: KafkaTopicReader, progress: (Int) -> Void = { _ in }) async throws -> Plan {
        let sent = try await ReplayLedger(topic: markerTopic, reader: reader).sources(of: request.replayID).sources
        var delivered: Set<String> = []
        if request.onlyMissing {
            delivered = try await DeliveredEvents(topic: prefix + "attempts", reader: reader).read(endpointID: endpoint.id, since: request.window.since).eventIDs
        }
        var plan = Plan()
        plan.scan = try await EventHistory(topic: prefix + "events", reader: reader, decoder: decoder).scan(request, endpoint: endpoint, progress: progress)
        for item in plan.scan.items {
            if sent.contains(item.source) {
                plan.alreadySent += 1
            } else if delivered.contains(item.delivery.eventID) {
                plan.alreadyDelivered += 1
            } else {
                plan.toSend.append(item)
            }
        }
        plan.scan.items = []  // kept once, in toSend
        return plan
    }

    /// Sends `plan.toSend`, following dispatch with `pace` when given; `producer` must be
    /// transactional with ``transactionalID`` and initialised.
    public func run(
        _ plan: Plan, producer: KafkaProducer, pace: ReplayPace? = nil, now: @Sendable () -> Date = Date.init, progress: (ReplaySender.Progress) -> Void
    ) async throws -> Int {
        var sender = ReplaySender(id: request.replayID, deliveriesTopic: prefix + "redeliveries", markerTopic: markerTopic, rate: rate)
        sender.pace = pace
        return try await sender.run(plan.toSend, producer: producer, now: now, progress: progress)
    }

    /// The one line that says what a run (or a dry run, `sent` nil) did.
    public func summary(_ plan: Plan, sent: Int?, seconds: Double) -> String {
        let window = "\(TimeText.format(request.window.since)) to \(TimeText.format(request.window.until))"
        var skipped = ["\(plan.alreadySent) already sent by this replay"]
        if request.onlyMissing { skipped.append("\(plan.alreadyDelivered) already delivered") }
        if plan.scan.tooLarge > 0 { skipped.append("\(plan.scan.tooLarge) too large to deliver") }
        let others = "of \(plan.scan.read) events read: \(plan.scan.otherTenants) of other tenants, \(plan.scan.otherTypes) of other types, "
            + "\(plan.scan.outsideWindow) outside the window, \(plan.scan.unreadable) not events"
        guard let sent else {
            return "dry run of replay \(request.replayID): would send \(plan.toSend.count) of \(plan.matched) matching events of tenant \(endpoint.tenant) "
                + "to \(endpoint.id), \(window) (\(skipped.joined(separator: ", "))); \(others); nothing sent"
        }
        return "replay \(request.replayID): sent \(sent) of \(plan.matched) matching events of tenant \(endpoint.tenant) to \(endpoint.id), \(window), "
            + "in \(String(format: "%.1f", seconds)) s (\(skipped.joined(separator: ", "))); \(others)"
    }

    /// Where the markers of history replays go.
    public var markerTopic: String { prefix + "replays" }

    /// The transactional id of this replay's producer.
    public var transactionalID: String { "\(prefix)events-replay-\(request.replayID)" }
}
