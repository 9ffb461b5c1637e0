import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import ServiceLifecycle
import SluiceCore
import SluiceKafka
import SluiceStage

/// `sluice-admin`: opens the query store and the topics, then serves the admin API until
/// SIGTERM or SIGINT.
///
/// Invariant: the server answers `/readyz` 200 only once the store has caught up with the
/// topics; it serves nothing before its producer can publish; every `/v1` route but the
/// OpenAPI document needs a key.
///
/// ```swift
/// try await AdminServer.run(runtime: runtime, delivery: delivery, options: options)
/// ```
public enum AdminServer {
    /// Serves the API and each of `extensions` (e.g. the dashboard under `/ui`).
    public static func run(runtime: StageRuntime, delivery: DeliverySettings, options: AdminOptions, extensions: [any AdminExtension] = []) async throws {
        let logger = runtime.logger
        let settings = runtime.settings
        _ = MetricsEndpoint.registry  // swift-metrics bootstrapped before the first metric
        let topology = try runtime.loadTopology()
        let (endpointsTopic, keysTopic, eventsTopic) = (settings.topic("endpoints"), settings.topic("api-keys"), settings.topic("events"))
        let needed = Set(try topology.topics(ofGroup: "sluice-admin", prefix: settings.topicPrefix))
        try await KafkaAdmin(config: runtime.kafka, logger: logger).requireTopics(Array(needed.union([eventsTopic])).sorted())

        let store = try SQLiteQueryStore(path: options.storePath)
        // The admin's followers read for people, not for a pipeline: the background fetch
        // wait (why and what it saves: ``StageSettings/backgroundFetchWait``).
        var reader = try runtime.reader()
        reader.fetchWaitMax = settings.backgroundFetchWait
        // Ingest's producer gets its producer id while the store opens, before anyone is
        // served (``KafkaProducer/warmUp(topic:)``: otherwise the first requests after
        // a start wait up to a second for it).
        let producer = try runtime.producer()
        async let warm = producer.warmUp(topic: eventsTopic)
        let materialiser = try await StoreMaterialiser.open(
            store: store, reader: reader, topics: .init(prefix: settings.topicPrefix), eventDecoder: EventDecoder(maxBytes: delivery.maxEventBytes),
            retention: options.retention, logger: logger)
        let keys = try await APIKeyDirectory.open(topic: keysTopic, reader: reader, logger: logger)
        _ = try await warm
        let probe = BrokerProbe(admin: reader.admin, logger: logger)
        let endpoints = EndpointStore(topic: endpointsTopic, producer: producer, reader: reader)
        var replays = DeadLetterReplayJob(prefix: settings.topicPrefix, reader: reader, endpoints: endpoints) { try runtime.producer(transactionalID: $0) }
        let makePace: @Sendable () throws -> ReplayPace = { [reader] in try ReplayPace.followingDispatch(runtime: runtime, reader: reader) }
        replays.makePace = makePace
        var deps = AdminAPI.Dependencies(
            store: store, materialiser: materialiser, endpoints: endpoints, producer: producer, eventsTopic: eventsTopic, delivery: delivery,
            logger: logger, reader: reader, topicPrefix: settings.topicPrefix, replays: replays, broker: probe,
            eventsRetention: topology.topics.first { $0.name == "events" }?.retention,
            makeReplayProducer: { try runtime.producer(transactionalID: $0) })
        deps.makeReplayPace = makePace
        let api = AdminAPI(deps)

        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: ProblemMiddleware(logger: logger))
        router.add(middleware: AuthMiddleware(keys: keys))
        router.add(middleware: EmptyBodyMiddleware())
        try api.registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder()))
        let surface = AdminExtensionContext(store: store, actions: AdminActions(api: api), keys: keys, delivery: delivery, logger: logger)
        for extension_ in extensions { try extension_.register(on: router, with: surface) }
        let app = Application(
            router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "sluice-admin"),
            onServerRunning: { channel in
                logger.notice("sluice-admin listening", metadata: ["url": "http://\(options.host):\(channel.localAddress?.port ?? options.port)"])
            },
            logger: logger)
        let follow = BackgroundService { await keys.follow(every: .seconds(1)) }
        let metrics = MetricsEndpoint(port: settings.metricsPort, logger: logger)
        let retention = StoreRetention(store: store, retention: options.retention, logger: logger)
        try await ServiceGroup(
            services: [materialiser, probe, retention, follow, metrics, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ).run()
        try? await producer.close()
        await keys.close()
    }
}

/// A loop run as a service until graceful shutdown.
struct BackgroundService: Service {
    let body: @Sendable () async -> Void
    func run() async throws { await cancelWhenGracefulShutdown { await body() } }
}
