import CProcess
import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import SluiceKafka

/// The gate of a running stage: its waiters are deliveries waiting for a slot.
typealias DispatchGate = EndpointGate<DispatchStage.Waiting>

/// `sluice-dispatch`: signs and POSTs the deliveries of `sluice.deliveries` (live) and
/// `sluice.redeliveries` (replays, paced by the ``ReplayLane``), records every attempt,
/// and routes every outcome durably before its offset is committed.
///
/// Many deliveries of a partition are in flight at once and finish out of order; the
/// ``OffsetTracker`` commits only up to the lowest one whose outcome the broker has not
/// yet acknowledged, so a crash loses none. An endpoint past its concurrency bound, with
/// an open circuit or past its rate limit has its deliveries deferred to a retry tier
/// without spending an attempt, so it never holds up the others of its partition.
///
/// Invariant: a delivery's offset is finished only after its attempt record and its
/// outcome (retry, dead letter, endpoint change) were acknowledged.
public final class DispatchStage: Service, Sendable {
    public struct Config: Sendable {
        /// Deliveries in flight over all partitions at most (parked requests and deliveries
        /// waiting for a slot count past `maxParked` and `maxWaiting`).
        /// Requests to slow endpoints hold their place for their whole latency (Little's
        /// law: at 10k/s with 10 % of deliveries taking 2 s, 2,000 are in flight for those
        /// alone), but libcurl slows down with many transfers to one host: measured on 2
        /// cores (`make bench`, 5,000 endpoints on one host), 10,000 gave the healthy ones
        /// 3.3–3.6k/s at p50 about 2 s, 2,000 gave about 4k/s (mixed) and 7.7k/s (all
        /// healthy) at p99 0.3 s. Raise it (`--max-in-flight`) with cores, hosts and slow
        /// endpoints.
        public var maxInFlight = 2000
        /// Requests parked by the HTTP window (unanswered after its `parkAfter`) that no
        /// longer count against `maxInFlight`, at most: a slow endpoint's request costs a
        /// socket while it waits, no CPU, and should not keep healthy deliveries unread.
        public var maxParked = 2000
        /// Deliveries waiting at their endpoints' gates that no longer count against
        /// `maxInFlight`, at most (each holds its record in memory). Measured (the bench's
        /// mixed run, 20 % of endpoints bad): counted, 1,000–1,500 of them filled the bound
        /// and healthy endpoints were read late; left out, healthy endpoints got 4,290–4,425
        /// deliveries/s against 3,485–3,843 (5,000 endpoints), and 4,000 of them gave no
        /// more than 2,000 (1,000 endpoints).
        public var maxWaiting = 2000
        /// Idle connections kept open for the next request at most, beyond those in use;
        /// nil (the default) is `maxInFlight`. A request that finds none to its host opens
        /// a new one (over HTTPS, a TLS handshake). Each kept connection holds about 19 KiB
        /// of RSS over HTTP and 65 KiB over HTTPS (`sluice-bench connections`, session 34):
        /// lower it to bound dispatch's memory when most endpoints are HTTPS.
        public var maxIdleConnections: Int?
        /// How many of those curl drives at once while they are young (``TransferWindow``:
        /// a limit that adapts to the HTTP loop's load; slow requests park out of it). Its
        /// ceiling is `maxInFlight`.
        public var httpWindow = TransferWindow.Config()
        /// Connection caches (libcurl multi handles) the endpoints are spread over
        /// (``CurlMultiClient/Pool/shards``): libcurl 7.88 walks the open connections of a
        /// request's multi handle to start it and again to take it out, so with slow endpoints
        /// holding thousands open, one cache made every request pay for all of them. A host's
        /// endpoints share one cache (and its connections) until the host has 64 requests
        /// under way at once; then they spread by URL (``ConnectionShards``).
        /// Measured (the bench's mixed run, 5,000 endpoints on one host of which a fifth slow,
        /// failing or black holes, 2 cores, session 36): 8 shards gave the healthy endpoints
        /// 0.96 of their all-healthy rate against 0.62 with one at the production retry
        /// schedule, 0.56 against 0.39 at the bench's scaled one, and dispatch's HTTP thread
        /// used about half the CPU. Over 100 hosts (session 37) 8 caches open as many
        /// connections as one: 6.53 system calls per delivery against 6.20.
        public var httpShards = 8
        /// Deliveries fetched ahead of the poll loop, in KiB (the consumer's
        /// ``KafkaConsumerConfig/prefetchLimitKiB``; `queued.max.messages.kbytes` under
        /// `librdkafka:` in the config file still wins). Half the other stages' 8 MiB: with
        /// 8 connection caches the mixed run's peak RSS was 154–160 MiB at 8 MiB of prefetch
        /// and 146–150 at 4 (session 36), still about a third of a second of deliveries at
        /// 20,000/s.
        public var prefetchKiB = 4096
        /// Requests to stragglers (endpoints answering slower than 100 ms of late, failing, or
        /// with their circuit not closed) go through a connection pool of their own, apart
        /// from the healthy endpoints' (``CurlMultiClient/Pool``; the same HTTP thread).
        /// Measured (the bench's mixed run, 5,000 endpoints of which a fifth slow, failing or
        /// black holes, 2 cores, interleaved, two rounds, session 32): healthy endpoints got
        /// 5,691 and 5,537 deliveries/s at p99 98 and 97 ms against 4,535 and 4,827 at 141
        /// and 136 ms, on a fifth less CPU, but dispatch's peak RSS was 148 and 155 MiB
        /// against 139 and 141. Off by default while that peak can pass 150 MiB
        /// (`--straggler-loop`).
        public var stragglerLoop = false
        /// Deliveries tracked per partition before it is paused; nil (the default) is
        /// ``partitionBound``, `maxInFlight`: the total bound stops the poll loop first,
        /// and no one partition holds more than its worth (parked and waiting deliveries
        /// included). Measured (100,000 deliveries to 1,000 endpoints, interleaved): 1,000
        /// per partition paused partitions all through the drain and held dispatch at
        /// 9,932–12,033 deliveries/s, against 15,388–17,014 with the pause at 2,000 or
        /// later. Later still costs memory for nothing: the mixed run's RSS peaked at
        /// 158–163 MiB with the pause at 6,000 (144–148 at 1,000, 149–158 at 2,000).
        public var maxInFlightPerPartition: Int?
        /// The per-partition bound in force: `maxInFlightPerPartition`, else `maxInFlight`.
        public var partitionBound: Int { maxInFlightPerPartition ?? maxInFlight }
        /// The most requests in flight per endpoint (its adaptive limit starts there and
        /// shrinks under overload) unless the endpoint sets its own.
        public var endpointConcurrency = 16
        /// The share of `maxInFlight` (percent) that retries, deferred deliveries and
        /// replayed ones may not take: kept for live first attempts.
        public var freshShare = 25
        public var commitInterval: Duration = .milliseconds(200)
        /// How long outcomes (attempt records, retries, deferrals, dead letters) wait to fill
        /// a batch: `linger.ms` of dispatch's producer (`kafka.linger` sets the others). No
        /// request waits for it, only the acknowledgement and so the offsets' commit.
        /// Measured (`make profile-dispatch`'s system calls, four rounds each, 100 endpoints):
        /// at 5 ms librdkafka's broker thread woke 2.2–3.1 times per delivery, at 25 ms
        /// 0.74–0.83, and CPU per delivery while draining fell from 89–93 to 76–84 µs (with
        /// 5,000 endpoints the bench's fast run showed no difference beyond its spread).
        public var outcomeLinger: Duration = .milliseconds(25)
        /// How often endpoint changes are picked up (URL, disable, secret rotation).
        public var endpointRefresh: Duration = .seconds(1)
        /// How often the slowest endpoints' latency is published (and logged).
        public var latencyWindow: Duration = .seconds(60)
        /// Resolves endpoint host names before the destination check (tests inject one).
        public var resolver: any HostResolver = SystemResolver()
        /// How long a checked, resolved endpoint URL is reused (``DestinationCache``): DNS
        /// changes reach dispatch, and are checked against the destination policy, within it.
        public var destinationTTL: Duration = .seconds(60)
        /// How replayed deliveries are paced beside live ones (``ReplayLane``).
        public var replay = ReplayLane.Config()
        /// How long a stop waits for the deliveries in flight before it leaves the rest
        /// (requests still under way included) to the partitions' next owners.
        public var stopDrain: Duration = .seconds(15)
        public init() {}
    }

