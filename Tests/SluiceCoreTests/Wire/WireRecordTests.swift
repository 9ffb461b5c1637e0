import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

@Suite("Wire formats")
struct WireRecordTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000.123)
    static let event = Event.structured(id: "evt_1", source: "/s", type: "order.created", tenant: "acme", data: .object(["n": .number(1)]))

    @Test("a delivery round-trips exactly, with its format version")
    func deliveryRoundTrip() throws {
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        delivery.attempt = 3
        delivery.firstAttemptAt = Self.now.addingTimeInterval(-60)
        delivery.replayID = "rp_1"
        let bytes = try delivery.wireBytes()
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        #expect(object["v"] == .number(1))
        #expect(object["not_before"] == .number(1_700_000_000_123))
        #expect(try Delivery(wireBytes: bytes) == delivery)
        #expect(Delivery.formatHeader == "delivery/1")
    }

    @Test("the readable form shows times as ISO 8601 text and keeps fields of a newer format")
    func readableTimes() throws {
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        delivery.extra["priority"] = .string("high")
        let object = try delivery.readableJSON()
        #expect(object["not_before"] == .string("2023-11-14T22:13:20.123Z"))
        #expect(object["created_at"] == .string("2023-11-14T22:13:20.123Z"))
        #expect(object["priority"] == .string("high"))
        #expect(object["v"] == .number(1))
        var broken = delivery
        broken.attempt = 0
        #expect(throws: WireError.self) { try broken.readableJSON() }
    }

    @Test("fields of a newer format are kept and written back")
    func unknownFieldsKept() throws {
        var object = try JSONDecoder().decode([String: JSONValue].self, from: Data(try Delivery(event: Self.event, endpointID: "ep_1", now: Self.now).wireBytes()))
        object["v"] = .number(2)
        object["priority"] = .string("high")
        object["routing"] = .object(["region": .string("eu")])
        let newer = Array(try JSONEncoder().encode(object))
        var delivery = try Delivery(wireBytes: newer)
        #expect(delivery.extra["priority"] == .string("high"))
        delivery.attempt += 1
        let rewritten = try JSONDecoder().decode([String: JSONValue].self, from: Data(try delivery.wireBytes()))
        #expect(rewritten["priority"] == .string("high"))
        #expect(rewritten["routing"] == .object(["region": .string("eu")]))
        #expect(rewritten["attempt"] == .number(2))
    }

    @Test("a dead letter keeps its delivery's unknown fields")
    func deadLetterKeepsNestedFields() throws {
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        delivery.extra["priority"] = .string("high")
        let dead = DeadLetter(delivery: delivery, reason: "exhausted", finalError: "HTTP 500", attempts: [], deadAt: Self.now)
        let again = try DeadLetter(wireBytes: dead.wireBytes())
        #expect(again.delivery.extra["priority"] == .string("high"))
        #expect(again == dead)
    }

    @Test("bad bytes are a clear error, not a crash", arguments: [
        ("nope", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        (#"{"endpoint_id":"e"}"#, "missing event_id"),
        (#"{"event_id":1,"endpoint_id":"e","tenant":"t","event_type":"x","attempt":1,"not_before":0,"body":"","created_at":0}"#, "bad event_id"),
        (#"{"event_id":"1","endpoint_id":"e","tenant":"t","event_type":"x","attempt":0,"not_before":0,"body":"","created_at":0}"#, "attempt"),
    ])
    func badBytes(text: String, problem: String) {
        #expect { try Delivery(wireBytes: Array(text.utf8)) } throws: { "\($0)".contains(problem) && "\($0)".contains("delivery") }
    }

    @Test("attempts, dead letters and endpoints round-trip")
    func otherRecords() throws {
        let delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        let attempt = Attempt(delivery: delivery, at: Self.now, status: 503, latencyMs: 12.5, errorClass: .httpStatus, responseExcerpt: "busy", outcome: .retrying)
        #expect(try Attempt(wireBytes: attempt.wireBytes()) == attempt)
        let dead = DeadLetter(delivery: delivery, reason: "exhausted", finalError: "HTTP 500", attempts: [.init(attempt: 1, at: Self.now, status: 500, errorClass: .httpStatus)], deadAt: Self.now)
        #expect(try DeadLetter(wireBytes: dead.wireBytes()) == dead)
        var endpoint = Endpoint(id: "ep_1", tenant: "acme", url: "https://x.test", filter: .all, sealedSecret: "sbox1:k:abc", now: Self.now)
        endpoint.previousSecret = .init(sealed: "sbox1:k:old", expiresAt: Self.now)
        endpoint.headers = ["x-team": "payments"]
        endpoint.rateLimit = 2.5
        #expect(try Endpoint(wireBytes: endpoint.wireBytes()) == endpoint)
    }

    @Test("any delivery round-trips")
    func deliveryProperty() async {
        await propertyCheck(input: Gen.letterOrNumber.string(of: 1...30), Gen.int(in: 1...20), Gen.int64(in: 946_684_800_000...4_000_000_000_000), Gen.uint8(in: 32...126).array(of: 0...300)) { id, attempt, ms, body in
            var delivery = Delivery(event: Event(id: id, source: "/s", type: "t.x", tenant: "t", body: body), endpointID: "ep_" + id, now: Date(timeIntervalSince1970: Double(ms) / 1000))
            delivery.attempt = attempt
            delivery.notBefore = Date(timeIntervalSince1970: Double(ms) / 1000)
            let again = try? Delivery(wireBytes: try delivery.wireBytes())
            #expect(again?.body == delivery.body)
            #expect(again?.eventID == id)
            #expect(again?.attempt == attempt)
            #expect(again.map { abs($0.notBefore.timeIntervalSince(delivery.notBefore)) < 0.001 } == true)
        }
    }
}
