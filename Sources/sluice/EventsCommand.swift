import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Publish CloudEvents to sluice.events.", subcommands: [Publish.self])

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish events (structured or binary CloudEvents), once or as a bounded load.",
            discussion: """
                Each event gets a fresh id unless --id is given (with --count > 1, ids get a -N suffix). \
                Prints a summary line; with --json, one line per event (id, partition, offset).

                Example: sluice events publish --tenant acme --type order.created --data '{"order":42}' --count 100 --rate 50
                """)
        @OptionGroup var stage: StageOptions
        @Option(help: "The tenant (the record key).") var tenant: String
        @Option(help: "The event type, e.g. order.created.") var type: String
        @Option(help: "The event's source URI.") var source = "/sluice/cli"
        @Option(help: "The event id (default: a new one per event).") var id: String?
        @Option(help: "The data, as JSON.") var data = "{}"
        @Option(help: "How many events to publish.") var count = 1
        @Option(help: "At most this many events per second (0 = as fast as the broker takes them).") var rate: Double = 0
        @Flag(help: "Binary mode: attributes in ce_* headers, the data as the value.") var binary = false
        @Flag(help: "Print one JSON line per event.") var json = false

        func validate() throws {
            guard count >= 1, count <= 10_000_000 else { throw ValidationError("--count takes 1…10000000") }
            guard rate >= 0 else { throw ValidationError("--rate takes a number ≥ 0") }
            guard (try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))) != nil else {
                throw ValidationError("--data is not JSON: \(data)")
            }
        }

        func run() async throws {
            let settings = try await stage.resolve()
            let runtime = StageRuntime(name: "sluice-events", settings: settings)
            let topic = settings.topic("events")
            try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics([topic])
            let producer = try runtime.producer()
            let payload = try JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))
            let started = ContinuousClock.now
            var receipts: [(String, KafkaDeliveryReceipt)] = []
            for n in 0..<count {
                if rate > 0 {
                    let due = started + .milliseconds(Int64(Double(n) / rate * 1000))
                    if due > .now { try await Task.sleep(until: due) }
                }
                let eventID = id.map { count > 1 ? "\($0)-\(n)" : $0 } ?? "evt_" + RandomID.make(length: 20)
                let event = Event.structured(id: eventID, source: source, type: type, tenant: tenant, data: payload, time: Date())
                receipts.append((eventID, try await producer.enqueue(record(event, payload: payload, topic: topic))))
            }
            for (eventID, receipt) in receipts {
                let at = try await receipt.acknowledgement()
                if json { print(#"{"id":"\#(eventID)","partition":\#(at.partition),"offset":\#(at.offset)}"#) }
            }
            try await producer.close()
            let seconds = (ContinuousClock.now - started).timeInterval
            FileHandle.standardError.write(Data("published \(count) event\(count == 1 ? "" : "s") to \(topic) in \(String(format: "%.2f", seconds)) s\n".utf8))
        }

        func record(_ event: Event, payload: JSONValue, topic: String) -> KafkaProducerRecord {
            guard binary else {
                return KafkaProducerRecord(
                    topic: topic, key: Array(tenant.utf8), value: event.body,
                    headers: [KafkaHeader("content-type", "application/cloudevents+json")])
            }
            var headers = [
                KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", event.id), KafkaHeader("ce_source", source),
                KafkaHeader("ce_type", type), KafkaHeader("content-type", "application/json"),
            ]
            if let time = event.time { headers.append(KafkaHeader("ce_time", time)) }
            return KafkaProducerRecord(topic: topic, key: Array(tenant.utf8), value: Array(data.utf8), headers: headers)
        }
    }
}