    public static let group = "sluice-dispatch"

    let runtime: StageRuntime
    let config: Config
    let delivery: DeliverySettings
    let box: SecretBox
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let directory: EndpointDirectory
    let streaks: FailureStreaks
    let http: CurlMultiClient
    let destinations: DestinationCache
    let routing: DispatchRouting
    let tracker: Locked<OffsetTracker>
    let gate: Locked<DispatchGate>
    let metrics = DispatchMetrics()
    let writer: DurableWriter
    /// Deliveries polled whose outcome is not durable yet (or that gave up their replay turn).
    let handling = Locked(0)
    /// Retries (and deferred deliveries) being handled now: at most `maxInFlight` less the fresh share.
    let retriesInFlight = Locked(0)
    /// When the poll loop last polled, and how many events it got (for ``describe(endpoint:)``).
    let lastPoll = Locked((at: Date(), events: 0))
    /// `endpoint@revision` of secrets already reported unreadable (one ops event each).
    let unreadableSecrets = Locked<Set<String>>([])
    /// Endpoint secrets opened once each, not per delivery.
    let openedSecrets = OpenedSecrets()
    /// `sluice.redeliveries`: replays, read at the ``ReplayLane``'s pace.
    let replayTopic: String
    let lane: Locked<ReplayLane>
    /// Whether the redelivery partitions are paused for the lane (the state applied to the
    /// consumer; every pause and resume is applied under this lock).
    let laneHeld = Locked(false)
    /// Set when the poll loop ends: replays waiting for their turn give it up.
    let stopping = Locked(false)
    /// Replays waiting for their turn, by partition; a revoked partition's abandon theirs.
    let turns = Locked(ReplayTurns())

