import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Publish CloudEvents to sluice.events; show what happened to one; replay past events to an endpoint.",
        subcommands: [Publish.self, EventsShow.self, Replay.self])

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish events (structured or binary CloudEvents), from flags or a file, once or as a bounded load.",
            discussion: """
                From flags: --tenant and --type, with --data; each event gets a fresh id unless --id is given (with \
                --count > 1, ids get a -N suffix). From --file (or '-' for standard input): one JSON CloudEvent per \
                line; attributes a line lacks (id, source, type, tenant) come from the flags. Every line is checked \
                first, as fanout would check it: if any is not an event, the command names them and publishes nothing. \
                Prints a summary line; with --json, one line per event (id, partition, offset).

                Examples:
                  sluice events publish --tenant acme --type order.created --data '{"order":42}' --count 100 --rate 50
                  sluice events publish --file events.jsonl --tenant acme
                  jq -c '.[]' orders.json | sluice events publish --file - --type order.created --tenant acme
                """)
        @OptionGroup var stage: ClientOptions
        @Option(help: "The tenant (the record key); required unless every line of --file names one.") var tenant: String?
        @Option(help: "The event type, e.g. order.created; required unless every line of --file has one.") var type: String?
        @Option(help: "The event's source URI.") var source = "/sluice/cli"
        @Option(help: "The event id (default: a new one per event).") var id: String?
        @Option(help: "The data, as JSON.") var data = "{}"
        @Option(help: "Read events from this file, one JSON CloudEvent per line ('-': standard input).") var file: String?
        @Option(help: "How many events to publish (from flags).") var count = 1
        @Option(help: "At most this many events per second (0 = as fast as the broker takes them).") var rate: Double = 0
        @Flag(help: "Binary mode: attributes in ce_* headers, the data as the value (from flags only).") var binary = false
        @Flag(help: "Print one JSON line per event.") var json = false

        func validate() throws {
            guard count >= 1, count <= 10_000_000 else { throw ValidationError("--count takes 1…10000000") }
            guard rate == 0 || (0.001...1_000_000).contains(rate) else { throw ValidationError("--rate takes 0 (as fast as possible) or 0.001…1000000 events per second") }
            if file != nil {
                guard count == 1, !binary else { throw ValidationError("--count and --binary apply to events built from flags, not to --file") }
                return
            }
            guard tenant != nil, type != nil else { throw ValidationError("give --tenant and --type (or --file with one event per line)") }
            guard (try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))) != nil else {
                throw ValidationError("--data is not JSON: \(data)")
            }
        }

        func run() async throws {
            let settings = try await stage.resolve()
            let runtime = StageRuntime(name: "sluice-events", settings: settings)
            let topic = settings.topic("events")
            let records = try file.map { try fileRecords($0, topic: topic) } ?? flagRecords(topic: topic)
            try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics([topic])
            let producer = try runtime.producer()
            let started = ContinuousClock.now
            var receipts: [(String, KafkaDeliveryReceipt)] = []
            for (n, (eventID, record)) in records.enumerated() {
                if rate > 0 {
                    let due = started + .wait(seconds: Double(n) / rate)
                    if due > .now { try await Task.sleep(until: due) }
                }
                receipts.append((eventID, try await producer.enqueue(record)))
            }
            for (eventID, receipt) in receipts {
                let at = try await receipt.acknowledgement()
                if json {
                    print(#"{"id":"\#(eventID)","partition":\#(at.partition),"offset":\#(at.offset)}"#)
                } else if receipts.count <= 10 {
                    print("\(eventID)  \(topic)[\(at.partition)]@\(at.offset)")  // ids to follow with `sluice events show`
                }
            }
            try await producer.close()
            let seconds = (ContinuousClock.now - started).timeInterval
            FileHandle.standardError.write(Data("published \(records.count) event\(records.count == 1 ? "" : "s") to \(topic) in \(String(format: "%.2f", seconds)) s\n".utf8))
        }

        /// The events of the flags, `--count` of them.
        func flagRecords(topic: String) -> [(String, KafkaProducerRecord)] {
            let payload = (try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))) ?? .object([:])
            let (tenant, type) = (self.tenant ?? "", self.type ?? "")
            return (0..<count).map { n in
                let eventID = id.map { count > 1 ? "\($0)-\(n)" : $0 } ?? "evt_" + RandomID.make(length: 20)
                let event = Event.structured(id: eventID, source: source, type: type, tenant: tenant, data: payload, time: Date())
                return (eventID, record(event, tenant: tenant, type: type, topic: topic))
            }
        }

        /// The events of `path`, one per line, each checked as fanout checks it; any bad
        /// line fails the whole command before anything is published.
        func fileRecords(_ path: String, topic: String) throws -> [(String, KafkaProducerRecord)] {
            let text: String
            if path == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw CLIError("cannot read \(path): \(error.localizedDescription)")
                }
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().filter { !$0.element.allSatisfy(\.isWhitespace) }
            var records: [(String, KafkaProducerRecord)] = []
            var problems: [String] = []
            for (index, line) in lines {
                switch EventLine.parse(String(line), defaults: .init(tenant: tenant, type: type, source: source)) {
                case .success(let event):
                    records.append((event.id, Self.structured(event, topic: topic)))
                case .failure(let problem):
                    problems.append("  line \(index + 1): \(problem)")
                }
            }
            guard problems.isEmpty else {
                throw CLIError("\(problems.count) of \(lines.count) lines are not events; nothing was published. Fix them and run again:\n" + problems.prefix(20).joined(separator: "\n"))
            }
            guard !records.isEmpty else { throw CLIError("\(path == "-" ? "standard input" : path) has no events; nothing was published") }
            return records
        }

        /// A structured-mode record of `event`, keyed by its tenant.
        static func structured(_ event: Event, topic: String) -> KafkaProducerRecord {
            KafkaProducerRecord(
                topic: topic, key: Array(event.tenant.utf8), value: event.body,
                headers: [KafkaHeader("content-type", "application/cloudevents+json")])
        }

        func record(_ event: Event, tenant: String, type: String, topic: String) -> KafkaProducerRecord {
            guard binary else { return Self.structured(event, topic: topic) }
            var headers = [
                KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", event.id), KafkaHeader("ce_source", source),
                KafkaHeader("ce_type", type), KafkaHeader("content-type", "application/json"),
            ]
            if let time = event.time { headers.append(KafkaHeader("ce_time", time)) }
            return KafkaProducerRecord(topic: topic, key: Array(tenant.utf8), value: Array(data.utf8), headers: headers)
        }
    }
}
