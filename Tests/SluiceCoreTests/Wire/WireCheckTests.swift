import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

@Suite("Wire bounds (hostile records)")
struct WireCheckTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let event = Event.structured(id: "evt_1", source: "/s", type: "order.created", tenant: "acme", data: .object([:]))

    /// A valid delivery as a JSON object, with `field` replaced by raw JSON text.
    static func delivery(_ field: String, _ raw: String) throws -> [UInt8] {
        let bytes = try Delivery(event: event, endpointID: "ep_1", now: now).wireBytes()
        var object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        object[field] = nil
        var text = String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
        text.removeLast()
        return Array((text + ",\"\(field)\":\(raw)}").utf8)
    }

    @Test("out-of-range numbers in every numeric field of a delivery are refused, never trapped on", arguments: [
        ("not_before", "1e300"), ("not_before", "-1e300"), ("not_before", "0"), ("not_before", "1.5"),
        ("created_at", "1e20"), ("first_attempt_at", "99999999999999999999"), ("attempt", "4611686018427387904"),
        ("attempt", "0"), ("attempt", "-3"), ("attempt", "1.5"), ("attempt", "1e3000"), ("passes", "-1"),
        ("passes", "1e9"), ("event_id", "\"\""), ("endpoint_id", "\"a\\u0000b\""), ("tenant", "null"),
        ("body", "{\"deep\":1}"), ("history", "[{\"attempt\":1,\"at\":1e300,\"error_class\":\"none\"}]"),
        ("history", "[{\"attempt\":1,\"at\":1800000000000,\"status\":-1,\"error_class\":\"none\"}]"),
    ])
    func deliveryBounds(field: String, raw: String) throws {
        let bytes = try Self.delivery(field, raw)
        #expect(throws: WireError.self) { try Delivery(wireBytes: bytes) }
    }

    @Test("an id's control characters are found in its bytes exactly as by its scalars' category (Cc)")
    func controlCharacters() async {
        let scalars = Gen.element(of: ["a", "\u{0}", "\u{1f}", " ", "\u{7e}", "\u{7f}", "\u{80}", "\u{85}", "\u{9f}", "\u{a0}", "é", "ł", "\u{142}", "😀", "\u{2028}"])
        await propertyCheck(input: scalars.map { $0 ?? "" }.array(of: 0...6).map { $0.joined() }) { text in
            let byCategory = text.unicodeScalars.contains { $0.properties.generalCategory == .control }
            #expect(WireCheck.hasControlCharacters(text) == byCategory, "\(Array(text.unicodeScalars))")
        }
    }

    @Test("a long id, a huge history and deep nesting are refused with the field named")
    func sizes() throws {
        let long = String(repeating: "x", count: WireCheck.maxIDBytes + 1)
        #expect { try Delivery(wireBytes: Self.delivery("event_id", "\"\(long)\"")) } throws: { "\($0)".contains("event_id") }
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect { try Delivery(wireBytes: Self.delivery("unknown_future_field", deep)) } throws: { _ in true }
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        delivery.history = Array(repeating: .init(attempt: 1, at: Self.now, status: 500, errorClass: .httpStatus), count: 1001)
        #expect { try delivery.wireBytes() } throws: { "\($0)".contains("history") }
    }

    @Test("a stage never writes what its readers refuse: wireBytes() checks the same bounds")
    func writesChecked() {
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        delivery.attempt = 1 << 40
        #expect(throws: WireError.self) { try delivery.wireBytes() }
        delivery.attempt = 1
        delivery.notBefore = Date(timeIntervalSince1970: 1e15)
        #expect(throws: WireError.self) { try delivery.wireBytes() }
    }

    @Test("a delivery created far in the future is refused (its age would never run out)")
    func futureCreation() throws {
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now.addingTimeInterval(86_400 * 365))
        #expect(throws: WireError.self) { try delivery.validate(now: Self.now) }
        delivery.createdAt = Self.now.addingTimeInterval(60)
        try delivery.validate(now: Self.now)
        #expect(delivery.isExpired(maxAge: .seconds(30), now: Self.now.addingTimeInterval(90)))
        #expect(!delivery.isExpired(maxAge: .seconds(30), now: Self.now.addingTimeInterval(89)))
    }

    @Test("endpoints: header injection, huge revisions and zero limits are refused")
    func endpointBounds() throws {
        let base = Endpoint(id: "ep_1", tenant: "acme", url: "https://x.test", filter: .all, sealedSecret: "sbox1:k:abc", now: Self.now)
        var e = base
        e.headers = ["x-a": "1\r\nx-injected: 2"]
        #expect { try e.wireBytes() } throws: { "\($0)".contains("headers") }
        e = base
        e.headers = ["bad name": "1"]
        #expect(throws: WireError.self) { try e.wireBytes() }
        e = base
        e.revision = Int.max
        #expect { try e.wireBytes() } throws: { "\($0)".contains("revision") }
        e = base
        e.concurrency = 0
        #expect(throws: WireError.self) { try e.wireBytes() }
        e = base
        e.rateLimit = .infinity
        #expect(throws: WireError.self) { try e.wireBytes() }
        e = base
        e.schedule = "0s,forever"
        #expect(throws: WireError.self) { try e.wireBytes() }
        #expect(try Endpoint(wireBytes: base.wireBytes()) == base)
    }

    @Test("dead letters, attempts and replay markers are held to their bounds too")
    func otherKinds() throws {
        let delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Self.now)
        let dead = DeadLetter(delivery: delivery, reason: "exhausted", finalError: String(repeating: "e", count: 200_000), attempts: [], deadAt: Self.now)
        #expect(dead.finalError.utf8.count <= WireCheck.maxTextBytes, "a receiver's long error is cut, not refused")
        #expect(try DeadLetter(wireBytes: dead.wireBytes()).reason == "exhausted")
        var attempt = Attempt(delivery: delivery, at: Self.now, status: 200, latencyMs: 3, errorClass: .none, outcome: .delivered)
        attempt.status = 1000
        #expect(throws: WireError.self) { try attempt.wireBytes() }
        let marker = ReplayMarker(replayID: "rp_1", sources: ["3:17", "x:1"], at: Self.now)
        #expect { try marker.wireBytes() } throws: { "\($0)".contains("sources") }
        #expect(ReplayMarker.parse(source: "3:17")! == (3, 17))
        #expect(ReplayMarker.parse(source: "-1:2") == nil)
    }

    @Test("durations from input never trap: overflow, huge and odd digits are refused or clamped")
    func durations() {
        #expect(DurationText.parse("9223372036854775807d") == nil)
        #expect(DurationText.parse("5000000000000ms5000000000000ms") == nil)
        #expect(DurationText.parse("٣s") == nil)
        #expect(Duration.wait(seconds: .nan) == .zero)
        #expect(Duration.wait(seconds: -5) == .zero)
        #expect(Duration.wait(seconds: 1e300) == .milliseconds(DurationText.maxMilliseconds))
        #expect(RetryAfter.parse("99999999999999999999999999", now: Self.now) == .milliseconds(DurationText.maxMilliseconds))
    }

    @Test("an event whose id, type or tenant would make an unwritable delivery is rejected at the decoder")
    func eventAttributes() {
        let decoder = EventDecoder()
        let long = String(repeating: "t", count: 300)
        let value = Array(#"{"specversion":"1.0","id":"1","source":"/s","type":"\#(long)"}"#.utf8)
        guard case .failure(let rejection) = decoder.decode(key: Array("acme".utf8), value: value, headers: [:]) else {
            Issue.record("accepted")
            return
        }
        #expect(rejection.code == "invalid_attribute")
        #expect(rejection.description.contains("type"))
    }

    @Test("a binary-mode event keeps its tenant (from the key) in the delivered body")
    func binaryTenant() throws {
        let headers: [String: [UInt8]] = [
            "ce_specversion": Array("1.0".utf8), "ce_id": Array("e1".utf8), "ce_source": Array("/s".utf8),
            "ce_type": Array("order.created".utf8), "content-type": Array("application/json".utf8),
        ]
        guard case .success(let event) = EventDecoder().decode(key: Array("acme".utf8), value: Array("{}".utf8), headers: headers) else {
            Issue.record("rejected")
            return
        }
        let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(event.body))
        #expect(body["tenant"] == .string("acme"))
    }
}