    init(
        runtime: StageRuntime, config: Config, delivery: DeliverySettings, box: SecretBox, consumer: KafkaConsumer, producer: KafkaProducer,
        directory: EndpointDirectory, streaks: FailureStreaks
    ) {
        self.runtime = runtime
        self.config = config
        self.delivery = delivery
        self.box = box
        self.consumer = consumer
        self.producer = producer
        self.directory = directory
        self.streaks = streaks
        var window = config.httpWindow
        window.ceiling = min(window.ceiling, config.maxInFlight)
        self.http = Self.httpClient(config, window: window, caFile: delivery.caFile)
        self.destinations = DestinationCache(policy: delivery.destinations, resolver: config.resolver, ttl: config.destinationTTL)
        self.routing = DispatchRouting(prefix: runtime.settings.topicPrefix)
        self.tracker = Locked(OffsetTracker(maxInFlightPerPartition: config.partitionBound))
        self.gate = Locked(DispatchGate(
            defaultLimit: config.endpointConcurrency, circuitThreshold: delivery.circuitThreshold,
            circuitCoolDown: delivery.circuitCoolDown, circuitCoolDownMax: delivery.circuitCoolDownMax,
            disableWindow: delivery.disableWindow, requestTimeout: delivery.requestTimeout, isBackground: { $0.ready.delivery.isBackground }))
        self.writer = DurableWriter(producer: producer, rejectedTopic: runtime.settings.topicPrefix + "rejected", logger: runtime.logger)
        self.replayTopic = runtime.settings.topicPrefix + "redeliveries"
        self.lane = Locked(ReplayLane(config: config.replay, now: Date()))
    }

