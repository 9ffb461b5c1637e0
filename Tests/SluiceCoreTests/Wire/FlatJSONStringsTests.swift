import Foundation
import Testing

@testable import SluiceCore

/// ``FlatJSONObject/strings(named:in:)`` against `JSONDecoder`'s reading of the same
/// attributes (``EventDecoder/codableAttributes(_:)``), over random event documents: well
/// formed, hostile, and broken in every way the generator knows.
@Suite("Reading a few string members, the rest skipped")
struct FlatJSONStringsTests {
    static let names = StructuredAttributes.names

    @Test("wherever the flat reader answers, JSONDecoder reads the same; it answers for most well-formed documents")
    func againstJSONDecoder() {
        var answered = 0
        var wellFormed = 0
        for seed in 0..<3_000 {
            var random = SplitMix(seed: UInt64(seed))
            let (text, broken) = Self.document(&random)
            let bytes = Self.bytes(text, &random, broken: broken)
            let flat = FlatJSONObject.strings(named: Self.names, in: bytes)
            let codable = EventDecoder.codableAttributes(bytes)
            if flat != nil {
                answered += 1
                #expect(flat == codable, "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
            }
            if !broken { wellFormed += 1 }
        }
        #expect(answered > wellFormed / 2, "the flat path must carry most documents (\(answered) of \(wellFormed) well formed)")
    }

    @Test("hand-written documents", arguments: [
        #"{"specversion":"1.0","id":"e1","source":"/s","type":"t","data":{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00"}}"#,
        #"{"id":"a","id":"b"}"#, #"{"id":5,"type":true,"source":null,"subject":{"x":1},"time":[1]}"#,
        #"{"data":"\ud800"}"#, #"{"data":1e400}"#, #"{"data":01}"#, #"{"data":[1,]}"#, #"{"data":{"a":1,}}"#,
        #"{"id":"e"} x"#, #"[]"#, #"{}"#, #" { } "#, #"{"data":"a\u0000b","id":"\u0041"}"#, #"{"data":tru}"#,
        "{\"data\":\"\u{1}\"}", #"{"id":"e","data":}"#, #"{"id":"e""#,
    ])
    func handWritten(text: String) {
        let bytes = Array(text.utf8)
        if let flat = FlatJSONObject.strings(named: Self.names, in: bytes) {
            #expect(flat == EventDecoder.codableAttributes(bytes))
        }
    }

    @Test("nesting past the depth bound, a named member twice, invalid UTF-8: left to JSONDecoder")
    func leftToJSONDecoder() {
        let deep = String(repeating: "[", count: JSONValue.maxDepth + 1) + String(repeating: "]", count: JSONValue.maxDepth + 1)
        #expect(FlatJSONObject.strings(named: Self.names, in: Array(#"{"data":\#(deep)}"#.utf8)) == nil)
        #expect(FlatJSONObject.strings(named: Self.names, in: Array(#"{"id":"a","id":"b"}"#.utf8)) == nil)
        var invalid = Array(#"{"data":"ab"}"#.utf8)
        invalid[9] = 0xFF
        #expect(FlatJSONObject.strings(named: Self.names, in: invalid) == nil)
        #expect(FlatJSONObject.strings(named: Self.names, in: Array(#"{"id":"e","data":{"k":[true,false,null,-0.5e-3]}}"#.utf8)) == ["id": "e"])
    }

    // MARK: - The generator

    static let pieces = ["a", "Z", "0", " ", "/", "é", "😀", #"\""#, #"\\"#, #"\/"#, #"\n"#, #"\t"#, #"\u00e9"#, #"\ud83d\ude00"#, #"\u0000"#]
    static let hostilePieces = [#"\ud800"#, #"\x"#, "\u{1}", #"\u12"#, #"\"#]
    static let numbers = ["0", "-1", "1.5", "-0.5e-3", "2E+8", "123456789012345678901234567890"]
    static let badNumbers = ["01", "1.", ".5", "1e", "-", "1e400", "+1", "0x1"]
    static let spaces = ["", "", " ", "\n", "\t", "\r\n "]

    /// A random event document, and whether the generator broke it on purpose.
    static func document(_ random: inout SplitMix) -> (String, Bool) {
        var broken = false
        var members: [String] = []
        for name in names + ["data", "extra", "datacontenttype"] where random.chance(0.7) {
            let value: String
            if names.contains(name), random.chance(0.8) {
                value = string(&random, broken: &broken)
            } else {
                value = self.value(&random, depth: 0, broken: &broken)
            }
            var member = space(&random)
            member += "\"\(name)\""
            member += space(&random)
            member += ":"
            member += space(&random)
            member += value
            member += space(&random)
            members.append(member)
        }
        if random.chance(0.05), let first = members.first { members.append(first) }  // a duplicate
        members.shuffle(using: &random)
        return (space(&random) + "{" + members.joined(separator: ",") + "}" + space(&random), broken)
    }

    static func value(_ random: inout SplitMix, depth: Int, broken: inout Bool) -> String {
        switch random.next() % (depth > 4 ? 3 : 5) {
        case 0: return string(&random, broken: &broken)
        case 1:
            if random.chance(0.03) {
                broken = true
                return random.pick(badNumbers)
            }
            return random.pick(numbers)
        case 2: return random.pick(["true", "false", "null"])
        case 3:
            var elements: [String] = []
            for _ in 0..<(random.next() % 4) {
                let element: String = value(&random, depth: depth + 1, broken: &broken)
                elements.append(space(&random) + element)
            }
            return "[" + elements.joined(separator: ",") + "]"
        default:
            var members: [String] = []
            for index in 0..<(random.next() % 4) {
                let member: String = value(&random, depth: depth + 1, broken: &broken)
                members.append("\"k\(index)\":" + member)
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    static func string(_ random: inout SplitMix, broken: inout Bool) -> String {
        var text = "\""
        for _ in 0..<(random.next() % 12) {
            if random.chance(0.02) {
                broken = true
                text += random.pick(hostilePieces)
            } else {
                text += random.pick(pieces)
            }
        }
        return text + "\""
    }

    static func space(_ random: inout SplitMix) -> String { random.pick(spaces) }

    /// The document's bytes, now and then cut short, or with a stray or invalid byte.
    static func bytes(_ text: String, _ random: inout SplitMix, broken: Bool) -> [UInt8] {
        var bytes = Array(text.utf8)
        switch random.next() % 20 {
        case 0 where !bytes.isEmpty: bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
        case 1 where !bytes.isEmpty:
            let stray: [UInt8] = [0xFF, 0xC3, 0x80, UInt8(ascii: ","), UInt8(ascii: "]")]
            bytes.insert(stray[Int(random.next() % 5)], at: Int(random.next() % UInt64(bytes.count)))
        default: break
        }
        return bytes
    }
}

extension SplitMix {
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    mutating func pick(_ choices: [String]) -> String { choices[Int(next() % UInt64(choices.count))] }
}