@Suite("Wire bounds: what the stages write reads back")
struct WireWrittenTests {
    @Test("a retried delivery with its history, and its dead letter, read back")
    func retried() throws {
        let now = Date()
        let event = Event.structured(id: "evt-1", source: "/test", type: "t.x", tenant: "acme", data: .object(["n": .number(1)]))
        var delivery = Delivery(event: event, endpointID: "ep_abc", now: now)
        delivery.firstAttemptAt = now
        delivery.history.append(.init(attempt: 1, at: now, status: 500, errorClass: .httpStatus))
        guard case .retry(let next, _) = RetryPolicy(schedule: try RetrySchedule(parsing: "0s,1s,1s")).decide(delivery, result: .response(status: 500, retryAfter: nil), now: now) else {
            Issue.record("no retry")
            return
        }
        let again = try Delivery(wireBytes: next.wireBytes())
        #expect(again.attempt == 2 && again.passes == 1)
        let dead = DeadLetter(delivery: again, reason: "exhausted", finalError: "HTTP 500", attempts: again.history, deadAt: now)
        #expect(try DeadLetter(wireBytes: dead.wireBytes()).delivery.eventID == "evt-1")
    }
}

@Suite("Times from the command line")
struct TimeTextBoundsTests {
    @Test("times outside 1970…2200 are refused, so no conversion of them can overflow")
    func bounds() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(TimeText.parse("99999999999999999", now: now) == nil)
        #expect(TimeText.parse("-5", now: now) == nil)
        #expect(TimeText.parse("1764064800", now: now) == Date(timeIntervalSince1970: 1_764_064_800))
        #expect(TimeText.parse("2h", now: now) == now.addingTimeInterval(-7200))
    }
}