    /// Checks the topology and the master key, loads the endpoints and joins the group.
    public static func start(runtime: StageRuntime, topology: Topology, delivery: DeliverySettings, config: Config = Config()) async throws -> DispatchStage {
        let prefix = runtime.settings.topicPrefix
        let box = try delivery.secretBox()
        try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics(try topology.topics(ofGroup: group, prefix: prefix))
        let reader = try runtime.reader()
        let directory = try await EndpointDirectory.open(topic: prefix + "endpoints", reader: reader, logger: runtime.logger)
        // Failure streaks are read at start and refreshed every few seconds: a background
        // fetch wait (the endpoints' follower keeps the stage's: a catch-up may wait on it).
        var background = reader
        background.fetchWaitMax = runtime.settings.backgroundFetchWait
        let streaks = try await FailureStreaks.open(topic: prefix + "endpoint-health", reader: background, logger: runtime.logger)
        // A socket per request under way, parked ones included, and librdkafka's.
        OpenFilesLimit.ensure(
            config.maxInFlight + config.maxParked + stragglerConnections(config) + 256, for: "--max-in-flight and --max-parked", logger: runtime.logger)
        let consumer = try KafkaConsumer(config: consumerConfig(runtime: runtime, config: config), logger: runtime.logger)
        try consumer.subscribe([prefix + "deliveries", prefix + "redeliveries"])
        runtime.logger.info("dispatch started", metadata: ["instance": "\(runtime.settings.instanceID)"])
        return DispatchStage(
            runtime: runtime, config: config, delivery: delivery, box: box, consumer: consumer, producer: try runtime.producer(linger: config.outcomeLinger),
            directory: directory, streaks: streaks)
    }

    /// The consumer of `sluice.deliveries` and `sluice.redeliveries`: the stage's, with
    /// dispatch's smaller prefetch (a raw `librdkafka:` key still wins).
    static func consumerConfig(runtime: StageRuntime, config: Config) -> KafkaConsumerConfig {
        var consumerConfig = runtime.consumerConfig(group: group)
        consumerConfig.prefetchLimitKiB = config.prefetchKiB
        return consumerConfig
    }

    /// Polls and dispatches until a graceful shutdown, then waits (bounded) for what is in
    /// flight, commits, and leaves the group.
    public func run() async throws {
        let committer = Task { try await commitLoop() }
        let follower = Task { await directory.follow(every: config.endpointRefresh) }
        let streakFollower = Task { [streaks] in await streaks.follow(every: .seconds(5)) }
        let pacer = Task { await paceReplays() }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if heldInFlight >= config.maxInFlight {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            let events: [KafkaConsumerEvent]
            do { events = try await consumer.poll(maxRecords: 500, timeout: .milliseconds(100)) } catch {
                runtime.logger.error("poll failed", metadata: ["error": "\(error)"])
                break
            }
            lastPoll.withLock { $0 = (Date(), events.count) }
            for event in events {
                switch event {
                case .record(let record):
                    handle(record)
                case .skipped(let records):
                    for record in records { handle(record) }
                case .revoked(let partitions, let lost):
                    await release(partitions, lost: lost)
                case .assigned(let partitions):
                    holdIfPaced(partitions)
                case .error:
                    break
                }
            }
        }
        stopping.withLock { $0 = true }
        // In a task of its own: a cancelled `run()` still drains (its sleeps would not wait).
        await Task { [self] in await finishInFlight() }.value
        committer.cancel()
        follower.cancel()
        streakFollower.cancel()
        pacer.cancel()
        try await commit()
        try await consumer.close()
        try await producer.close()
        await directory.close()
        await streaks.close()
    }

    /// Starts handling a polled record: at once, or after its replay turn.
    func handle(_ record: KafkaRecord) {
        if let change = tracker.withLock({ $0.started(record.topicPartition, record.offset) }) { apply(change) }
        let turn = paced(record)
        handling.withLock { $0 += 1 }
        guard turn != .zero else { return dispatch(record) }
        // A replay still waiting for its turn at shutdown, or when its partition is
        // revoked, is left unhandled: its offset is not committed, so the next owner
        // reads it again.
        let ticket = turns.withLock { $0.enqueue(record.topicPartition) }
        Task { [self] in
            if await awaitTurn(turn, ticket) { dispatch(record) } else { handling.withLock { $0 -= 1 } }
        }
    }

