import ArgumentParser
import Foundation
import SluiceCore

extension DLQCommand {
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "List dead letters, oldest first: a table, or JSON with --json.",
            discussion: """
                Filters combine (all must match). Time filters use the record's timestamp (when it was parked); \
                --since finds its start with offsets-for-times, checked, or by scanning where the broker answers wrongly.

                Example: sluice dlq list --endpoint ep_01J… --since 2h
                """)
        @OptionGroup var stage: ClientOptions
        @OptionGroup var filters: DeadLetterOptions
        @Flag(help: "Print a JSON array instead of a table.") var json = false
        @Option(help: "Show at most this many (the oldest); 0 = all.") var limit = 0
        public init() {}

        public func run() async throws {
            let context = try await Context(stage, name: "sluice-dlq")
            let scan = try await context.scan(try filters.filter(now: Date()))
            let shown = limit > 0 ? Array(scan.entries.prefix(limit)) : scan.entries
            if json {
                print(try DeadLetterJSON.array(shown))
                return
            }
            let rows = shown.map { e -> [String] in
                let d = e.deadLetter
                return [
                    TimeText.format(e.parkedAt ?? d.deadAt), d.delivery.endpointID, d.delivery.tenant, d.delivery.eventType, d.delivery.eventID,
                    String(d.delivery.attempt), d.reason, String(d.finalError.prefix(60)), e.source,
                ]
            }
            print(Table.render(header: ["PARKED", "ENDPOINT", "TENANT", "TYPE", "EVENT", "ATTEMPTS", "REASON", "FINAL ERROR", "AT"], rows: rows))
            print("\(shown.count) of \(scan.entries.count) matching dead letters (\(scan.read) records read)")
        }
    }

    public struct Inspect: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show matching dead letters in full: the delivery, every attempt, the final error.",
            discussion: "Example: sluice dlq inspect --event evt_123 --json")
        @OptionGroup var stage: ClientOptions
        @OptionGroup var filters: DeadLetterOptions
        @Flag(help: "Print a JSON array.") var json = false
        public init() {}

        public func run() async throws {
            let context = try await Context(stage, name: "sluice-dlq")
            let scan = try await context.scan(try filters.filter(now: Date()))
            if json {
                print(try DeadLetterJSON.array(scan.entries))
                return
            }
            for e in scan.entries {
                let d = e.deadLetter
                print("""
                    dead letter \(e.source) parked \(TimeText.format(e.parkedAt ?? d.deadAt))
                      event      \(d.delivery.eventID) (\(d.delivery.eventType)) tenant \(d.delivery.tenant)
                      endpoint   \(d.delivery.endpointID)
                      reason     \(d.reason): \(d.finalError)
                      replay     \(d.delivery.replayID ?? "-")
                      body       \(String(decoding: d.delivery.body.prefix(200), as: UTF8.self))
                    """)
                print(Table.render(
                    header: ["  ATTEMPT", "AT", "STATUS", "ERROR CLASS"],
                    rows: d.attempts.map { ["  \($0.attempt)", TimeText.format($0.at), $0.status.map(String.init) ?? "-", $0.errorClass.rawValue] }))
            }
            print("\(scan.entries.count) matching dead letters")
        }
    }
}

/// Dead letters as JSON for `--json`: each wire object, times in ISO 8601, plus where it sits.
enum DeadLetterJSON {
    static func array(_ entries: [DeadLetterArchive.Entry]) throws -> String {
        let objects = try entries.map { e -> JSONValue in
            var object = try e.deadLetter.readableJSON()
            object["source"] = .string(e.source)
            if let at = e.parkedAt { object["parked_at"] = .string(TimeText.format(at)) }
            return .object(object)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(JSONValue.array(objects)), as: UTF8.self)
    }
}
