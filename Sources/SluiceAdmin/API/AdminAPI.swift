import Foundation
import Logging
import OpenAPIRuntime
import SluiceCore
import SluiceKafka
import SluiceStage

/// The admin API's handlers: the one implementation of the generated `APIProtocol`
/// (from `openapi.yaml`). Each route group is an extension in its own file.
///
/// Invariant: every read goes through the ``QueryStore`` with the request's
/// ``AccessScope``; every write goes to its topic through the same code the CLI uses
/// (``EndpointStore``, ``EndpointChange``, ``EventDecoder``) and answers only after the
/// broker acknowledged it and, for endpoint changes, after the store has applied it (a
/// following read sees it).
///
/// ```swift
/// let api = AdminAPI(dependencies)
/// try api.registerHandlers(on: router)
/// ```
public struct AdminAPI: APIProtocol {
    /// What the handlers work with.
    public struct Dependencies: Sendable {
        public var store: any QueryStore
        public var materialiser: StoreMaterialiser
        public var endpoints: EndpointStore
        public var producer: KafkaProducer
        public var eventsTopic: String
        public var delivery: DeliverySettings
        public var logger: Logger
        /// Reads payloads by their coordinates, and topics to their end (dead-letter replays).
        public var reader: KafkaTopicReader
        public var topicPrefix: String
        /// Dead-letter replays, shared with `sluice dlq replay`.
        public var replays: DeadLetterReplayJob
        public var tasks: TaskBoard
        /// Whether the broker answers (for `/readyz`).
        public var broker: BrokerProbe?
        /// How long `sluice.events` keeps events (the topology's retention; nil: unknown or
        /// forever): history replays refuse a window wholly older and say what a partly older
        /// one cannot cover.
        public var eventsRetention: Duration?
        /// Makes a producer with the given transactional id (history replays); nil: this
        /// server cannot replay history.
        public var makeReplayProducer: (@Sendable (String) throws -> KafkaProducer)?
        /// Makes the pace history replays follow dispatch with (nil: only their rate).
        public var makeReplayPace: (@Sendable () throws -> ReplayPace)?

        public init(
            store: any QueryStore, materialiser: StoreMaterialiser, endpoints: EndpointStore, producer: KafkaProducer,
            eventsTopic: String, delivery: DeliverySettings, logger: Logger, reader: KafkaTopicReader, topicPrefix: String,
            replays: DeadLetterReplayJob, tasks: TaskBoard = TaskBoard(), broker: BrokerProbe? = nil, eventsRetention: Duration? = nil,
            makeReplayProducer: (@Sendable (String) throws -> KafkaProducer)? = nil
        ) {
            self.broker = broker
            self.eventsRetention = eventsRetention
            self.makeReplayProducer = makeReplayProducer
            self.store = store
            self.materialiser = materialiser
            self.endpoints = endpoints
            self.producer = producer
            self.eventsTopic = eventsTopic
            self.delivery = delivery
            self.logger = logger
            self.reader = reader
            self.topicPrefix = topicPrefix
            self.replays = replays
            self.tasks = tasks
        }
    }

    let deps: Dependencies

    public init(_ dependencies: Dependencies) { deps = dependencies }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        if let problem = deps.broker?.problem {
            return .serviceUnavailable(.init(body: .applicationProblemJson(APIProblem.unavailable(
                "\(problem); check that the brokers (--brokers, SLUICE_BROKERS) are up and reachable from here").schema)))
        }
        if let problem = deps.materialiser.problem {
            return .serviceUnavailable(.init(body: .applicationProblemJson(APIProblem.unavailable(
                "the query store cannot follow the topics: \(problem); check the broker (--brokers)").schema)))
        }
        guard deps.materialiser.isCaughtUp else {
            return .serviceUnavailable(.init(body: .applicationProblemJson(APIProblem.unavailable(
                "the query store is still reading the topics; wait until /readyz answers 200").schema)))
        }
        return .ok(.init(body: .json(.init(status: .ready))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(MetricsEndpoint.registry.emitToBuffer()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(OpenAPIDocument.yaml))))
    }
}

extension APIProblem {
    /// The problem as the generated schema.
    var schema: Components.Schemas.Problem {
        .init(_type: "https://sluice.dev/problems/\(code)", title: title, status: status, detail: detail)
    }
}

extension PageRequest {
    /// A page request from the query, `limit` checked against ``PageRequest/limits``.
    init(limit: Int?, iterator: String?) throws(APIProblem) {
        let limit = limit ?? 50
        guard Self.limits.contains(limit) else { throw .badRequest("limit takes 1…250, got \(limit)") }
        self.init(limit: limit, iterator: iterator)
    }
}

/// Runs a store query, turning its refusals into problems.
func storeCall<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as QueryStoreError {
        switch error {
        case .badIterator: throw APIProblem.badRequest(error.description)
        case .scope: throw APIProblem.notFound(error.description)
        }
    }
}
