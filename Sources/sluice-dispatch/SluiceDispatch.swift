import ArgumentParser
import ServiceLifecycle
import SluiceCore
import SluiceHTTP
import SluiceStage

/// `sluice-dispatch`: signs and POSTs deliveries, records attempts, routes outcomes.
@main
struct SluiceDispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-dispatch",
        abstract: "Sign and POST each delivery of sluice.deliveries (and of sluice.redeliveries, replays, at a pace live traffic allows); record attempts; route retries and dead letters.",
        discussion: """
            Consumer group sluice-dispatch: start more copies to scale (up to the 32 partitions of sluice.deliveries). \
            Needs SLUICE_MASTER_KEY to open endpoint secrets. Destinations on loopback or private networks are refused \
            unless SLUICE_ALLOW_PRIVATE=1 (dev) or SLUICE_DESTINATIONS_ALLOW lists them; http:// unless \
            SLUICE_ALLOW_HTTP=1. HTTPS certificates are verified against the system's CAs, or against SLUICE_HTTP_CA_FILE (a PEM bundle) for endpoints behind a private CA. Stops on SIGTERM or SIGINT after the deliveries in flight (at most 15 s, then the requests already sent), exit 0; deliveries still waiting for a slow endpoint are left uncommitted to the next copy.

            Example: SLUICE_MASTER_KEY=… sluice-dispatch --brokers kafka:9092 --metrics-port 9464
            """)

    @OptionGroup var stage: StageOptions
    @Option(help: "Deliveries in flight at most, over all partitions (requests to slow endpoints and deliveries waiting for a slot count past --max-parked and --max-waiting).")
    var maxInFlight = DispatchStage.Config().maxInFlight
    @Option(help: ArgumentHelp(
        "Requests to slow endpoints (unanswered after 100 ms) that no longer count against --max-in-flight, at most.",
        discussion: "Such a request costs a socket while it waits, no CPU. Dispatch opens up to --max-in-flight plus this many connections: raise the open-files limit (ulimit -n) to match."))
    var maxParked = DispatchStage.Config().maxParked
    @Option(help: ArgumentHelp(
        "Deliveries waiting for a free slot at their endpoint that no longer count against --max-in-flight, at most.",
        discussion: "Each holds its record in memory. Past this, waiting deliveries count again, and once --max-in-flight is three quarters full, slow endpoints' deliveries are deferred to a retry tier. sluice_dispatch_gate_waiting shows how many wait."))
    var maxWaiting = DispatchStage.Config().maxWaiting
    @Option(help: ArgumentHelp(
        "Idle connections kept open for reuse at most, beyond those in use (default: --max-in-flight; the straggler pool keeps at most 128).",
        discussion: "A request that finds no idle connection to its host opens a new one (over HTTPS, a TLS handshake). Each kept connection holds about 19 KiB of memory over HTTP and 65 KiB over HTTPS: lower this to bound dispatch's memory when most endpoints are HTTPS."))
    var maxIdleConnections: Int?
    @Option(help: ArgumentHelp(
        "Requests curl drives at once while they are young: auto, a number, or MIN-MAX (within --max-in-flight).",
        discussion: "auto starts at 256 and adapts between 64 and --max-in-flight: it shrinks while the HTTP loop is saturated and its turns take over 5 ms (more requests would only queue inside it, costing CPU and latency), and grows while requests wait otherwise. A request unanswered after 100 ms no longer counts (a slow endpoint holds its place in --max-in-flight, not in the window). sluice_dispatch_http_window_limit shows where it stands."))
    var httpWindow = "auto"
    @Option(help: ArgumentHelp(
        "Connection caches the endpoints are spread over (1 to 64).",
        discussion: "A host's endpoints share one cache, chosen by the host, and its connections, until the host has 64 requests under way at once; from then on each of its endpoints takes a cache chosen by its URL (its own connections, reused). libcurl walks every open connection of a cache to start a request and again when it ends, so with many connections open (slow endpoints, many endpoints on one host) more caches cost the HTTP thread less. Measured on 2 cores beside a fifth of slow and failing endpoints on one host: with 8 caches the healthy endpoints got 0.96 of their all-healthy rate, with 1 cache 0.62."))
    var httpShards = DispatchStage.Config().httpShards
    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Send requests to slow and failing endpoints through a connection pool of their own.",
        discussion: "An endpoint answering slower than 100 ms of late, failing, or with its circuit not closed gets its requests in a second connection pool on the same HTTP thread (at most --max-parked + 512 more connections), so its parked requests cost the healthy endpoints' requests nothing in curl. Measured on 2 cores beside a fifth of bad endpoints: healthy endpoints got about a fifth more deliveries/s at a lower p99 and less CPU, and dispatch 9-14 MiB more memory at its peak."))
    var stragglerLoop = DispatchStage.Config().stragglerLoop
    @Option(help: "Requests in flight per endpoint, unless the endpoint sets its own.")
    var endpointConcurrency = DispatchStage.Config().endpointConcurrency
    @Option(help: ArgumentHelp(
        "How long outcomes wait to fill a batch to the broker (25ms, 0ms).",
        discussion: "linger.ms of the producer of attempt records, retries and dead letters (kafka.linger sets the other producers). No request waits for it, only the outcome's acknowledgement and so the offsets' commit; longer batches wake librdkafka's threads less often."))
    var outcomeLinger = DurationText.format(DispatchStage.Config().outcomeLinger)
    @Option(help: ArgumentHelp(
        "The pickup lag of live deliveries that replays must not push past (250ms, 1s).",
        discussion: "Replays (sluice.redeliveries) are read at a rate that halves whenever more than a tenth of live deliveries are read later than this after they were written, and grows while they are on time."))
    var replayLagTarget = DurationText.format(DispatchStage.Config().replay.lagTarget)
    @Option(help: "Replayed deliveries per second at most, per dispatcher, however idle live traffic is.")
    var replayMaxRate = DispatchStage.Config().replay.maximumRate

    func validate() throws {
        guard maxInFlight >= 1 else { throw ValidationError("--max-in-flight takes a number ≥ 1") }
        guard maxParked >= 0 else { throw ValidationError("--max-parked takes a number ≥ 0 (0: every request counts against --max-in-flight)") }
        guard maxWaiting >= 0 else { throw ValidationError("--max-waiting takes a number ≥ 0 (0: every waiting delivery counts against --max-in-flight)") }
        if let maxIdleConnections, maxIdleConnections < 0 {
            throw ValidationError("--max-idle-connections takes a number ≥ 0 (0: none kept beyond those in use)")
        }
        guard TransferWindow.Config(parsing: httpWindow, ceiling: maxInFlight) != nil else {
            throw ValidationError("--http-window takes auto, a number or MIN-MAX, each from 1 to --max-in-flight (\(maxInFlight)), not '\(httpWindow)'")
        }
        guard (1...64).contains(httpShards) else { throw ValidationError("--http-shards takes a number from 1 to 64, not \(httpShards)") }
        guard endpointConcurrency >= 1 else { throw ValidationError("--endpoint-concurrency takes a number ≥ 1") }
        guard replayMaxRate.isFinite, replayMaxRate >= 0.001 else { throw ValidationError("--replay-max-rate takes a number of deliveries per second ≥ 0.001") }
        guard let linger = DurationText.parse(outcomeLinger), linger >= .zero, linger <= .seconds(5) else {
            throw ValidationError("--outcome-linger takes a duration from 0ms to 5s such as 25ms, not '\(outcomeLinger)'")
        }
        guard let lag = DurationText.parse(replayLagTarget), lag > .zero else {
            throw ValidationError("--replay-lag-target takes a duration such as 250ms or 1s, not '\(replayLagTarget)'")
        }
    }

    func run() async throws {
        let (settings, delivery) = try await stage.resolveAll()
        let runtime = StageRuntime(name: "sluice-dispatch", settings: settings)
        _ = MetricsEndpoint.registry
        var config = DispatchStage.Config()
        config.maxInFlight = maxInFlight
        config.maxParked = maxParked
        config.maxWaiting = maxWaiting
        config.maxIdleConnections = maxIdleConnections
        config.endpointConcurrency = endpointConcurrency
        config.httpWindow = TransferWindow.Config(parsing: httpWindow, ceiling: maxInFlight) ?? config.httpWindow
        config.stragglerLoop = stragglerLoop
        config.httpShards = httpShards
        config.replay.lagTarget = DurationText.parse(replayLagTarget) ?? config.replay.lagTarget
        config.replay.maximumRate = replayMaxRate
        config.outcomeLinger = DurationText.parse(outcomeLinger) ?? config.outcomeLinger
        let dispatch = try await DispatchStage.start(runtime: runtime, topology: try runtime.loadTopology(), delivery: delivery, config: config)
        let metrics = MetricsEndpoint(port: settings.metricsPort, logger: runtime.logger)
        try await ServiceGroup(services: [metrics, dispatch], gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger).run()
        ProcessExit.afterGracefulShutdown()
    }
}
