import ArgumentParser
import Foundation
import ServiceLifecycle
import SluiceCore
import SluiceKafka

/// `sluice dlq …` and `sluice-dlq …`: watch, list, inspect and replay the dead letters of
/// `sluice.dlq`.
public struct DLQCommand: AsyncParsableCommand {
    public static let subcommands: [any ParsableCommand.Type] = [Watch.self, List.self, Inspect.self, Replay.self]
    public static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Watch, list, inspect and replay dead letters (sluice.dlq).",
        subcommands: subcommands)
    public init() {}
}

/// The filters every listing and replay takes.
public struct DeadLetterOptions: ParsableArguments {
    @Option(help: "Only dead letters of this endpoint id.") var endpoint: String?
    @Option(help: "Only this tenant's dead letters.") var tenant: String?
    @Option(help: "Only this event type, or a pattern like 'order.*'.") var type: String?
    @Option(help: "Only this event id (the webhook-id).") var event: String?
    @Option(help: "Parked at or after: ISO 8601 (2026-11-25T10:00:00Z), a date, unix seconds, or a duration ago (2h).") var since: String?
    @Option(help: "Parked before: same forms as --since.") var until: String?

    public init() {}

    func filter(now: Date) throws -> DeadLetterFilter {
        func time(_ text: String?, _ flag: String) throws -> Date? {
            guard let text else { return nil }
            guard let date = TimeText.parse(text, now: now) else {
                throw ValidationError("--\(flag) '\(text)' is not a time; use \(TimeText.expected)")
            }
            return date
        }
        let filter = DeadLetterFilter(
            endpointID: endpoint, tenant: tenant, eventType: type, eventID: event, since: try time(since, "since"), until: try time(until, "until"))
        if let s = filter.since, let u = filter.until, s >= u {
            throw ValidationError("--since (\(TimeText.format(s))) must be before --until (\(TimeText.format(u)))")
        }
        return filter
    }

    /// The filters as written, for the replay id.
    var words: [String] {
        [("endpoint", endpoint), ("tenant", tenant), ("type", type), ("event", event), ("since", since), ("until", until)]
            .compactMap { name, value in value.map { "\(name)=\($0)" } }
    }
}

extension DLQCommand {
    /// Settings, a reader and the archive: what list, inspect and replay share.
    struct Context {
        let runtime: StageRuntime
        let archive: DeadLetterArchive

        init(_ options: ClientOptions, name: String) async throws {
            let (settings, _) = try await options.resolveAll()
            runtime = StageRuntime(name: name, settings: settings)
            let topic = settings.topic("dlq")
            try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics([topic, settings.topic("redeliveries")])
            archive = DeadLetterArchive(topic: topic, reader: try runtime.reader())
        }

        func scan(_ filter: DeadLetterFilter) async throws -> DeadLetterArchive.Scan {
            let scan = try await archive.scan(filter)
            noteUnreadable(scan.unreadable)
            return scan
        }

        func noteUnreadable(_ count: Int) {
            guard count > 0 else { return }
            FileHandle.standardError.write(Data("note: \(count) records of \(archive.topic) are not dead letters; `sluice-dlq watch` moves them to \(runtime.settings.topic("rejected"))\n".utf8))
        }
    }

    public struct Watch: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Follow sluice.dlq: metrics, one ops event per endpoint and hour, unreadable records to sluice.rejected.",
            discussion: """
                Consumer group sluice-dlq; runs until SIGTERM or SIGINT (exit 0). Prometheus metrics on --metrics-port: \
                sluice_dlq_dead_letters_total{reason}, sluice_dlq_ops_summaries_total, sluice_rejected_total{topic,reason}.

                Example: sluice-dlq watch --brokers kafka:9092 --metrics-port 9467
                """)
        @OptionGroup var stage: StageOptions
        @Option(help: "At most one ops event per endpoint this often (30s, 1h, …).") var summaryInterval = "1h"
        public init() {}

        public func run() async throws {
            guard let interval = DurationText.parse(summaryInterval), interval > .zero else {
                throw ValidationError("--summary-interval '\(summaryInterval)' is not a duration like 30m or 1h")
            }
            let (settings, _) = try await stage.resolveAll()
            let runtime = StageRuntime(name: "sluice-dlq", settings: settings)
            _ = MetricsEndpoint.registry
            let watch = try await DeadLetterWatch.start(runtime: runtime, topology: try runtime.loadTopology(), interval: interval)
            try await ServiceGroup(
                services: [MetricsEndpoint(port: settings.metricsPort, logger: runtime.logger), watch],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: runtime.logger
            ).run()
            ProcessExit.afterGracefulShutdown()
        }
    }
}
