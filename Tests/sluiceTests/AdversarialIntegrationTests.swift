import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hostile records on every topic a stage reads, while every stage runs as its real
/// executable, interleaved with a healthy tenant's traffic.
@Suite("hostile records on every topic, end to end (integration)")
struct AdversarialIntegrationTests {
    /// Values every decoder must survive: random bytes, empty, invalid UTF-8, deep
    /// nesting, wrong shapes, 1 MiB strings.
    static func junk(_ n: Int) -> [UInt8]? {
        var generator = SystemRandomNumberGenerator()
        switch n % 9 {
        case 0: return (0..<(1 + n % 200)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 1: return []
        case 2: return [0xFF, 0xFE, 0x22, 0x80]
        case 3: return Array((String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)).utf8)
        case 4: return Array(#"["an","array"]"#.utf8)
        case 5: return Array(#""a string""#.utf8)
        case 6: return Array("{\"event_id\":\"\(String(repeating: "x", count: 1 << 20))\"}".utf8)
        case 7: return Array("12345e99999".utf8)
        default: return nil
        }
    }

    /// A valid delivery's JSON with one field replaced by a hostile value.
    static func badDelivery(_ n: Int, endpointID: String) throws -> [UInt8] {
        let event = Event.structured(id: "bad-\(n)", source: "/s", type: "order.created", tenant: "good", data: .object([:]))
        let bytes = try Delivery(event: event, endpointID: endpointID, now: Date()).wireBytes()
        var object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        let fields: [(String, String)] = [
            ("not_before", "1e300"), ("not_before", "-1e300"), ("created_at", "1e20"), ("attempt", "4611686018427387904"),
            ("attempt", "-1"), ("attempt", "2.5"), ("passes", "1e30"), ("first_attempt_at", "-0.5"), ("event_id", "\"\""),
            ("endpoint_id", "null"), ("history", "[{\"attempt\":1e300}]"), ("created_at", "4102444800000000"),
        ]
        let (field, raw) = fields[n % fields.count]
        object[field] = nil
        var text = String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
        text.removeLast()
        return Array((text + ",\"\(field)\":\(raw)}").utf8)
    }

    @Test("a few hundred hostile records on events, deliveries, every tier, the DLQ and endpoints: no stage exits, every valid delivery arrives signed, every bad record is accounted for")
    func hostile() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let receiver = try await TestReceiver.shared()
            let root = "/\(fixture.prefix)hostile"
            let good = [
                try await fixture.createEndpoint(tenant: "good", filter: "order.*", url: receiver.url("\(root)/a/ok")),
                try await fixture.createEndpoint(tenant: "good", filter: "*", url: receiver.url("\(root)/b/ok")),
            ]
            var env = fixture.environment(instance: "hostile")
            env["SLUICE_ALLOW_PRIVATE"] = "1"
            env["SLUICE_ALLOW_HTTP"] = "1"
            env["SLUICE_RETRY_SCHEDULE"] = "0s,1s,1s"
            env["SLUICE_RETRY_TIERS"] = "1m=1s,10m=3s,1h=6s"
            let metricsPort = try freePort()
            let logs = NSTemporaryDirectory() + "sluice-hostile-\(fixture.prefix)"
            let stages: [(String, [String])] = [
                ("sluice-dispatch", ["--metrics-port", String(metricsPort)]), ("sluice-retry", ["--tier", "1m"]),
                ("sluice-retry", ["--tier", "10m"]), ("sluice-retry", ["--tier", "1h"]), ("sluice-dlq", ["watch"]), ("sluice-fanout", []),
            ]
            var pids: [pid_t] = []
            defer { for pid in pids { kill(pid, SIGKILL) } }
            for (n, (executable, arguments)) in stages.enumerated() {
                pids.append(try fixture.spawn(executable, arguments, environment: env, log: logs + "\(n).\(executable).log"))
            }

            // A producer that may write what librdkafka's default 1 MB limit refuses.
            var config = KafkaProducerConfig(client: kafka.client, linger: .milliseconds(1))
            config.messageMaxBytes = 4 << 20
            let hostile = try KafkaProducer(config: config, logger: kafka.logger)
            let huge = [UInt8](repeating: 0x7B, count: 1_100_000)

            var bad: [KafkaProducerRecord] = []
            func add(_ topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = []) {
                bad.append(KafkaProducerRecord(topic: fixture.topic(topic), key: key, value: value, headers: headers))
            }
            for n in 0..<60 {
                // Events: junk, an attribute too long, and one over the broker's usual limit.
                add("events", key: n % 4 == 0 ? nil : Array("evil".utf8), value: Self.junk(n) ?? Array("{}".utf8))
                add("events", key: Array("evil".utf8), value: Array(#"{"specversion":"1.0","id":"\#(String(repeating: "i", count: 300))","source":"/s","type":"t"}"#.utf8))
                // Deliveries, redeliveries and each tier: junk and valid-looking records with a field out of range.
                for topic in ["deliveries", "redeliveries", "retry.1m", "retry.10m", "retry.1h"] {
                    add(topic, key: Array(good[0].id.utf8), value: try Self.badDelivery(n, endpointID: good[0].id))
                    if n % 3 == 0 { add(topic, key: nil, value: Self.junk(n) ?? []) }
                }
                // The DLQ: junk, and junk claiming to be a replay marker.
                add("dlq", key: Array("x".utf8), value: Self.junk(n) ?? Array("[]".utf8),
                    headers: n % 2 == 0 ? [KafkaHeader("sluice-format", "dlq-replay/1")] : [])
            }
            for topic in ["events", "deliveries", "retry.1m", "dlq"] { add(topic, key: Array("big".utf8), value: huge) }
            // Endpoints: junk under a key, no key, a key that differs from the id, bounds.
            var badEndpoints = 0
            for n in 0..<40 {
                var endpoint = Endpoint(id: "ep_bad\(n)", tenant: "good", url: "http://127.0.0.1:9/x", filter: .all, sealedSecret: "s")
                endpoint.headers = ["x-a": "1\r\nx-b: 2"]
                let values: [([UInt8]?, [UInt8]?)] = [
                    (Array("ep_bad\(n)".utf8), Self.junk(n) ?? Array("{}".utf8)), (nil, Array("{}".utf8)),
                    (Array("ep_other".utf8), try? Endpoint(id: "ep_bad\(n)", tenant: "good", url: "http://x", filter: .all, sealedSecret: "s").wireBytes()),
                    (Array("ep_bad\(n)".utf8), Array(#"{"id":"ep_bad","revision":9223372036854775807}"#.utf8)),
                ]
                let (key, value) = values[n % values.count]
                add("endpoints", key: key, value: value)
                badEndpoints += 1
            }

            // Valid traffic before, between and after, and records whose reserved headers are forged.
            var sent = try await fixture.producer.send(fixture.events(tenant: "good", type: "order.created", ids: 0..<50, idPrefix: "before"))
            var metadata = try await hostile.send(bad)
            sent += try await fixture.producer.send(fixture.events(tenant: "good", type: "order.created", ids: 0..<50, idPrefix: "after"))
            let forged = Event.structured(id: "forged-marker", source: "/s", type: "order.created", tenant: "good", data: .object([:]))
            try await fixture.producer.send(KafkaProducerRecord(
                topic: fixture.topic("events"), key: Array("good".utf8), value: forged.body, headers: [KafkaHeader("sluice-end-marker", "1")]))
            var revisit = Delivery(event: Event.structured(id: "forged-revisit", source: "/s", type: "order.created", tenant: "good", data: .object([:])), endpointID: good[1].id, now: Date())
            revisit.notBefore = Date().addingTimeInterval(2)
            try await fixture.producer.send(KafkaProducerRecord(
                topic: fixture.topic("retry.1h"), key: Array(good[1].id.utf8), value: try revisit.wireBytes(),
                headers: [KafkaHeader("sluice-revisit-at", String(Int64(Date().addingTimeInterval(86_400 * 300).timeIntervalSince1970 * 1000)))]))
            _ = sent

            // Every valid pair arrives with a valid signature.
            let ids = (0..<50).flatMap { ["before-\($0)", "after-\($0)"] } + ["forged-marker"]
            let expected = Set(ids.flatMap { id in good.map { "\(id)→\($0.id)" } } + ["forged-revisit→\(good[1].id)"])
            let box = try SecretBox(masterKeyBase64: fixture.masterKey)
            let deadline = ContinuousClock.now + .seconds(180)
            var got = Set<String>()
            var invalid = 0
            while ContinuousClock.now < deadline, !expected.isSubset(of: got) {
                got = []
                invalid = 0
                for request in try receiver.received(prefix: root) {
                    guard let endpoint = request.path.hasSuffix("/a/ok") ? good[0] : request.path.hasSuffix("/b/ok") ? good[1] : nil else { continue }
                    let id = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(request.body)))?["id"]
                    if case .string(let eventID) = id { got.insert("\(eventID)→\(endpoint.id)") }
                    do {
                        try WebhookVerifier(secrets: try endpoint.signingSecrets(box: box, now: Date())).verify(
                            id: request.headers["webhook-id"] ?? "", timestamp: request.headers["webhook-timestamp"] ?? "",
                            signatureHeader: request.headers["webhook-signature"] ?? "", body: request.body, now: Date())
                    } catch { invalid += 1 }
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(expected.subtracting(got).isEmpty, "not delivered: \(expected.subtracting(got).sorted().prefix(5)); logs \(logs)*")
            #expect(invalid == 0)

            // Every bad record of a stage's input topics is in sluice.rejected, named by its source.
            metadata.removeAll { $0.topic == fixture.topic("endpoints") }
            let sources = Set(metadata.map { "\($0.topic)/\($0.partition)/\($0.offset)" })
            // Read as the stages read on Tansu (`kafka.profile: tansu`): read_uncommitted, since
            // under load Tansu sometimes hides a partition from read_committed behind a
            // transaction every producer committed or aborted (README, Kafka layer notes; seen
            // here once: 308 of 584 rejections visible to read_uncommitted only, with no stage
            // logging a failed commit). A stage that cannot close a transaction stops, which
            // the check below that no stage exited catches. A plain consumer can miss a batch
            // on Tansu (seen: 153 rejections a second reader found at once), so this one reads
            // its own jumps again.
            var rejected = Set<String>()
            let rejectDeadline = ContinuousClock.now + .seconds(120)
            let consumer = try kafka.consumer(group: kafka.uniqueName("rejected"), topics: [fixture.topic("rejected")], isolation: .readUncommitted, checksGaps: true)
            while ContinuousClock.now < rejectDeadline, !sources.isSubset(of: rejected) {
                for event in try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(200)) {
                    for r in event.records { if let source = r.headers[header: "sluice-source"]?.stringValue { rejected.insert(source) } }
                }
            }
            try await consumer.close()
            var unaccounted = sources.subtracting(rejected)
            if !unaccounted.isEmpty {
                // Seen twice on a clean clone: one stage's rejections (the 1h tier's) missing for
                // this reader, with no gap it noticed. A second reader, from the start to end
                // markers, tells a record this reader missed from one that was never written.
                var found: [String: String] = [:]
                try await kafka.reader().readToEnd(topic: fixture.topic("rejected"), isolation: .readUncommitted) { r in
                    if let source = r.headers[header: "sluice-source"]?.stringValue, unaccounted.contains(source) { found[source] = "\(r.partition)@\(r.offset)" }
                }
                print("hostile records: the first reader missed \(unaccounted.count) rejections; a second read from the start found \(found.count), at "
                    + "\(found.sorted { $0.key < $1.key }.prefix(20).map { "\($0.key)→\($0.value)" })")
                unaccounted.subtract(found.keys)
                if !unaccounted.isEmpty { try await Self.explain(unaccounted, kafka: kafka, logs: stages.enumerated().map { logs + "\($0.offset).\($0.element.0).log" }) }
            }
            #expect(unaccounted.isEmpty, "\(unaccounted.count) of \(sources.count) bad records not in sluice.rejected, e.g. \(unaccounted.sorted().prefix(5)); logs \(logs)*")

            // Bad endpoint records are counted (dispatch reads the topic too).
            let scrapeDeadline = ContinuousClock.now + .seconds(60)
            var counted = 0
            while ContinuousClock.now < scrapeDeadline, counted < badEndpoints {
                let text = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!, encoding: .utf8)) ?? ""
                counted = text.split(separator: "\n")
                    .filter { $0.hasPrefix("sluice_rejected_total") && $0.contains("endpoints\"") && $0.contains("bad_endpoint") }
                    .compactMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) }.reduce(0, +)
                if counted < badEndpoints { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(counted == badEndpoints, "dispatch counted \(counted) bad endpoint records of \(badEndpoints)")

            print("hostile records: \(sources.count) found in sluice.rejected by their source, \(counted) bad endpoint records counted")

            // No stage exited.
            for (pid, (executable, arguments)) in zip(pids, stages) {
                #expect(isRunning(pid), "\(executable) \(arguments.joined(separator: " ")) exited; log \(logs)*")
            }
            for pid in pids.reversed() { _ = stop(pid) }
            pids = []
        }
    }

    /// Prints what a failed run needs to tell its cause (seen once: two null-key junk events
    /// at a partition's start never rejected): each unaccounted source record as its topic
    /// holds it now, and every stage's log lines about records read again or given up.
    static func explain(_ sources: Set<String>, kafka: IntegrationTest, logs: [String]) async throws {
        var wanted: [String: Set<String>] = [:]
        for source in sources {
            let parts = source.split(separator: "/")
            guard parts.count == 3 else { continue }
            wanted[String(parts[0]), default: []].insert(source)
        }
        for (topic, names) in wanted {
            var seen: [String] = []
            try await kafka.reader().readToEnd(topic: topic, isolation: .readUncommitted) { r in
                let name = "\(r.topic)/\(r.partition)/\(r.offset)"
                if names.contains(name) {
                    seen.append("\(name): key \(r.key.map { "\($0.count) B" } ?? "null"), value \(r.value.map { "\($0.count) B, \(Array($0.prefix(16)))" } ?? "null")")
                }
            }
            print("hostile records: of \(names.sorted()) the source topic now holds \(seen.isEmpty ? "none" : seen.joined(separator: "; "))")
        }
        let phrases = ["skipped", "could not read", "read them again", "isolat", "abort", "rebalanc", "assigned", "revoked"]
        for path in logs {
            let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { line in phrases.contains { line.localizedCaseInsensitiveContains($0) } }
            print("hostile records: \(path): \(lines.count) lines on gaps, aborts or rebalances\(lines.isEmpty ? "" : ":\n  ")"
                + lines.prefix(30).joined(separator: "\n  "))
        }
    }
}
