import Foundation
import SluiceCore
import SluiceKafka
import Testing

@testable import SluiceStage

@Suite("Rejections and reserved headers")
struct RejectionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a small record is kept whole; a large one is cut to fit, with its size, SHA-256 and source")
    func sizes() {
        let small = KafkaRecord(topic: "sluice.events", partition: 2, offset: 9, key: Array("k".utf8), value: Array("v".utf8), headers: [KafkaHeader("h", "1")])
        let kept = Rejection.record(of: small, topic: "sluice.rejected", code: "unparseable", detail: "why")
        #expect(kept.value == small.value && kept.key == small.key)
        #expect(kept.headers[header: "h"]?.stringValue == "1")
        #expect(kept.headers[header: Rejection.sourceHeader]?.stringValue == "sluice.events/2/9")

        let big = [UInt8](repeating: 0x41, count: 1_100_000)
        let large = KafkaRecord(topic: "sluice.events", partition: 0, offset: 4, key: nil, value: big, headers: [KafkaHeader("huge", [UInt8](repeating: 1, count: 20_000))])
        let cut = Rejection.record(of: large, topic: "sluice.rejected", code: "oversize", detail: String(repeating: "d", count: 10_000))
        let size = (cut.value?.count ?? 0) + cut.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
        #expect(size < Rejection.maxRecordBytes)
        #expect(cut.value?.count == Rejection.truncatedValueBytes)
        #expect(cut.headers[header: "huge"] == nil, "large headers are dropped")
        #expect(cut.headers[header: Rejection.truncatedHeader]?.stringValue == "value,headers")
        #expect(cut.headers[header: Rejection.originalBytesHeader]?.stringValue == "1120004")
        #expect(cut.headers[header: Rejection.originalHashHeader]?.stringValue == WebhookSigner.sha256Hex(big))
        #expect((cut.headers[header: Rejection.detailHeader]?.value?.count ?? 0) <= 1024)

        let minimal = Rejection.minimal(of: large, topic: "sluice.rejected", code: "unwritable", detail: "x")
        #expect(minimal.value == nil && minimal.key == nil)
        #expect(minimal.headers[header: Rejection.sourceHeader]?.stringValue == "sluice.events/0/4")
    }

    @Test("only a record of the marker's exact shape is an end marker: a forged header cannot hide an event")
    func endMarkerShape() throws {
        let marker = KafkaRecord(topic: "t", partition: 0, offset: 1, key: Array("sluice.end-marker".utf8), value: nil, headers: [KafkaHeader("sluice-end-marker", "1")])
        #expect(marker.isEndMarker)
        let event = Event.structured(id: "e1", source: "/s", type: "order.created", tenant: "acme", data: .object([:]))
        let forged = KafkaRecord(topic: "sluice.events", partition: 0, offset: 2, key: Array("acme".utf8), value: event.body, headers: [KafkaHeader("sluice-end-marker", "1")])
        #expect(!forged.isEndMarker)
        var registry = EndpointRegistry()
        registry.upsert(Endpoint(id: "ep_1", tenant: "acme", url: "https://x.test", filter: .all, sealedSecret: "s", now: Self.now))
        let transform = FanoutTransform(decoder: EventDecoder(), deliveriesTopic: "sluice.deliveries", rejectedTopic: "sluice.rejected")
        guard case .deliveries(let out) = transform.transform(forged, registry: registry, now: Self.now) else { Issue.record("not delivered"); return }
        #expect(out.count == 1)
    }

    @Test("an endpoint record without a key is refused (counted and logged by the stage), never applied")
    func keylessEndpoint() {
        var registry = EndpointRegistry()
        let record = KafkaRecord(topic: "sluice.endpoints", partition: 0, offset: 3, key: nil, value: Array("{}".utf8))
        #expect(throws: WireError.self) { try registry.apply(record) }
        #expect(registry.count == 0)
    }

    @Test("a batch is sent record by record when the broker refuses it for good, or after three failures in a row")
    func isolation() {
        let tooLarge = KafkaError(kind: .messageTooLarge, message: "too large", operation: "produce")
        let transient = KafkaError(kind: .timedOut, message: "slow", operation: "commit", isRetriable: true)
        let fenced = KafkaError(kind: .fenced, message: "fenced", operation: "commit")
        #expect(IsolatedTransactions.shouldIsolate(after: tooLarge, consecutiveFailures: 1))
        #expect(!IsolatedTransactions.shouldIsolate(after: transient, consecutiveFailures: 1))
        #expect(IsolatedTransactions.shouldIsolate(after: transient, consecutiveFailures: 3))
        #expect(!IsolatedTransactions.shouldIsolate(after: fenced, consecutiveFailures: 5))
    }
}
