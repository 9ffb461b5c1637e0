import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka

extension DLQCommand {
    public struct Replay: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Send matching dead letters back to dispatch (sluice.redeliveries, read after live traffic), attempt count reset, under one replay id.",
            discussion: """
                Each dead letter keeps its webhook-id and body, so receivers that deduplicate see a retry, not a new \
                event. The replay id comes from the filters as written (or --replay-id): running the same replay again, \
                or again after an interruption, sends only what did not go yet. To send again what a replay already \
                sent, give a new --replay-id. Dead letters of disabled or deleted endpoints are skipped and counted; \
                enable the endpoint first (sluice endpoints enable ID). Fix the endpoint before replaying: what fails \
                again goes through the retry tiers back to the DLQ.

                Without a filter it replays nothing unless --all says to replay every dead letter (a dry run needs \
                no --all).

                Examples:
                  sluice dlq replay --endpoint ep_01J… --dry-run
                  sluice dlq replay --tenant acme --since 2026-11-24 --until 2026-11-25 --rate 50
                  sluice dlq replay --all --rate 100
                """)
        @OptionGroup var stage: ClientOptions
        @OptionGroup var filters: DeadLetterOptions
        @Flag(help: "Show what would be sent; send nothing.") var dryRun = false
        @Option(help: "Deliveries per second at most (default: as fast as the broker takes them).") var rate: Double?
        @Option(help: "Name the replay instead of deriving its id from the filters.") var replayID: String?
        @Flag(help: "Replay every dead letter: needed when no filter is given.") var all = false
        public init() {}

        public func validate() throws {
            if all, !filters.words.isEmpty {
                throw ValidationError("--all replays every dead letter; leave out the filters (\(filters.words.joined(separator: " "))) or drop --all")
            }
            if !all, !dryRun, filters.words.isEmpty {
                throw ValidationError(
                    "no filter: this would replay every dead letter. Narrow it with --endpoint, --tenant, --type, --event, --since or --until, "
                        + "look first with --dry-run, or pass --all to replay them all")
            }
            if let rate, !(DeadLetterReplay.rates.contains(rate)) {
                throw ValidationError("--rate \(rate) is out of range: give deliveries per second between 0.001 and 1000000")
            }
            if let replayID, replayID.isEmpty || replayID.contains(where: { $0.isWhitespace }) {
                throw ValidationError("--replay-id must be a non-empty word")
            }
        }

        public func run() async throws {
            let context = try await Context(stage, name: "sluice-dlq")
            let runtime = context.runtime
            let id = replayID ?? DeadLetterFilter.replayID(for: filters.words)
            let reader = context.archive.reader
            let store = EndpointStore(topic: runtime.settings.topic("endpoints"), producer: try runtime.producer(), reader: reader)
            var job = DeadLetterReplayJob(prefix: runtime.settings.topicPrefix, reader: reader, endpoints: store) {
                try runtime.producer(transactionalID: $0)
            }
            job.makePace = { try ReplayPace.followingDispatch(runtime: runtime, reader: reader) }
            let prepared = try await job.prepare(filter: try filters.filter(now: Date()), replayID: id, rate: rate, dryRun: dryRun)
            context.noteUnreadable(prepared.unreadable)
            let plan = prepared.plan
            for (endpoint, count) in plan.endpointUnavailable.sorted(by: { $0.key < $1.key }) {
                FileHandle.standardError.write(Data("skipping \(count) dead letters of \(endpoint): the endpoint is disabled or deleted (sluice endpoints enable \(endpoint))\n".utf8))
            }
            if dryRun {
                for entry in plan.toSend.prefix(50) {
                    let d = entry.deadLetter.delivery
                    print("would send \(d.eventID) → \(d.endpointID) (\(d.eventType), dead letter \(entry.source), \(entry.deadLetter.reason))")
                }
                if plan.toSend.count > 50 { print("… and \(plan.toSend.count - 50) more") }
                print("dry run of replay \(id): would send \(plan.toSend.count) of \(plan.matched) matching dead letters (\(plan.alreadySent) already sent by this replay, \(plan.endpointUnavailable.values.reduce(0, +)) for unavailable endpoints); nothing sent")
                return
            }
            let started = ContinuousClock.now
            var report = ProgressReport(title: "replay \(id)")
            let sent = try await job.send(prepared) { report.update(done: $0.sent, total: $0.total) }
            if !plan.toSend.isEmpty { report.finish() }
            let seconds = String(format: "%.1f", (ContinuousClock.now - started).timeInterval)
            print("replay \(id): sent \(sent) of \(plan.matched) matching dead letters to \(runtime.settings.topic("redeliveries")) in \(seconds) s (\(plan.alreadySent) already sent by this replay, \(plan.endpointUnavailable.values.reduce(0, +)) for unavailable endpoints)")
        }
    }
}
