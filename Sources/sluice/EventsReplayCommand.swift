import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

extension EventsCommand {
    /// `sluice events replay`: a thin front of ``HistoryReplay``.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-deliver an endpoint's tenant's past events from sluice.events to that endpoint alone.",
            discussion: """
                Reads sluice.events from --since (the offsets for that time) to --until (default now), takes the events of \
                the endpoint's tenant that its filter takes (narrowed by --types, if given), and writes one delivery per \
                event for this endpoint only to sluice.deliveries: the original event id, so the webhook-id is the same \
                and receivers that deduplicate on it see a repeat, not a new event; the attempt count starts again.

                --only-missing leaves out the events the endpoint already answered 2xx to (from sluice.attempts): for an \
                endpoint that was disabled or failing for a while. Without it every event of the window goes again: for a \
                receiver that answered 200 but lost what it got (a restored backup, a bug). Use `sluice dlq replay` for \
                deliveries that failed until they reached the dead-letter queue.

                The replay id comes from the flags as written (or --replay-id): running the same replay again, or again \
                after an interruption, sends only what did not go yet (what went is recorded in sluice.replays). To send \
                again what a replay already sent, give a new --replay-id. Replays are low priority: at most --rate \
                deliveries per second (default 500), and dispatch counts them with retries, so they never take the share \
                of its in-flight budget kept for live traffic. sluice.events keeps events for its retention (7 days by \
                default); a window reaching back further says what it can and cannot cover. Prints progress on standard \
                error and one summary line.

                Examples:
                  sluice events replay --endpoint ep_01J… --since 2026-11-24T08:00:00Z --until 2026-11-24T20:00:00Z --only-missing
                  sluice events replay --endpoint ep_01J… --since 1h --dry-run       # a new endpoint: last hour's events
                  sluice events replay --endpoint ep_01J… --since 2d --types 'order.*' --rate 100
                """)
        @OptionGroup var stage: ClientOptions
        @Option(help: "The endpoint to re-deliver to (its tenant's events only).") var endpoint: String
        @Option(help: "Events published at or after: ISO 8601 (2026-11-25T10:00:00Z), a date, unix seconds, or a duration ago (2h).") var since: String
        @Option(help: "Events published before: same forms as --since (default: now).") var until: String?
        @Option(help: "Only these event types, e.g. 'order.*,invoice.paid'; narrows the endpoint's own filter.") var types: String?
        @Flag(help: "Leave out events the endpoint already answered 2xx to (from sluice.attempts).") var onlyMissing = false
        @Flag(help: "Show what would be sent; send nothing.") var dryRun = false
        @Option(help: "Deliveries per second at most, to spare live traffic.") var rate: Double = 500
        @Option(help: "Name the replay instead of deriving its id from the flags.") var replayID: String?

        func validate() throws {
            guard ReplaySender.rates.contains(rate) else { throw ValidationError(HistoryReplayError.badRate(rate).description) }
        }

        func run() async throws {
            let now = Date()
            let request: HistoryReplayRequest
            do {
                request = try HistoryReplayRequest(
                    endpointID: endpoint, since: since, until: until, types: types, onlyMissing: onlyMissing, replayID: replayID, now: now)
            } catch { throw CLIError(error.description) }
            let (settings, delivery) = try await stage.resolveAll()
            let runtime = StageRuntime(name: "sluice-events-replay", settings: settings)
            let retention = (try? runtime.loadTopology())?.topics.first { $0.name == "events" }?.retention
            try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics(
                ["events", "endpoints", "attempts", "redeliveries", "replays"].map(settings.topic))
            let reader = try runtime.reader()
            let target: Endpoint
            do {
                let registry = try await EndpointStore(topic: settings.topic("endpoints"), producer: try runtime.producer(), reader: reader).load()
                target = try HistoryReplay.target(request, endpoints: registry, allowDisabled: dryRun)
            } catch let error as HistoryReplayError { throw CLIError(error.description) }
            var replay = HistoryReplay(request: request, endpoint: target, prefix: settings.topicPrefix, rate: rate)
            replay.decoder = EventDecoder(maxBytes: delivery.maxEventBytes)
            do { try replay.checkRetention(retention, now: now) } catch { throw CLIError(error.description) }
            if !target.enabled { note("endpoint \(target.id) is disabled: a real replay needs it enabled (sluice endpoints enable \(target.id))") }

            // Initialised before the plan: fences and aborts an interrupted run of this
            // replay, whose open transaction would otherwise hold back the reads.
            let producer = dryRun ? nil : try runtime.producer(transactionalID: replay.transactionalID)
            try await producer?.initTransactions()
            let started = ContinuousClock.now
            var scanning = ProgressReport(title: "scanning \(settings.topic("events"))")
            let plan = try await replay.plan(reader: reader) { scanning.update(count: $0, unit: "records read") }
            scanning.finish()
            if let coverage = replay.coverageNote(plan, retention: retention, now: now) { note(coverage) }
            if dryRun {
                for item in plan.toSend.prefix(50) {
                    print("would send \(item.delivery.eventID) → \(target.id) (\(item.delivery.eventType), event \(item.source))")
                }
                if plan.toSend.count > 50 { print("… and \(plan.toSend.count - 50) more") }
                print(replay.summary(plan, sent: nil, seconds: 0))
                return
            }
            var sent = 0
            if let producer, !plan.toSend.isEmpty {
                var report = ProgressReport(title: "replay \(request.replayID)")
                sent = try await ReplayPace.pacing({ try ReplayPace.followingDispatch(runtime: runtime, reader: reader) }) { pace in
                    try await replay.run(plan, producer: producer, pace: pace) { report.update(done: $0.sent, total: $0.total) }
                }
                report.finish()
            }
            try await producer?.close()
            print(replay.summary(plan, sent: sent, seconds: (ContinuousClock.now - started).timeInterval))
        }

        private func note(_ text: String) { FileHandle.standardError.write(Data("note: \(text)\n".utf8)) }
    }
}
