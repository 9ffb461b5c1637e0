import Foundation

/// Turns a record of `sluice.events` into an ``Event``, per the CloudEvents Kafka
/// protocol binding.
///
/// - Binary mode: a `ce_specversion` header; attributes in `ce_*` headers, the
///   `content-type` header is `datacontenttype`, and the value is the data.
/// - Structured mode: otherwise; the value is the event as JSON
///   (`content-type: application/cloudevents+json`).
///
/// The tenant is the record key or, when the key is empty, the `tenant` extension.
/// Invariant: never throws and never crashes on any input: every failure is an
/// ``EventRejection``.
public struct EventDecoder: Sendable {
    /// The largest record value accepted (default 256 KiB).
    public var maxBytes: Int

    public init(maxBytes: Int = 256 * 1024) { self.maxBytes = maxBytes }

    public func decode(key: [UInt8]?, value: [UInt8]?, headers: [String: [UInt8]]) -> Result<Event, EventRejection> {
        let value = value ?? []
        guard value.count <= maxBytes else { return .failure(.oversize(bytes: value.count, limit: maxBytes)) }
        let keyTenant = key.flatMap { String(validating: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
        if headers["ce_specversion"] != nil {
            return binary(keyTenant: keyTenant, value: value, headers: headers)
        }
        return structured(keyTenant: keyTenant, value: value)
    }

    private func structured(keyTenant: String?, value: [UInt8]) -> Result<Event, EventRejection> {
        guard !value.isEmpty else { return .failure(.unparseable("empty value")) }
        // The flat reader answers for strict JSON; anything else JSONDecoder decides.
        guard let attributes = FlatJSONObject.strings(named: StructuredAttributes.names, in: value) ?? Self.codableAttributes(value) else {
            return .failure(.unparseable("value is not a JSON object"))
        }
        return make(attributes: attributes, keyTenant: keyTenant, body: value)
    }

    /// A structured event's string attributes read by `JSONDecoder` (the general path);
    /// nil when the value is not a JSON object.
    static func codableAttributes(_ value: [UInt8]) -> [String: String]? {
        try? JSONDecoder().decode(StructuredAttributes.self, from: Data(value)).strings
    }

    private func binary(keyTenant: String?, value: [UInt8], headers: [String: [UInt8]]) -> Result<Event, EventRejection> {
        var attributes: [String: String] = [:]
        for (name, bytes) in headers where name.hasPrefix("ce_") {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(.unparseable("header \(name) is not UTF-8"))
            }
            attributes[String(name.dropFirst(3))] = text
        }
        let contentType = headers["content-type"].flatMap { String(validating: $0, as: UTF8.self) }
        var object: [String: JSONValue] = attributes.mapValues { .string($0) }
        if let contentType { object["datacontenttype"] = .string(contentType) }
        // The tenant from the key travels in the body as the `tenant` extension, as a
        // structured event's does.
        if object["tenant"] == nil, let keyTenant { object["tenant"] = .string(keyTenant) }
        if !value.isEmpty {
            let isJSON = contentType.map { $0.hasPrefix("application/json") || $0.contains("+json") } ?? false
            if isJSON, let data = try? JSONDecoder().decode(JSONValue.self, from: Data(value)) {
                object["data"] = data
            } else if let text = String(validating: value, as: UTF8.self), !isJSON {
                object["data"] = .string(text)
            } else if isJSON {
                return .failure(.unparseable("content-type is JSON but the value is not"))
            } else {
                object["data_base64"] = .string(Data(value).base64EncodedString())
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(object) else { return .failure(.unparseable("cannot encode")) }
        if body.count > maxBytes { return .failure(.oversize(bytes: body.count, limit: maxBytes)) }
        return make(attributes: attributes, keyTenant: keyTenant, body: Array(body))
    }

    private func make(attributes: [String: String], keyTenant: String?, body: [UInt8]) -> Result<Event, EventRejection> {
        guard let specVersion = attributes["specversion"] else { return .failure(.missingAttribute("specversion")) }
        guard specVersion == "1.0" else { return .failure(.unsupportedSpecVersion(specVersion)) }
        // Each attribute looked up once (fanout decodes every event).
        let (id, source, type) = (attributes["id"] ?? "", attributes["source"] ?? "", attributes["type"] ?? "")
        for (name, value) in [("id", id), ("source", source), ("type", type)] where value.isEmpty {
            return .failure(.missingAttribute(name))
        }
        guard let tenant = keyTenant ?? attributes["tenant"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            return .failure(.missingTenant)
        }
        // What becomes an id of the delivery record is held to the wire bounds here, so a
        // fanned-out event never makes a delivery its readers would refuse.
        let check = WireCheck(kind: "event")
        for (name, value) in [("id", id), ("type", type), ("tenant", tenant)] {
            do throws(WireError) { try check.id(value, name) } catch {
                return .failure(.invalidAttribute(name, why: error.problem.replacing("bad \(name): ", with: "is ")))
            }
        }
        return .success(
            Event(
                id: id, source: source, type: type, tenant: tenant,
                body: body, specVersion: specVersion, subject: attributes["subject"], time: attributes["time"]))
    }
}

/// The attributes fanout reads from a structured-mode event, and nothing else: decoding
/// the whole object into ``JSONValue``s (its `data` included) cost most of fanout's time.
/// An attribute that is not a string counts as absent, as with the whole-object decode.
/// (``FlatJSONObject/strings(named:in:)`` reads the same without `JSONDecoder`.)
struct StructuredAttributes: Decodable {
    static let names = ["specversion", "id", "source", "type", "tenant", "subject", "time"]
    var strings: [String: String] = [:]

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: JSONKey.self)
        for name in Self.names {
            if let text = try? object.decodeIfPresent(String.self, forKey: JSONKey(name)) { strings[name] = text }
        }
    }
}