    /// What dispatch holds for `endpoint` and in total, for a failing test's message.
    func describe(endpoint: String) -> String {
        let assigned = (try? consumer.assignment()) ?? []
        let (inFlight, paused) = tracker.withLock { t in (t.inFlight, assigned.filter { t.isPaused($0) }) }
        let positions = consumer.describePositions(assigned)
        let (at, polled) = lastPoll.withLock { $0 }
        return "endpoint: \(gate.withLock { $0.describe(endpoint) }); deliveries handled \(handling.withLock { $0 }), "
            + "tracked in flight \(inFlight), retries \(retriesInFlight.withLock { $0 }), paused \(paused); "
            + "last poll \(String(format: "%.1f", -at.timeIntervalSinceNow)) s ago (\(polled) events), \(assigned.count) assigned, positions \(positions)"
    }

    /// Applies the tracker's pause or resume of a partition; a redelivery partition held
    /// for the replay lane stays paused.
    ///
    /// The change is computed under the tracker's lock but applied after it, so two
    /// changes of one partition can be applied in the other order (a delivery ending
    /// between the poll loop's `started` and its pause). The consumer is therefore set to
    /// the tracker's state as it is now, under `laneHeld`, which orders the calls: the last
    /// one applied is always the latest state, and a partition is never left paused with
    /// nothing in flight to resume it.
    func apply(_ change: OffsetTracker.PauseChange) {
        let tp = switch change { case .pause(let tp), .resume(let tp): tp }
        laneHeld.withLock { held in
            if tracker.withLock({ $0.isPaused(tp) }) {
                try? consumer.pause([tp])
            } else if !(held && tp.topic == replayTopic) {
                try? consumer.resume([tp])
            }
        }
    }

    func commit() async throws {
        let offsets = tracker.withLock { $0.commits() }
        guard !offsets.isEmpty else { return }
        let committed = try await consumer.commit(offsets)
        tracker.withLock { $0.committed(committed) }
    }

    func commitLoop() async throws {
        var lastWindow = ContinuousClock.now
        var lastTrim = ContinuousClock.now
        while !Task.isCancelled {
            try await Task.sleep(for: config.commitInterval)
            do { try await commit() } catch { runtime.logger.warning("commit failed", metadata: ["error": "\(error)"]) }
            let (inFlight, uncommitted) = tracker.withLock { ($0.inFlight, $0.uncommitted) }
            metrics.inFlight.record(inFlight)
            metrics.uncommitted.record(uncommitted)
            let (open, waiting) = gate.withLock { ($0.openCircuits, $0.waitingCount) }
            metrics.openCircuits.record(open)
            metrics.waitingAtGates.record(waiting)
            metrics.record(http.load)
            if isCongested {
                wake(gate.withLock { $0.wakeSlow(now: Date()) })
            }
            if ContinuousClock.now - lastTrim >= .seconds(5) {
                lastTrim = .now
                _ = await OffPool.run { sluice_malloc_trim() }
            }
            if ContinuousClock.now - lastWindow >= config.latencyWindow {
                lastWindow = .now
                let gate = self.gate
                let slowest = metrics.publishSlowest { id in gate.withLock { $0.currentLimit(id) } }
                if let first = slowest.first {
                    runtime.logger.info("slowest endpoints", metadata: [
                        "window": "\(DurationText.format(config.latencyWindow))",
                        "endpoints": "\(slowest.map { "\($0.endpoint) mean \(String(format: "%.3f", $0.meanSeconds)) s max \(String(format: "%.3f", $0.maxSeconds)) s (\($0.attempts))" })",
                        "slowest_mean_seconds": "\(first.meanSeconds)",
                    ])
                }
            }
        }
    }
}
