import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

/// The flat path (``FlatJSONObject``, ``JSONBytesWriter``) against the Codable path it
/// stands in for: the same bytes written, the same values read, and nothing accepted that
/// the Codable path refuses.
@Suite("Wire records' flat path")
struct FlatWireTests {
    /// Text with everything JSON escapes, multi-byte UTF-8 and control characters.
    static let pieces = ["a", "Z", "0", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1f}", "\u{7f}", "\u{85}", "é", "😀", "\u{2028}", "{", " ", "\\u0041"]
    static let text = Gen.element(of: pieces).map { $0 ?? "" }.array(of: 0...12).map { $0.joined() }
    static let id = Gen.letterOrNumber.string(of: 1...24)
    /// Times inside ``WireCheck/timeWindow``, with sub-millisecond fractions.
    static let time = Gen.double(in: 946_684_800...7_258_118_400).map { Date(timeIntervalSince1970: $0) }
    /// A retried delivery's history: none, or up to eight entries of any error class.
    static let history = zip(Gen.int(in: 1...100), Self.time, Gen.int(in: 100...599).optional, Gen.element(of: Attempt.ErrorClass.allCases))
        .map { DeadLetter.AttemptSummary(attempt: $0, at: $1, status: $2, errorClass: $3 ?? .other) }.array(of: 0...8)
    static let event = Event.structured(id: "evt_1", source: "/s", type: "order.created", tenant: "acme", data: .object([:]))

    /// Both readers on `bytes`: the flat one never answers where the Codable one refuses,
    /// and answers the same record where both do.
    static func expectSameReading<R: WireRecord & Equatable>(_ type: R.Type, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let codable = try? R(codableWireBytes: bytes)
        guard let object = FlatJSONObject(bytes), let flat = R.flatRecord(object) else { return }
        #expect(codable == flat, "flat read \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test("a delivery: the flat writer's bytes are the Codable encoder's, and both readers read them the same")
    func deliveries() async {
        await propertyCheck(input: Self.text, Self.id, Self.time, Self.time.optional, Gen.int(in: 1...1000), Gen.int(in: 0...99), Self.id.optional, Self.history) {
            body, id, created, first, attempt, passes, replay, history in
            var delivery = Delivery(event: Self.event, endpointID: "ep_" + id, now: created)
            delivery.history = history
            delivery.eventID = id + body.prefix(3).filter { $0.isLetter }
            delivery.body = Array(body.utf8)
            delivery.firstAttemptAt = first
            delivery.notBefore = created.addingTimeInterval(Double(attempt))
            delivery.attempt = attempt
            delivery.passes = passes
            delivery.replayID = replay
            let flat = delivery.flatWireBytes()
            #expect(flat != nil)
            #expect(flat == (try? delivery.codableWireBytes()), "\(String(decoding: flat ?? [], as: UTF8.self))")
            Self.expectSameReading(Delivery.self, flat ?? [])
            // Times with sub-millisecond fractions do not survive milliseconds exactly, on
            // either path: what is read must be what the Codable path reads.
            let read = try? Delivery(wireBytes: flat ?? [])
            #expect(read != nil && read == (try? Delivery(codableWireBytes: flat ?? [])))
        }
    }

    @Test("an attempt: the same bytes from both writers, the same record from both readers")
    func attempts() async {
        await propertyCheck(input: Self.text.optional, Self.text.optional, Self.time, Self.time.optional, Gen.int(in: 100...599).optional, Gen.double(in: 0...86_400_000)) {
            error, excerpt, at, next, status, latency in
            let delivery = Delivery(event: Self.event, endpointID: "ep_1", now: at)
            var attempt = Attempt(delivery: delivery, at: at, status: status, latencyMs: latency, errorClass: status == nil ? .timeout : .httpStatus,
                                  error: error, responseExcerpt: excerpt, outcome: status == nil ? .retrying : .delivered)
            attempt.nextAttemptAt = next
            let flat = attempt.flatWireBytes()
            #expect(flat == (try? attempt.codableWireBytes()), "\(String(decoding: flat ?? [], as: UTF8.self))")
            Self.expectSameReading(Attempt.self, flat ?? [])
            let read = try? Attempt(wireBytes: flat ?? [])
            #expect(read != nil && read == (try? Attempt(codableWireBytes: flat ?? [])))
        }
    }

    @Test("a delivery's history takes the flat path both ways; unknown fields take the Codable path and are kept")
    func generalShapes() throws {
        var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Date(timeIntervalSince1970: 1_800_000_000))
        delivery.history = [.init(attempt: 1, at: delivery.createdAt, status: 500, errorClass: .httpStatus), .init(attempt: 2, at: delivery.createdAt, status: nil, errorClass: .timeout)]
        let flat = try #require(delivery.flatWireBytes())
        #expect(flat == (try delivery.codableWireBytes()))
        #expect(Delivery.flatRecord(try #require(FlatJSONObject(flat))) == delivery)
        #expect(try Delivery(wireBytes: flat) == delivery)
        delivery.history = []
        delivery.extra = ["future": .array([.number(1)])]
        #expect(delivery.flatWireBytes() == nil)
        let bytes = try delivery.wireBytes()
        #expect(FlatJSONObject(bytes) == nil, "a nested member is not flat")
        #expect(try Delivery(wireBytes: bytes).extra == ["future": .array([.number(1)])])
        var withScalar = delivery
        withScalar.extra = ["future": .string("x")]
        let scalarBytes = try withScalar.wireBytes()
        #expect(Delivery.flatRecord(try #require(FlatJSONObject(scalarBytes))) == nil, "an unknown key sends it to the general path")
        #expect(try Delivery(wireBytes: scalarBytes).extra == ["future": .string("x")])
    }

    @Test("hand-written JSON: the flat reader answers only what the Codable reader reads, and the same", arguments: [
        #"{"attempt":1,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a","v":1}"#,
        #" {"v":1 , "attempt" : 1,"body":"\u00e9\ud83d\ude00\/\"","created_at":1.8e12,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000.5,"tenant":"a"} "#,
        #"{"attempt":1.0,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":-0,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"body":"\ud800","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"body":"{}","created_at":1e400,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":01,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}x"#,
        #"{"attempt":1,"body":null,"created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","first_attempt_at":null,"passes":null,"replay_id":null,"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":true,"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":99999999999999999999,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        "{\"attempt\":1,\"body\":\"a\\\"b\u{1}c\",\"created_at\":1800000000000,\"endpoint_id\":\"ep_1\",\"event_id\":\"e\",\"event_type\":\"t\",\"not_before\":1800000000000,\"tenant\":\"a\"}",
        #"{"attempt":1,"body":"{\"a\":\"b\\\/c\"}\u00e9 and a run after","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":1,"body":"unterminated \"escape run","created_at":1800000000000"#,
        "{\"attempt\":1,\"body\":\"a\u{1}b\",\"created_at\":1800000000000,\"endpoint_id\":\"ep_1\",\"event_id\":\"e\",\"event_type\":\"t\",\"not_before\":1800000000000,\"tenant\":\"a\"}",
        #"{"attempt":1,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a",}"#,
        #"[]"#, #""#, #"{"#, #"{}"#, #"null"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":1800000000000,"attempt":1,"error_class":"http_status","status":500},{"attempt":2,"at":1.8e12,"error_class":"timeout","status":null}],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":null,"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":1800000000000,"attempt":1,"error_class":"gremlins"}],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":1800000000000,"attempt":1.5,"error_class":"timeout"}],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":1800000000000,"attempt":1,"error_class":"timeout","why":"x"}],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":1800000000000,"attempt":1}],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[1,2],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":[]}],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":[{"at":1800000000000,"attempt":1,"error_class":"timeout"},],"not_before":1800000000000,"tenant":"a"}"#,
        #"{"attempt":2,"body":"{}","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","history":{"at":1},"not_before":1800000000000,"tenant":"a"}"#,
    ])
    func handWritten(text: String) {
        Self.expectSameReading(Delivery.self, Array(text.utf8))
    }

    @Test("bytes that are not UTF-8 inside a string are left to the Codable reader")
    func invalidUTF8() {
        var bytes = Array(#"{"attempt":1,"body":"ab","created_at":1800000000000,"endpoint_id":"ep_1","event_id":"e","event_type":"t","not_before":1800000000000,"tenant":"a"}"#.utf8)
        bytes[22] = 0xFF
        #expect(FlatJSONObject(bytes) == nil)
        Self.expectSameReading(Delivery.self, bytes)
    }

    @Test("a body is written as the Codable encoder writes it: ASCII with escapes, and bytes that are not UTF-8 (replaced)")
    func bodyBytes() {
        let bodies: [[UInt8]] = [[0xFF], Array("a\"b".utf8) + [0xC3], [0x7B, 0x80, 0x7D, 0x0A], Array("é".utf8) + [0xFE, 0x41], Array("plain \u{1}\\".utf8)]
        for body in bodies {
            var delivery = Delivery(event: Self.event, endpointID: "ep_1", now: Date(timeIntervalSince1970: 1_800_000_000))
            delivery.body = body
            let flat = delivery.flatWireBytes()
            #expect(flat != nil && flat == (try? delivery.codableWireBytes()), "\(String(decoding: flat ?? [], as: UTF8.self))")
        }
    }
}

extension FlatWireTests {
    @Test("one event's deliveries written at once are byte for byte each delivery's own wire bytes")
    func fanoutTemplate() async {
        await propertyCheck(input: Self.text, Self.id.array(of: 1...6), Self.time) { data, ids, now in
            let event = Event.structured(id: "evt_" + ids[0], source: "/s", type: "order.created", tenant: "acme", data: .object(["x": .string(data)]))
            let endpointIDs = ids.map { "ep_" + $0 }
            let each = endpointIDs.map { try? Delivery(event: event, endpointID: $0, now: now).wireBytes() }
            #expect((try? Delivery.wireBytes(of: event, to: endpointIDs, now: now)) == each.compactMap { $0 })
        }
    }

    @Test("an endpoint id out of bounds fails the batch as its own delivery would")
    func fanoutTemplateBounds() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(throws: WireError.self) { try Delivery.wireBytes(of: Self.event, to: ["ep_1", "ep_\u{1}"], now: now) }
        #expect(throws: WireError.self) { try Delivery.wireBytes(of: Self.event, to: ["ep_1"], now: Date(timeIntervalSince1970: 1e12)) }
        #expect((try? Delivery.wireBytes(of: Self.event, to: [], now: now)) == [])
    }
}
