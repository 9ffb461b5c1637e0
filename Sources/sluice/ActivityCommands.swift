import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

/// The filters and time window of `sluice attempts` and `sluice ops`.
struct ActivityOptions: ParsableArguments {
    @Option(help: "Only this endpoint id.") var endpoint: String?
    @Option(help: "Only this event id (the webhook-id).") var event: String?
    @Option(help: "Only this tenant.") var tenant: String?
    @Option(help: "From: ISO 8601 (2026-11-25T10:00:00Z), a date, unix seconds, or a duration ago (default 1h).") var since = "1h"
    @Flag(help: "Only what went wrong: attempts that did not deliver.") var failures = false
    @Flag(help: "Print each record as JSON (one per line).") var json = false

    func filter() -> ActivityFilter {
        ActivityFilter(endpointID: endpoint, eventID: event, tenant: tenant, failuresOnly: failures)
    }

    func sinceDate() throws -> Date {
        guard let date = TimeText.parse(since, now: Date()) else { throw ValidationError("--since \(since) is not a time: use \(TimeText.expected)") }
        return date
    }

    /// Reads `names` (topic names without the prefix) and prints each line.
    func run(_ stage: ClientOptions, topics names: [String], follow: Bool) async throws {
        let since = try sinceDate()
        let (settings, _) = try await stage.resolveAll()
        let runtime = StageRuntime(name: "sluice-activity", settings: settings)
        let topics = names.map(settings.topic)
        try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics(topics)
        let feed = ActivityFeed(reader: try runtime.reader(), topics: topics)
        let counted = Locked(0)
        let json = json
        try await feed.run(since: since, filter: filter(), follow: follow) { line in
            counted.withLock { $0 += 1 }
            print(json ? line.json : line.formatted)
        }
        if !follow { print("\(counted.withLock { $0 }) records since \(TimeText.format(since))") }
    }
}

/// `sluice attempts list|tail`: what `sluice.attempts` holds, without the admin API.
struct AttemptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attempts", abstract: "Read the delivery attempts (sluice.attempts).",
        subcommands: [List.self, Tail.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the attempts since a time, oldest first, and a count.",
            discussion: "Example: sluice attempts list --endpoint ep_… --failures --since 2h")
        @OptionGroup var stage: ClientOptions
        @OptionGroup var options: ActivityOptions
        func run() async throws { try await options.run(stage, topics: ["attempts"], follow: false) }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the attempts since a time (default 1h), then each new one until Ctrl-C.",
            discussion: "Example: sluice attempts tail --failures --since 10m")
        @OptionGroup var stage: ClientOptions
        @OptionGroup var options: ActivityOptions
        func run() async throws { try await options.run(stage, topics: ["attempts"], follow: true) }
    }
}

/// `sluice ops list|tail`: circuits opened and closed, endpoints disabled, dead letters
/// summarised, unreadable secrets (`sluice.ops`).
struct OpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Read the operational events (sluice.ops): circuits, disables, dead-letter summaries.",
        subcommands: [List.self, Tail.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the ops events since a time, oldest first.")
        @OptionGroup var stage: ClientOptions
        @OptionGroup var options: ActivityOptions
        func run() async throws { try await options.run(stage, topics: ["ops"], follow: false) }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the ops events since a time (default 1h), then each new one until Ctrl-C.")
        @OptionGroup var stage: ClientOptions
        @OptionGroup var options: ActivityOptions
        func run() async throws { try await options.run(stage, topics: ["ops"], follow: true) }
    }
}

/// `sluice events show ID`: every attempt and dead letter of one event, per endpoint.
struct EventsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show what happened to one event: its attempts and dead letters, per endpoint.",
        discussion: "Example: sluice events show evt_123 --since 1d")
    @OptionGroup var stage: ClientOptions
    @Argument(help: "The event id (the webhook-id).") var id: String
    @Option(help: "Look this far back (default 24h): a duration ago, a date, ISO 8601 or unix seconds.") var since = "24h"

    func run() async throws {
        guard let since = TimeText.parse(since, now: Date()) else { throw ValidationError("--since \(self.since) is not a time: use \(TimeText.expected)") }
        let (settings, _) = try await stage.resolveAll()
        let runtime = StageRuntime(name: "sluice-events", settings: settings)
        let topics = ["attempts", "dlq"].map(settings.topic)
        try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics(topics)
        let lines = Locked<[ActivityLine]>([])
        try await ActivityFeed(reader: try runtime.reader(), topics: topics).run(since: since, filter: ActivityFilter(eventID: id), follow: false) { line in
            lines.withLock { $0.append(line) }
        }
        let all = lines.withLock { $0 }
        guard !all.isEmpty else {
            throw CLIError("no attempt of event \(id) since \(TimeText.format(since)); try a longer --since, or check the id (`sluice attempts list`)")
        }
        for (endpoint, its) in Dictionary(grouping: all, by: \.endpointID).sorted(by: { $0.key < $1.key }) {
            let last = its.max { $0.at < $1.at }
            let state: String
            if its.contains(where: { $0.kind == .deadLetter }) {
                state = "dead-lettered"
            } else if its.contains(where: { $0.kind == .attempt && !$0.isFailure }) {
                state = "delivered"
            } else {
                state = "retrying (or waiting in a tier)"
            }
            print("\(endpoint): \(state), last \(last.map { TimeText.format($0.at) } ?? "")")
            for line in its { print("  " + line.formatted) }
        }
    }
}
