import Foundation
import Testing

@testable import SluiceCore

@Suite("CloudEvents decoding")
struct EventDecoderTests {
    let decoder = EventDecoder(maxBytes: 1024)
    let structured = Array(#"{"specversion":"1.0","id":"e1","source":"/shop","type":"order.created","data":{"n":1}}"#.utf8)

    func headers(_ pairs: [String: String]) -> [String: [UInt8]] { pairs.mapValues { Array($0.utf8) } }

    @Test("a structured event keeps its exact bytes as the body; the key is the tenant")
    func structuredMode() throws {
        let event = try decoder.decode(key: Array("acme".utf8), value: structured, headers: [:]).get()
        #expect(event.id == "e1")
        #expect(event.type == "order.created")
        #expect(event.source == "/shop")
        #expect(event.tenant == "acme")
        #expect(event.body == structured)
    }

    @Test("without a key the tenant extension names the tenant")
    func tenantExtension() throws {
        let value = Array(#"{"specversion":"1.0","id":"e1","source":"/s","type":"t","tenant":"globex"}"#.utf8)
        #expect(try decoder.decode(key: nil, value: value, headers: [:]).get().tenant == "globex")
        #expect(try decoder.decode(key: [], value: value, headers: [:]).get().tenant == "globex")
    }

    @Test("a binary event becomes a structured body with its attributes and JSON data")
    func binaryModeJSON() throws {
        let event = try decoder.decode(
            key: Array("acme".utf8), value: Array(#"{"n":1}"#.utf8),
            headers: headers(["ce_specversion": "1.0", "ce_id": "b1", "ce_source": "/s", "ce_type": "invoice.paid", "content-type": "application/json", "ce_subject": "inv-9"])
        ).get()
        #expect(event.id == "b1")
        #expect(event.subject == "inv-9")
        let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(event.body))
        #expect(body["id"] == .string("b1"))
        #expect(body["type"] == .string("invoice.paid"))
        #expect(body["datacontenttype"] == .string("application/json"))
        #expect(body["data"] == .object(["n": .number(1)]))
    }

    @Test("binary text data stays text, other bytes become data_base64")
    func binaryModeOtherData() throws {
        let attrs = ["ce_specversion": "1.0", "ce_id": "b1", "ce_source": "/s", "ce_type": "t"]
        let text = try decoder.decode(key: Array("a".utf8), value: Array("hello".utf8), headers: headers(attrs.merging(["content-type": "text/plain"]) { $1 })).get()
        #expect(try JSONDecoder().decode([String: JSONValue].self, from: Data(text.body))["data"] == .string("hello"))
        let raw = try decoder.decode(key: Array("a".utf8), value: [0xff, 0x00, 0xfe], headers: headers(attrs)).get()
        #expect(try JSONDecoder().decode([String: JSONValue].self, from: Data(raw.body))["data_base64"] == .string("/wD+"))
    }

    @Test("each kind of bad record is rejected with its reason", arguments: [
        (#"{"id":"e","source":"/s","type":"t"}"#, "acme", EventRejection.missingAttribute("specversion")),
        (#"{"specversion":"0.3","id":"e","source":"/s","type":"t"}"#, "acme", .unsupportedSpecVersion("0.3")),
        (#"{"specversion":"1.0","source":"/s","type":"t"}"#, "acme", .missingAttribute("id")),
        (#"{"specversion":"1.0","id":"e","source":"/s","type":""}"#, "acme", .missingAttribute("type")),
        (#"{"specversion":"1.0","id":"e","type":"t"}"#, "acme", .missingAttribute("source")),
        (#"{"specversion":"1.0","id":"e","source":"/s","type":"t"}"#, "", .missingTenant),
        ("{not json", "acme", .unparseable("value is not a JSON object")),
        ("[1,2]", "acme", .unparseable("value is not a JSON object")),
        ("", "acme", .unparseable("empty value")),
    ])
    func rejections(value: String, key: String, expected: EventRejection) {
        #expect(decoder.decode(key: Array(key.utf8), value: Array(value.utf8), headers: [:]) == .failure(expected))
    }

    @Test("oversize records are rejected before parsing, binary bodies after building")
    func oversize() {
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 1025)
        #expect(decoder.decode(key: Array("a".utf8), value: big, headers: [:]) == .failure(.oversize(bytes: 1025, limit: 1024)))
        #expect(decoder.decode(key: Array("a".utf8), value: nil, headers: [:]) == .failure(.unparseable("empty value")))
    }

    @Test("reasons have stable codes and say what to fix")
    func reasons() {
        #expect(EventRejection.missingTenant.code == "missing_tenant")
        #expect(EventRejection.missingTenant.description.contains("record key"))
        #expect(EventRejection.oversize(bytes: 2, limit: 1).code == "oversize")
    }

    @Test("no input crashes the decoder")
    func arbitraryBytes() {
        for seed in 0..<500 {
            var generator = SplitMix(seed: UInt64(seed))
            let length = Int(generator.next() % 200)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = decoder.decode(key: bytes, value: bytes, headers: ["ce_specversion": bytes])
            _ = decoder.decode(key: nil, value: bytes, headers: [:])
        }
    }
}

/// A small deterministic generator for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
