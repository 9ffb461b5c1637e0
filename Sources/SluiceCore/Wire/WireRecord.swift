import Foundation

/// A record of a Sluice topic, stored as one JSON object with a format version.
///
/// The wire format: the Kafka header `sluice-format: <kind>/<version>` and, in the JSON,
/// `"v": <version>`. Readers accept their own version and older ones; fields a reader
/// does not know (written by a newer Sluice) are kept in `extra` and written back
/// unchanged, so a record passing through an older stage loses nothing.
///
/// Invariant: `extra` never holds a key of `knownKeys`; a record read from bytes or
/// written to bytes has passed ``validate()`` (``WireCheck``'s bounds), so a stage never
/// writes a record its readers would refuse, and no value read can reach a trap.
///
/// The hot records (``Delivery``, ``Attempt``) also read and write their common, flat
/// shape without Foundation's coders (``flatRecord(_:)``, ``flatWireBytes()``), and
/// ``DeadLetter`` is written that way: the same bytes and values, at a fraction of the
/// cost; anything else takes the Codable path.
///
/// ```swift
/// let bytes = try delivery.wireBytes()
/// let again = try Delivery(wireBytes: bytes)
/// ```
public protocol WireRecord: Codable, Sendable {
    /// The record kind in the `sluice-format` header, e.g. `delivery`.
    static var kind: String { get }
    /// The newest version this build writes and reads.
    static var version: Int { get }
    /// The JSON keys the Codable conformance reads and writes.
    static var knownKeys: Set<String> { get }
    /// Fields of a newer format, kept as they were.
    var extra: [String: JSONValue] { get set }
    /// Checks ranges and shapes (times, ids, attempt numbers, sizes) with ``WireCheck``.
    func validate() throws(WireError)
    /// The record read without `JSONDecoder` (the hot records' fast path), or nil to take
    /// the general path; never decides an error. By default nil.
    static func flatRecord(_ object: FlatJSONObject) -> Self?
    /// The record's bytes written without `JSONEncoder`, byte for byte what it writes, or
    /// nil to take the general path. By default nil.
    func flatWireBytes() -> [UInt8]?
}

/// The Kafka header that names a record's format.
public enum WireFormat {
    public static let header = "sluice-format"
}

/// Why bytes are not a record of the expected kind.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: String
    public var problem: String
    public var description: String { "not a valid \(kind) record: \(problem)" }
    public init(kind: String, problem: String) {
        self.kind = kind
        self.problem = problem
    }
}

extension WireRecord {
    /// The value of the `sluice-format` header.
    public static var formatHeader: String { "\(kind)/\(version)" }

    public static func flatRecord(_ object: FlatJSONObject) -> Self? { nil }
    public func flatWireBytes() -> [UInt8]? { nil }

    public init(wireBytes bytes: [UInt8]) throws(WireError) {
        if let object = FlatJSONObject(bytes), let record = Self.flatRecord(object) {
            self = record
        } else {
            self = try Self(codableWireBytes: bytes)
        }
        try validate()
    }

    /// The general path of ``init(wireBytes:)`` (`JSONDecoder`, unknown fields kept),
    /// without the bounds check.
    init(codableWireBytes bytes: [UInt8]) throws(WireError) {
        do {
            let decoded = try WireCoding.decoder.decode(WithUnknownFields<Self>.self, from: Data(bytes))
            self = decoded.record
            extra = decoded.extra
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw WireError(kind: Self.kind, problem: "not a JSON object")
        } catch let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw WireError(kind: Self.kind, problem: "bad \(path): \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw WireError(kind: Self.kind, problem: "not a JSON object")
        } catch let DecodingError.keyNotFound(key, _) {
            throw WireError(kind: Self.kind, problem: "missing \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw WireError(kind: Self.kind, problem: "bad \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(kind: Self.kind, problem: "\(error)")
        }
    }

    /// The record as JSON (sorted keys), with `v` and the kept unknown fields.
    public func wireBytes() throws -> [UInt8] {
        try validate()
        return try flatWireBytes() ?? codableWireBytes()
    }

    /// The general path of ``wireBytes()`` (`JSONEncoder`, unknown fields merged back),
    /// without the bounds check.
    func codableWireBytes() throws -> [UInt8] {
        let encoder = WireCoding.encoder
        // One pass when there is nothing to merge back.
        if extra.isEmpty { return Array(try encoder.encode(Versioned(record: self))) }
        var object = try JSONDecoder().decode([String: JSONValue].self, from: encoder.encode(self))
        for (key, value) in extra where object[key] == nil { object[key] = value }
        object["v"] = .number(Double(Self.version))
        return Array(try encoder.encode(object))
    }

    /// The record as people read it (`--json` of the CLI, the admin API): the wire object
    /// with every time as ISO 8601 text (`2026-11-25T10:00:00.123Z`) instead of Unix
    /// milliseconds, the same times endpoints and the logs show.
    public func readableJSON() throws -> [String: JSONValue] {
        try validate()
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(TimeText.format(date))
        }
        var object = try JSONDecoder().decode([String: JSONValue].self, from: encoder.encode(Versioned(record: self)))
        for (key, value) in extra where object[key] == nil { object[key] = value }
        return object
    }
}

/// A record and the fields it does not know, from one parse of its JSON: only the
/// unknown fields become ``JSONValue``s (a whole-object `[String: JSONValue]` pass beside
/// the record's own decode doubled the cost of every delivery read).
private struct WithUnknownFields<Record: WireRecord>: Decodable {
    let record: Record
    let extra: [String: JSONValue]

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: JSONKey.self)
        var extra: [String: JSONValue] = [:]
        for key in object.allKeys where key.stringValue != "v" && !Record.knownKeys.contains(key.stringValue) {
            extra[key.stringValue] = try object.decode(JSONValue.self, forKey: key)
        }
        self.extra = extra
        record = try Record(from: decoder)
    }
}

/// Encodes a record's own keys and `"v"` into one JSON object.
private struct Versioned<Record: WireRecord>: Encodable {
    let record: Record

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(Record.version, forKey: JSONKey("v"))
    }
}

/// Any member name of a JSON object, for containers whose keys are not known in advance
/// (unknown fields, chosen attributes, the version beside a record's own keys).
struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The JSON settings of every wire record: sorted keys, times as Unix milliseconds.
enum WireCoding {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}
